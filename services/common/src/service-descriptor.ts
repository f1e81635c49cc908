import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import {
  type AnyConfigFragment,
  type ComposedConfig,
  ConfigError,
  type ConfigProblem,
  type ReportProblem,
} from './config.js';
import { databaseConfig } from './config-fragments.js';
import { migrateToLatest, type ServiceMigrations } from './migrations.js';
import type { Closer, ShutdownRegistry } from './process.js';
import { createQueueConnection } from './queue/open.js';
import type { QueueConnection } from './queue/types.js';
import { API_PREFIXES } from './rpc/routes.js';

/**
 * What a service is, for everything that hosts or routes to it: the all-in-one server, a standalone
 * service process (`runService`), the cluster gateway's REST proxy and subgraph list, the supergraph
 * build and `mast db upgrade` all iterate one list of descriptors (services/gateway/src/services.ts),
 * so adding a service is its descriptor plus one entry in that list.
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of descriptors holds services of any configuration
export interface ServiceDescriptor<Config extends object = any> {
  /** The service's name: in `MAST_SERVICE_URLS`, logs and errors (`tracking`, `artifact`, ...). */
  readonly name: string;
  /**
   * The configuration fragments the service reads, besides the HTTP/process settings every process
   * reads (and the database fragment, implied by `migrations`).
   */
  readonly config: readonly AnyConfigFragment[];
  /** The Postgres schema the service owns and its migrations; absent for a service with no tables. */
  readonly migrations?: ServiceMigrations;
  /** The REST paths the service owns, which the cluster gateway forwards to it. */
  readonly rest: {
    /**
     * Path prefixes under every API prefix (`/api/2.0`, `/ajax-api/2.0`, `/api/2.0/preview`): `/mlflow/runs/`.
     * A `*` segment stands for any one path segment, so a service can own paths under another's prefix
     * (the artifact service owns `/mlflow/logged-models/{model_id}/artifacts/`, written with `*` for
     * `{model_id}`; the longer route wins, see `restRoutes`).
     */
    readonly apiPaths: readonly string[];
    /** Absolute path prefixes outside the API prefixes: `/get-artifact`, `/api/3.0/mlflow/`. */
    readonly paths?: readonly string[];
  };
  /** The service's Federation 2 subgraph, when it has one (its schema comes from `create`). */
  readonly subgraph?: { readonly name: string; typeDefs(): DocumentNode };
  /**
   * Checks of the configuration that need no I/O beyond what zod does (URIs that must parse, settings
   * that go together), run by every host right after loading it, before the port check and any
   * database work. Reports each problem; the host turns them into one ConfigError.
   */
  checkConfig?(config: Config, report: ReportProblem): void;
  /** Builds the service from the process's shared dependencies. */
  create(context: ServiceContext<Config>): Promise<ServiceInstance>;
}

/**
 * How a service reaches another one: on the same app (all-in-one) or at a base URL (cluster; a path in
 * it, such as the peer's `--static-prefix`, is kept). `basePath` is the app's `--static-prefix`
 * (`/mlflow`; unset: none): its routes answer only under it, injected requests included.
 */
export type PeerLink =
  | { kind: 'in-process'; app: FastifyInstance; basePath?: string }
  | { kind: 'http'; url: string };

/** The dependencies a process hands each service it hosts. */
export interface ServiceContext<Config extends object = object> {
  /** The process's configuration (at least the service's fragments). */
  config: Config;
  /** The process's database pool, migrated; present when the service has migrations. */
  db?: Kysely<unknown>;
  logger: FastifyBaseLogger;
  /** The process's Prometheus registry (served at `/metrics`): where a service registers its own metrics. */
  metrics: Registry;
  /**
   * Another service: `in-process` when it is registered on the same app (the all-in-one server),
   * `undefined` when this process does not know where it is (the service then falls back to its own
   * settings, e.g. `MAST_TRACKING_URL`).
   */
  peer(name: string): PeerLink | undefined;
  /**
   * The process's job queues: BullMQ on `REDIS_URL`, in this process's memory when it is unset (one
   * connection per process, opened on first call and closed on shutdown). A service that uses it lists
   * `redisConfig` among its fragments.
   */
  queue(): QueueConnection;
}

