import { createHttpApp, loadConfig, serve } from '@mast/common';
import {
  artifactDependencies,
  openArtifactStorage,
  registerArtifactSubgraph,
  registerArtifacts,
} from './plugin.js';
import { httpRunArtifactRoots } from './run-roots.js';

/** The artifact service as its own process (cluster mode): config, storage, routes, listen. */
const config = loadConfig(process.env);
const storage = await openArtifactStorage(config);
const { app } = createHttpApp({
  logLevel: config.logLevel,
  bodyLimit: config.bodyLimit,
  readinessChecks: [() => storage.ping()],
});
const runs = config.trackingUrl === undefined ? undefined : httpRunArtifactRoots(config.trackingUrl);
const deps = artifactDependencies(config, storage, runs);
await registerArtifacts(app, deps);
// The artifact subgraph at /graphql, for the gateway (not a public endpoint: limits live in the gateway).
registerArtifactSubgraph(app, deps);
const address = await serve(app, {
  host: config.host,
  port: config.port,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  onShutdown: () => storage.close(),
});
app.log.info(`artifact service listening on ${address} (artifacts: ${storage.destinationUri})`);
if (runs === undefined) {
  app.log.warn(
    'MAST_TRACKING_URL is not set: /api/2.0/mlflow/artifacts/list and /get-artifact are not served',
  );
}
