import {
  createHttpApp,
  type GatewayClusterConfig,
  type GraphQLConfig,
  type HttpApp,
  type HttpConfig,
  httpAppOptions,
  ReadinessFailure,
} from '@mast/common';
import { registerGraphQL } from './graphql/server.js';
import { readSupergraph, remoteGateway } from './graphql/supergraph.js';
import { registerRestProxy } from './rest-proxy.js';
import { registerServerInfo } from './server-info.js';
import { SERVICES } from './services.js';
import { registerWebUi } from './web-ui.js';

/** What the gateway process reads (`loadConfig(env, GATEWAY_CONFIG)`): no database, no storage. */
export type GatewayConfig = HttpConfig & { graphql: GraphQLConfig } & GatewayClusterConfig;

/** Services that serve a subgraph at `<their URL>/graphql`, from the descriptors. */
export const SUBGRAPH_SERVICES: readonly string[] = SERVICES.flatMap((service) =>
  service.subgraph === undefined ? [] : [service.name],
);

/** Subgraph URLs by subgraph name: each subgraph service's `/graphql`, overridden by `MAST_SUBGRAPH_URLS`. */
export function subgraphUrls(config: GatewayClusterConfig): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const service of SERVICES) {
    const base = config.serviceUrls[service.name];
    if (service.subgraph !== undefined && base !== undefined)
      urls[service.subgraph.name] = `${base.replace(/\/+$/, '')}/graphql`;
  }
  return { ...urls, ...config.subgraphUrls };
}

/**
 * The gateway's readiness: each service it routes to answers its own `/ready` within 2 s. A failure
 * names the services that are down (not their URLs).
 */
export function serviceReadinessChecks(config: GatewayClusterConfig): Array<() => Promise<void>> {
  const entries = Object.entries(config.serviceUrls);
  if (entries.length === 0) return [];
  return [
    async () => {
      const down: string[] = [];
      await Promise.all(
        entries.map(async ([name, url]) => {
          try {
            const response = await fetch(`${url.replace(/\/+$/, '')}/ready`, {
              signal: AbortSignal.timeout(2000),
            });
            await response.body?.cancel();
            if (!response.ok) down.push(`${name} (not ready)`);
          } catch {
            down.push(`${name} (unreachable)`);
          }
        }),
      );
      if (down.length > 0) throw new ReadinessFailure(`services down: ${down.sort().join(', ')}`);
    },
  ];
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
export async function buildGateway(config: GatewayConfig): Promise<Gateway> {
  const http = createHttpApp(httpAppOptions(config, { readinessChecks: serviceReadinessChecks(config) }));
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
  await registerWebUi(http.app, { staticPrefix: config.staticPrefix });
  return { ...http, close: () => http.app.close() };
}
