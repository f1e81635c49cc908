import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyConfigFragment, LoadConfigOptions } from './config.js';
import {
  type DatabaseConfig,
  type HttpConfig,
  httpConfig,
  loadConfig,
  type RedisConfig,
  redisConfig,
} from './config-fragments.js';
import {
  type Database,
  describeBackendStore,
  openDatabase,
  parseBackendStoreUri,
  waitForDatabase,
} from './database.js';
import { registerSubgraphEndpoint } from './graphql/subgraph-endpoint.js';
import { createHttpApp, httpAppOptions, listen, ReadinessFailure } from './http.js';
import { assertPortBindable, holdPort, runProcess, type ShutdownRegistry, StartupError } from './process.js';
import { RedisQueueConnection } from './queue/redis-connection.js';
import type { QueueConnection } from './queue/types.js';
import { redactSecrets } from './secrets.js';
import {
  checkServicesConfig,
  hostServices,
  lazyQueue,
  migrateServices,
  type ServiceDescriptor,
  serviceConfigFragments,
} from './service-descriptor.js';

/** How long start-up waits for PostgreSQL and Redis when the configuration does not say. */
const DEFAULT_STARTUP_TIMEOUT_MS = 300_000;

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
  // PGlite writes PG_VERSION when it creates a database (its initdb: the slow first start).
  const exists = store.kind === 'pglite' && existsSync(join(store.dataDir, 'PG_VERSION'));
  log(
    store.kind === 'postgres'
      ? `connecting to PostgreSQL at ${describeBackendStore(config.backendStoreUri)}`
      : exists
        ? `opening the embedded database in ${store.dataDir}`
        : `creating the embedded database in ${store.dataDir} (first start: 10-40 s)`,
  );
  const database = await openDatabase<unknown>({
    uri: config.backendStoreUri,
    poolSize: config.dbPoolSize,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    onIdleError: (error) => log(`an idle database connection was closed: ${redactSecrets(error.message)}`),
  });
  shutdown.add('database pool', database.close);
  if (store.kind === 'postgres') {
    const port = portHolder(options.holdPort, 'the database');
    try {
      await waitForDatabase(database, {
        timeoutMs: config.dbStartupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS,
        onRetry: (attempt, delayMs, error) => {
          log(
            `PostgreSQL at ${database.location} is not reachable (attempt ${attempt}: ${redactSecrets((error as Error).message || String((error as { code?: string }).code ?? error))}); retrying in ${delayMs / 1000} s`,
          );
          port.hold();
        },
      });
    } finally {
      await port.release();
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

/** Holds an address with `holdPort`'s stand-in from the first `hold()` until `release()`. */
function portHolder(address: { host: string; port: number } | undefined, waitingFor: string) {
  let holding: Promise<(() => Promise<void>) | undefined> | undefined;
  return {
    hold: () => {
      if (holding === undefined && address !== undefined)
        holding = holdPort(address.host, address.port, waitingFor).catch(() => undefined);
    },
    release: async () => {
      const close = await holding;
      await close?.();
    },
  };
}

/** The process's job queues (`ServiceContext.queue`) and, on Redis, `/ready`'s check of it. */
export interface ServicesQueue {
  queue(): QueueConnection;
  readinessCheck?: () => Promise<void>;
}

export interface OpenServicesQueueOptions {
  /** Where queue lines go: Redis unreachable (one per reconnect attempt), queue and worker errors. */
  log: (message: string) => void;
  /** While Redis is unreachable at start-up, answer on this address (`/ready` 503, other paths 503). */
  holdPort?: { host: string; port: number };
  /** How long start-up waits for Redis before giving up (default 300 s). */
  timeoutMs?: number;
}

/**
 * The process's queue connection (see `lazyQueue`). When one of the services uses the queue and
 * `REDIS_URL` is set, it connects now and waits for Redis as `openServicesDatabase` waits for
 * PostgreSQL: one line per reconnect attempt (0.5 s doubling to 10 s), the port held with a stand-in
 * meanwhile, a StartupError after `timeoutMs`; once running, `/ready` fails while Redis is down.
 */
export async function openServicesQueue(
  shutdown: ShutdownRegistry,
  config: Partial<RedisConfig>,
  descriptors: readonly ServiceDescriptor[],
  options: OpenServicesQueueOptions,
): Promise<ServicesQueue> {
  const queue = lazyQueue(config, shutdown, (error) => options.log(`queue: ${redactSecrets(error.message)}`));
  if (config.redisUrl === undefined || !descriptors.some((d) => d.config.includes(redisConfig)))
    return { queue };
  const connection = queue();
  if (!(connection instanceof RedisQueueConnection)) return { queue };
  const port = portHolder(options.holdPort, 'Redis');
  try {
    await connection.waitUntilConnected(options.timeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS, port.hold);
  } catch (error) {
    throw new StartupError((error as Error).message);
  } finally {
    await port.release();
  }
  // With Redis down at shutdown, whatever waits on it (the outbox relay's publish, a worker's close)
  // would wait out the shutdown timeout: drop the connection first, so that those calls fail now.
  shutdown.addFirst('queue connection, if Redis is down', () =>
    connection.connected ? undefined : connection.close(),
  );
  return {
    queue,
    readinessCheck: async () => {
      if (!connection.connected) throw new ReadinessFailure('the job queue (Redis) is unreachable');
    },
  };
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
      Partial<DatabaseConfig> &
      Partial<RedisConfig>;
    context.shutdownTimeoutMs = config.shutdownTimeoutMs;
    checkServicesConfig([descriptor], config, options.loadOptions?.sources);
    await assertPortBindable(config.host, config.port);
    const database = await openServicesDatabase(context.shutdown, config, [descriptor], {
      log: (message) => context.logger.info(message),
      holdPort: { host: config.host, port: config.port },
    });
    const readinessChecks: Array<() => Promise<void>> = database ? [database.ping] : [];
    const { app, metrics } = createHttpApp(httpAppOptions(config, { readinessChecks }));
    const { queue, readinessCheck } = await openServicesQueue(context.shutdown, config, [descriptor], {
      log: (message) => app.log.warn(message),
      holdPort: { host: config.host, port: config.port },
      timeoutMs: config.dbStartupTimeoutMs,
    });
    if (readinessCheck !== undefined) readinessChecks.push(readinessCheck);
    const [hosted] = await hostServices([descriptor], {
      app,
      metrics,
      config,
      db: database?.db,
      peer: () => undefined,
      queue,
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
