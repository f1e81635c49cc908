import { createHttpApp, type HttpApp, type MastConfig } from '@mast/common';
import { registerGraphQL } from './graphql/server.js';
import { readSupergraph, remoteGateway } from './graphql/supergraph.js';
import { registerRestProxy } from './rest-proxy.js';
import { registerServerInfo } from './server-info.js';

/** Services that serve a subgraph at `<their URL>/graphql`. */
export const SUBGRAPH_SERVICES = ['tracking', 'artifact'] as const;

/** Subgraph URLs: each subgraph service's `/graphql`, overridden by `MAST_SUBGRAPH_URLS`. */
export function subgraphUrls(config: MastConfig): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const name of SUBGRAPH_SERVICES) {
    const base = config.serviceUrls[name];
    if (base !== undefined) urls[name] = `${base.replace(/\/+$/, '')}/graphql`;
  }
  return { ...urls, ...config.subgraphUrls };
}

export interface Gateway extends HttpApp {
  close(): Promise<void>;
}

/**
 * The gateway as its own process (cluster mode): `/graphql` composed from the subgraphs over HTTP, and
 * the MLflow REST paths forwarded to the services that own them, so clients need one URL. The supergraph
 * is the one committed to the repo (built by `npm run supergraph`), another file (`MAST_SUPERGRAPH`), or
 * composed at start-up from the subgraphs themselves (`MAST_SUPERGRAPH=introspect`).
 */
export async function buildGateway(config: MastConfig): Promise<Gateway> {
  const http = createHttpApp({ logLevel: config.logLevel, bodyLimit: config.bodyLimit });
  const urls = subgraphUrls(config);
  const gateway = remoteGateway({
    subgraphUrls: urls,
    supergraphSdl:
      config.supergraph === 'introspect'
        ? undefined
        : config.supergraph === undefined
          ? readSupergraph()
          : readSupergraph(config.supergraph),
    logger: http.app.log,
  });
  registerServerInfo(http);
  await registerRestProxy(http.app, { services: config.serviceUrls });
  await registerGraphQL(http.app, gateway, {
    config: config.graphql,
    metrics: http.metrics,
    logger: http.app.log,
  });
  return { ...http, close: () => http.app.close() };
}
