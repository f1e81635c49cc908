import { ConfigError, loadConfig, serve } from '@mast/common';
import { buildGateway } from './cluster.js';

/** The gateway as its own process (cluster mode): config → gateway → listen. */
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
const gateway = await buildGateway(config);
const address = await serve(gateway.app, {
  host: config.host,
  port: config.port,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
  onShutdown: gateway.close,
});
gateway.app.log.info(
  `gateway listening on ${address} (services: ${JSON.stringify(config.serviceUrls)}, supergraph: ${config.supergraph ?? 'committed'})`,
);