/** What a built service hands its process to register. */
export interface ServiceInstance {
  /** Registers the service's REST routes (MLflow RPCs) on an app. */
  registerRest?(app: FastifyInstance): Promise<void>;
  /** The executable subgraph (in-process for the all-in-one gateway, at `/graphql` standalone). */
  subgraph?: GraphQLSchema;
  /** Checks `/ready` runs (besides the database's ping); each rejects when a dependency is down. */
  readinessChecks?: Array<() => Promise<void>>;
  /** Resources to close on shutdown (in reverse order, after the HTTP server stopped). */
  closers?: Closer[];
  /** Features `/api/3.0/mlflow/server-info` advertises. */
  capabilities?: { multipartUploads?: boolean };
  /** Warnings to log once the process runs (e.g. routes not served for lack of a setting). */
  warnings?: string[];
}

/** Declares a service descriptor, typing its `create` context from its configuration fragments. */
export function defineService<const F extends readonly AnyConfigFragment[]>(
  descriptor: Omit<ServiceDescriptor<ComposedConfig<F>>, 'config'> & { config: F },
): ServiceDescriptor<ComposedConfig<F>> {
  return descriptor;
}

/** The configuration a service's `create` reads. */
export type ServiceConfig<S> = S extends ServiceDescriptor<infer C> ? C : never;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** The configuration a list of services reads, together. */
export type ServicesConfig<S extends readonly ServiceDescriptor[]> = UnionToIntersection<
  ServiceConfig<S[number]>
> &
  object;

/** The fragments a list of services reads (each once; the database's when one has migrations). */
export function serviceConfigFragments(descriptors: readonly ServiceDescriptor[]): AnyConfigFragment[] {
  const fragments = new Set<AnyConfigFragment>();
  for (const descriptor of descriptors) {
    if (descriptor.migrations !== undefined) fragments.add(databaseConfig);
    for (const fragment of descriptor.config) fragments.add(fragment);
  }
  return [...fragments];
}

/**
 * Runs the services' `checkConfig`, collecting every problem into one ConfigError (naming the flag
 * that set a variable, as `loadConfig` does).
 */
export function checkServicesConfig(
  descriptors: readonly ServiceDescriptor[],
  config: object,
  sources: Record<string, string> = {},
): void {
  const problems: ConfigProblem[] = [];
  for (const descriptor of descriptors) {
    descriptor.checkConfig?.(config, (variable, message) =>
      problems.push({ variable, source: sources[variable] ?? variable, message }),
    );
  }
  if (problems.length > 0) throw ConfigError.of(problems);
}

/** Migrates every service that has a schema, in list order; the migrations applied, by service. */
export async function migrateServices(
  db: Kysely<unknown>,
  descriptors: readonly ServiceDescriptor[],
): Promise<Array<{ service: string; schema: string; applied: string[] }>> {
  const results = [];
  for (const descriptor of descriptors) {
    if (descriptor.migrations === undefined) continue;
    const applied = await migrateToLatest(db, descriptor.migrations);
    results.push({ service: descriptor.name, schema: descriptor.migrations.schema, applied });
  }
  return results;
}

/** A REST path prefix and the service that owns it. */
export interface RestRoute {
  /** A path prefix; a `*` in it matches one path segment. */
  prefix: string;
  service: string;
}

const routePatterns = new Map<string, RegExp>();

/** Whether a request path (with its query string, if any) starts with a route's prefix. */
export function routeMatches(route: RestRoute, path: string): boolean {
  if (!route.prefix.includes('*')) return path.startsWith(route.prefix);
  let pattern = routePatterns.get(route.prefix);
  if (pattern === undefined) {
    const literal = route.prefix.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    pattern = new RegExp(`^${literal.join('[^/?#]+')}`);
    routePatterns.set(route.prefix, pattern);
  }
  return pattern.test(path);
}

