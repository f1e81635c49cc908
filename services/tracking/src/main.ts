import { createHttpApp, loadConfig, openDatabase, serve } from '@mast/common';
import { prepareTrackingDatabase, registerTracking, registerTrackingSubgraph } from './plugin.js';
import type { TrackingDatabase } from './store/schema.js';

/** The tracking service as its own process (cluster mode): config, database, routes, listen. */
const config = loadConfig(process.env);
const database = await openDatabase<TrackingDatabase>({
  uri: config.backendStoreUri,
  poolSize: config.dbPoolSize,
  statementTimeoutMs: config.dbStatementTimeoutMs,
});
const deps = { db: database.db, defaultArtifactRoot: config.defaultArtifactRoot };
await prepareTrackingDatabase(deps);
const { app } = createHttpApp({
  logLevel: config.logLevel,
  bodyLimit: config.bodyLimit,
  readinessChecks: [database.ping],
});
await registerTracking(app, deps);
// The tracking subgraph at /graphql, for the gateway (not a public endpoint: limits live in the gateway).
registerTrackingSubgraph(app, { ...deps, limits: { maxPageSize: config.graphql.maxPageSize } });
const address = await serve(app, {
  host: config.host,
  port: config.port,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  onShutdown: database.close,
});
app.log.info(`tracking service listening on ${address}`);
