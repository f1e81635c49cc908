import { createHttpApp, loadConfig, openDatabase, serve } from '@mast/common';
import { prepareTrackingDatabase, registerTracking } from './plugin.js';
import type { TrackingDatabase } from './store/schema.js';

/** The tracking service as its own process (cluster mode): config, database, routes, listen. */
const config = loadConfig(process.env);
const database = await openDatabase<TrackingDatabase>({
  uri: config.backendStoreUri,
  poolSize: config.dbPoolSize,
});
const deps = { db: database.db, defaultArtifactRoot: config.defaultArtifactRoot };
await prepareTrackingDatabase(deps);
const { app } = createHttpApp({
  logLevel: config.logLevel,
  bodyLimit: config.bodyLimit,
  readinessChecks: [database.ping],
});
await registerTracking(app, deps);
await serve(app, {
  host: config.host,
  port: config.port,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  onShutdown: database.close,
});
