import { assertPortBindable, listen, loadConfig, redactSecrets, runProcess } from '@mast/common';
import { buildGateway, checkGatewayConfig } from './cluster.js';
import { GATEWAY_CONFIG } from './services.js';

/**
 * The gateway as its own process (cluster mode): config → its check → port check → gateway (waiting for
 * the subgraphs with `MAST_SUPERGRAPH=introspect`) → listen.
 */
await runProcess('gateway', async (context) => {
  const config = loadConfig(process.env, GATEWAY_CONFIG);
  context.shutdownTimeoutMs = config.shutdownTimeoutMs;
  checkGatewayConfig(config);
  await assertPortBindable(config.host, config.port);
  const gateway = await buildGateway(config);
  const address = await listen(context, gateway.app, { host: config.host, port: config.port });
  gateway.app.log.info(
    `gateway listening on ${address} (services: ${redactSecrets(JSON.stringify(config.serviceUrls))}, supergraph: ${config.supergraph ?? 'committed'})`,
  );
});
