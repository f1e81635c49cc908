import type { AnyConfigFragment, LoadConfigOptions } from './config.js';
import { type DatabaseConfig, type HttpConfig, httpConfig, loadConfig } from './config-fragments.js';
import {
  type Database,
  describeBackendStore,
  openDatabase,
  parseBackendStoreUri,
  waitForDatabase,
} from './database.js';
import { registerSubgraphEndpoint } from './graphql/subgraph-endpoint.js';
import { createHttpApp, httpAppOptions, listen } from './http.js';
import { assertPortBindable, holdPort, runProcess, type ShutdownRegistry } from './process.js';
import { redactSecrets } from './secrets.js';
import {
  checkServicesConfig,
  hostServices,
  lazyQueue,
  migrateServices,
  type ServiceDescriptor,
  serviceConfigFragments,
} from './service-descriptor.js';

/**
 * Opens the process's database when one of its services has migrations, registers its pool for
 * shutdown and migrates every such service. Undefined when no service has tables.
 */
export async function openServicesDatabase(
  shutdown: ShutdownRegistry,
  config: Partial<DatabaseConfig>,
  descriptors: readonly ServiceDescriptor[],
  options: OpenServicesDatabaseOptions = {},
): Promise<Database<unknown> | undefined> {
  if (!descriptors.some((descriptor) => descriptor.migrations !== undefined)) return undefined;
  if (config.backendStoreUri === undefined)
    throw new Error('The database configuration fragment is missing.');
  const log = options.log ?? (() => {});
  const store = parseBackendStoreUri(config.backendStoreUri);
  log(
    store.kind === 'postgres'
      ? `connecting to PostgreSQL at ${describeBackendStore(config.backendStoreUri)}`
      : `opening the embedded database in ${store.dataDir} (first start: 10-40 s)`,
  );
  const database = await openDatabase<unknown>({
    uri: config.backendStoreUri,
    poolSize: config.dbPoolSize,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onIdleError: (error) => log(`an idle database connection was closed: ${redactSecrets(error.message)}`),
  });
  shutdown.add('database pool', database.close);
  if (store.kind === 'postgres') {
    let holding: Promise<(() => Promise<void>) | undefined> | undefined;
    try {
      await waitForDatabase(database, {
        timeoutMs: config.dbStartupTimeoutMs ?? 300_000,
        onRetry: (attempt, delayMs, error) => {
          log(
            `PostgreSQL at ${database.location} is not reachable (attempt ${attempt}: ${redactSecrets((error as Error).message || String((error as { code?: string }).code ?? error))}); retrying in ${delayMs / 1000} s`,
          );
          if (holding === undefined && options.holdPort !== undefined)
            holding = holdPort(options.holdPort.host, options.holdPort.port).catch(() => undefined);
        },
      });
    } finally {
      const close = await holding;
      await close?.();
    }
  }
  log('migrating the database');
  const results = await migrateServices(database.db, descriptors);
  const applied = results.flatMap(({ service, applied }) => applied.map((name) => `${service}/${name}`));
  log(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'database schema up to date');
  return database;
}

export interface OpenServicesDatabaseOptions {
  /** Where progress lines go (opening, retrying, migrating). */
  log?: (message: string) => void;
  /** While PostgreSQL is unreachable, answer on this address (`/ready` 503, other paths 503). */
  holdPort?: { host: string; port: number };
}

export interface RunServiceOptions {
  /** The environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Extra fragments to validate (default none). */
  config?: readonly AnyConfigFragment[];
  loadOptions?: LoadConfigOptions;
}

/**
 * A service as its own process (cluster mode), from its descriptor: configuration (HTTP plus the
 * service's fragments only) → a bindable port → database and migrations → the service → its REST
 * routes and its subgraph at `/graphql` (an internal endpoint for the gateway) → listen. SIGTERM and
 * SIGINT close the server, the service's resources and the pool, in that order.
 */
export function runService(descriptor: ServiceDescriptor, options: RunServiceOptions = {}): Promise<void> {
  return runProcess(descriptor.name, async (context) => {
    const fragments = [httpConfig, ...serviceConfigFragments([descriptor]), ...(options.config ?? [])];
    const config = loadConfig(options.env ?? process.env, fragments, options.loadOptions) as HttpConfig &
      Partial<DatabaseConfig>;
    context.shutdownTimeoutMs = config.shutdownTimeoutMs;
    checkServicesConfig([descriptor], config, options.loadOptions?.sources);
    await assertPortBindable(config.host, config.port);
    const database = await openServicesDatabase(context.shutdown, config, [descriptor], {
      log: (message) => context.logger.info(message),
      holdPort: { host: config.host, port: config.port },
    });
    const readinessChecks: Array<() => Promise<void>> = database ? [database.ping] : [];
    const { app, metrics } = createHttpApp(httpAppOptions(config, { readinessChecks }));
    const [hosted] = await hostServices([descriptor], {
      app,
      metrics,
      config,
      db: database?.db,
      peer: () => undefined,
      queue: lazyQueue(config, context.shutdown, (error) => app.log.error({ err: error }, 'queue error')),
      onCloser: (closer) => context.shutdown.add(closer.name, () => closer.close()),
      onReadinessCheck: (check) => readinessChecks.push(check),
    });
    // The subgraph at /graphql, for the gateway (not a public endpoint: limits live in the gateway).
    if (hosted?.instance.subgraph !== undefined) registerSubgraphEndpoint(app, hosted.instance.subgraph);
    const address = await listen(context, app, { host: config.host, port: config.port });
    app.log.info(`${descriptor.name} service listening on ${address}`);
    for (const warning of hosted?.instance.warnings ?? []) app.log.warn(warning);
  });
}
