import {
  createHttpApp,
  type GatewayClusterConfig,
  type GraphQLConfig,
  type HttpApp,
  type HttpConfig,
  httpAppOptions,
  ReadinessFailure,
  redactSecrets,
  StartupError,
} from '@mast/common';
import { introspectSupergraph } from './graphql/introspect.js';
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

/**
 * Refuses a gateway process with nothing behind it: without service or subgraph URLs, the committed
 * supergraph's placeholder URLs and introspection lead nowhere. (`mast server` runs its subgraphs in
 * its own process and reads none of these settings.)
 */
export function checkGatewayConfig(config: GatewayClusterConfig): void {
  if (config.supergraph === 'introspect' && Object.keys(subgraphUrls(config)).length === 0)
    throw new StartupError(
      `MAST_SUPERGRAPH=introspect needs subgraphs to compose: set MAST_SERVICE_URLS (name=url pairs of ${SUBGRAPH_SERVICES.join(', ')}) or MAST_SUBGRAPH_URLS`,
    );
  if (
    config.supergraph === undefined &&
    Object.keys(config.serviceUrls).length === 0 &&
    Object.keys(config.subgraphUrls).length === 0
  )
    throw new StartupError(
      'MAST_SERVICE_URLS is not set: the gateway needs the URLs of the services it routes to, as name=url pairs (tracking=http://tracking:5000,artifact=http://artifact:5000,...)',
    );
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** A `MAST_SUPERGRAPH` file's SDL; a file that cannot be read is a StartupError naming it. */
function readSupergraphFile(path: string): string {
  try {
    return readSupergraph(path);
  } catch (error) {
    const reason = READ_ERRORS[(error as NodeJS.ErrnoException).code ?? ''] ?? (error as Error).message;
    throw new StartupError(`MAST_SUPERGRAPH: cannot read ${path}: ${reason}`);
  }
}

export interface Gateway extends HttpApp {
  close(): Promise<void>;
}

/**
 * The gateway as its own process (cluster mode): `/graphql` composed from the subgraphs over HTTP, and
 * the MLflow REST paths forwarded to the services that own them, so clients need one URL. The supergraph
 * is the one committed to the repo (built by `npm run supergraph`), another file (`MAST_SUPERGRAPH`), or
 * composed at start-up from the subgraphs themselves (`MAST_SUPERGRAPH=introspect`, waiting for those
 * that are down: `introspectSupergraph`).
 */
export async function buildGateway(config: GatewayConfig): Promise<Gateway> {
  const http = createHttpApp(httpAppOptions(config, { readinessChecks: serviceReadinessChecks(config) }));
  const urls = subgraphUrls(config);
  const supergraphSdl =
    config.supergraph === 'introspect'
      ? await introspectSupergraph(urls, (message) => http.app.log.warn(message))
      : config.supergraph === undefined
        ? readSupergraph()
        : readSupergraphFile(config.supergraph);
  const gateway = remoteGateway({ subgraphUrls: urls, supergraphSdl, logger: http.app.log });
  registerServerInfo(http);
  await registerRestProxy(http.app, { services: config.serviceUrls });
  try {
    await registerGraphQL(http.app, gateway, {
      config: config.graphql,
      metrics: http.metrics,
      logger: http.app.log,
    });
  } catch (error) {
    // Apollo validates the supergraph when the server starts: a file that is not one is the operator's.
    if (config.supergraph === undefined || config.supergraph === 'introspect') throw error;
    const reason = redactSecrets((error as Error).message.split('\n')[0]!);
    throw new StartupError(`MAST_SUPERGRAPH: ${config.supergraph} is not a valid supergraph (${reason})`);
  }
  await registerWebUi(http.app, { staticPrefix: config.staticPrefix });
  return { ...http, close: () => http.app.close() };
}