/**
 * Every REST path prefix the services own: their API paths under each API prefix, and their absolute
 * paths, longest first (so `/api/2.0/mlflow/artifacts/` wins over a shorter `/api/2.0/mlflow/`, and
 * `/api/2.0/mlflow/logged-models/{model_id}/artifacts/` over `/api/2.0/mlflow/logged-models`).
 */
export function restRoutes(descriptors: readonly ServiceDescriptor[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const descriptor of descriptors) {
    for (const path of descriptor.rest.apiPaths) {
      for (const prefix of API_PREFIXES)
        routes.push({ prefix: `${prefix}${path}`, service: descriptor.name });
    }
    for (const path of descriptor.rest.paths ?? []) routes.push({ prefix: path, service: descriptor.name });
  }
  return routes.sort((a, b) => b.prefix.length - a.prefix.length);
}

/** The service that owns a request path (longest prefix), if any. */
export function owningService(routes: readonly RestRoute[], path: string): string | undefined {
  let best: RestRoute | undefined;
  for (const route of routes) {
    if (routeMatches(route, path) && (best === undefined || route.prefix.length > best.prefix.length))
      best = route;
  }
  return best?.service;
}

/** A service built and registered on an app. */
export interface HostedService {
  descriptor: ServiceDescriptor;
  instance: ServiceInstance;
  /** The routes its `registerRest` registered (what the cluster gateway must forward to it). */
  routes: Array<{ method: string | string[]; url: string }>;
}

export interface HostServicesOptions {
  app: FastifyInstance;
  /** The process's Prometheus registry (`createHttpApp().metrics`). */
  metrics: Registry;
  config: object;
  db?: Kysely<unknown>;
  peer(name: string): PeerLink | undefined;
  /** The process's queue connection (see `ServiceContext.queue`). */
  queue(): QueueConnection;
  /** Receives each service's closers as soon as it is built. */
  onCloser(closer: Closer): void;
  /** Receives each service's readiness checks. */
  onReadinessCheck(check: () => Promise<void>): void;
}

/**
 * Builds the services in list order and registers their REST routes on the app; returns them with
 * their subgraphs for the caller to serve (composed in-process, or at `/graphql` standalone).
 */
export async function hostServices(
  descriptors: readonly ServiceDescriptor[],
  options: HostServicesOptions,
): Promise<HostedService[]> {
  const hosted: HostedService[] = [];
  let registering: HostedService['routes'] | undefined;
  options.app.addHook('onRoute', (route) => {
    registering?.push({ method: route.method, url: route.url });
  });
  for (const descriptor of descriptors) {
    const instance = await descriptor.create({
      config: options.config,
      db: descriptor.migrations === undefined ? undefined : options.db,
      logger: options.app.log,
      metrics: options.metrics,
      peer: options.peer,
      queue: options.queue,
    });
    for (const closer of instance.closers ?? []) options.onCloser(closer);
    for (const check of instance.readinessChecks ?? []) options.onReadinessCheck(check);
    const routes: HostedService['routes'] = [];
    registering = routes;
    try {
      await instance.registerRest?.(options.app);
    } finally {
      registering = undefined;
    }
    hosted.push({ descriptor, instance, routes });
  }
  return hosted;
}

/**
 * The process's queue connection, opened on first use from the composed configuration's `redisUrl`
 * (Redis when set, in-process otherwise) and registered for shutdown. Throws when the process did not
 * read the Redis fragment, so a service cannot silently get an in-process queue in a cluster.
 */
export function lazyQueue(
  config: object,
  shutdown: ShutdownRegistry,
  onError?: (error: Error) => void,
): () => QueueConnection {
  let connection: QueueConnection | undefined;
  return () => {
    if (connection !== undefined) return connection;
    if (!('redisUrl' in config))
      throw new Error('This process does not read REDIS_URL: add redisConfig to the service descriptor.');
    connection = createQueueConnection({ redisUrl: config.redisUrl as string | undefined, onError });
    const opened = connection;
    shutdown.add('queue connection', () => opened.close());
    return connection;
  };
}
