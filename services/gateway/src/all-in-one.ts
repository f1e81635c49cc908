import {
  checkServicesConfig,
  createHttpApp,
  type GraphQLConfig,
  type HostedService,
  type HttpApp,
  type HttpConfig,
  hostServices,
  httpAppOptions,
  openServicesDatabase,
  openServicesQueue,
  type RedisConfig,
  ShutdownRegistry,
} from '@mast/common';
import { registerGraphQL } from './graphql/server.js';
import { inProcessGateway, type LocalSubgraph } from './graphql/supergraph.js';
import { registerServerInfo } from './server-info.js';
import { SERVICES, type ServicesSettings } from './services.js';
import { registerWebUi } from './web-ui.js';

/** What the all-in-one server reads (`loadConfig(env, ALL_IN_ONE_CONFIG)`). */
export type AllInOneConfig = HttpConfig & { graphql: GraphQLConfig } & RedisConfig & ServicesSettings;

export interface AllInOneOptions {
  /**
   * Where the server registers what it opens (database pool, artifact store, ...) for shutdown: the
   * process's registry under `runProcess`; its own otherwise (closed by `close()`).
   */
  shutdown?: ShutdownRegistry;
  /** The services to host (default SERVICES; `--artifacts-only`: the artifact service alone). */
  services?: typeof SERVICES | readonly (typeof SERVICES)[number][];
  /** Progress lines of start-up (opening the database, retrying, migrating). */
  log?: (message: string) => void;
  /** While PostgreSQL or Redis is unreachable at start-up, answer 503 on this address. */
  holdPort?: { host: string; port: number };
  /** Check Host headers with MLflow 3's default (localhost, private addresses) when none are configured. */
  checkHostsByDefault?: boolean;
  /** Serve the federated `/graphql` (default true; off for `--artifacts-only`). */
  graphql?: boolean;
}

export interface AllInOne extends HttpApp {
  /** The services built from SERVICES, with the routes each registered. */
  services: HostedService[];
  /** Closes the app, then what the services opened, then the database pool. */
  close(): Promise<void>;
}

/**
 * The all-in-one process (`mast server`): every service in SERVICES built from its descriptor and
 * registered on one Fastify app and one port, sharing one database pool (each service migrating its
 * own schema), plus the federated GraphQL API at `/graphql` with every subgraph executed in-process.
 * Services reach each other on the same app. The composition root for the embedded default.
 */
export async function buildAllInOne(
  config: AllInOneConfig,
  options: AllInOneOptions = {},
): Promise<AllInOne> {
  const services = options.services ?? SERVICES;
  checkServicesConfig(services, config);
  const shutdown = options.shutdown ?? new ShutdownRegistry();
  try {
    const database = await openServicesDatabase(shutdown, config, services, {
      log: options.log,
      holdPort: options.holdPort,
    });
    const readinessChecks: Array<() => Promise<void>> = database ? [database.ping] : [];
    const http = createHttpApp(
      httpAppOptions(config, { readinessChecks, checkHostsByDefault: options.checkHostsByDefault }),
    );
    const { queue, readinessCheck } = await openServicesQueue(shutdown, config, services, {
      log: (message) => http.app.log.warn(message),
      holdPort: options.holdPort,
      timeoutMs: config.dbStartupTimeoutMs,
    });
    if (readinessCheck !== undefined) readinessChecks.push(readinessCheck);
    const names = new Set(services.map((service) => service.name));
    const hosted = await hostServices(services, {
      app: http.app,
      metrics: http.metrics,
      config,
      db: database?.db,
      // Requests on the app go through its --static-prefix as outside ones do.
      peer: (name) =>
        names.has(name) ? { kind: 'in-process', app: http.app, basePath: config.staticPrefix } : undefined,
      queue,
      onCloser: (closer) => shutdown.add(closer.name, () => closer.close()),
      onReadinessCheck: (check) => readinessChecks.push(check),
    });
    registerServerInfo(http, {
      multipartUploads: hosted.some(({ instance }) => instance.capabilities?.multipartUploads === true),
    });
    // GraphQL: the subgraphs composed and executed in this process (no HTTP hop).
    const subgraphs: LocalSubgraph[] = hosted.flatMap(({ descriptor, instance }) =>
      descriptor.subgraph === undefined || instance.subgraph === undefined
        ? []
        : [
            {
              name: descriptor.subgraph.name,
              typeDefs: descriptor.subgraph.typeDefs(),
              schema: instance.subgraph,
            },
          ],
    );
    if (options.graphql !== false)
      await registerGraphQL(http.app, inProcessGateway(subgraphs), {
        config: config.graphql,
        metrics: http.metrics,
        logger: http.app.log,
      });
    // The web UI talks to /graphql only: served where GraphQL is.
    if (options.graphql !== false) await registerWebUi(http.app, { staticPrefix: config.staticPrefix });
    for (const { instance } of hosted)
      for (const warning of instance.warnings ?? []) http.app.log.warn(warning);
    return {
      ...http,
      services: hosted,
      close: async () => {
        await http.app.close();
        await shutdown.closeAll();
      },
    };
  } catch (error) {
    if (options.shutdown === undefined) await shutdown.closeAll();
    throw error;
  }
}
