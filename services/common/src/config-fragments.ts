import {
  type AnyConfigFragment,
  type ComposedConfig,
  commaList,
  composeConfig,
  configFragment,
  integer,
  type LoadConfigOptions,
  namePairs,
  nonNegativeInteger,
  oneOf,
  optionalBoolean,
  optionalString,
  positiveInteger,
  stringWithDefault,
} from './config.js';
import { parseBackendStoreUri } from './database.js';
import { DEFAULT_EXPENSIVE_REQUEST_LIMITS, type ExpensiveRequestLimits } from './rpc/expensive-requests.js';
import { redactSecrets } from './secrets.js';

/**
 * Mast's configuration fragments. The README's configuration table documents every variable; each
 * process composes the fragments it reads (see `loadConfig`).
 */

export const DEFAULT_BACKEND_STORE_URI = './mast-data/db';
export const DEFAULT_ARTIFACTS_DESTINATION = './mast-data/artifacts';

/** HTTP and process settings: every process that listens reads them. */
export interface HttpConfig {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest JSON request body accepted, in bytes. */
  bodyLimit: number;
  /** How long shutdown may take (draining requests, closing pools) before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Admission control of the expensive RPCs (searches, histories, listings). */
  expensiveRequests: ExpensiveRequestLimits;
  /** `--static-prefix`: every route served under this path (`/mlflow`); '' for none. */
  staticPrefix: string;
  /**
   * `--allowed-hosts`: Host headers accepted (DNS-rebinding protection, as MLflow 3.5+); patterns may
   * use `*` (`*.example.com`, `192.168.*`, `*` for any). Undefined: MLflow's default, localhost and
   * private addresses.
   */
  allowedHosts?: string[];
}

export const httpConfig = configFragment(
  'http',
  {
    MAST_HOST: stringWithDefault('127.0.0.1'),
    MAST_PORT: integer(5000, { min: 1, max: 65535, expected: 'a port number (1-65535)' }),
    MAST_LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    MAST_BODY_LIMIT: positiveInteger(32 * 1024 * 1024),
    MAST_SHUTDOWN_TIMEOUT: positiveInteger(10),
    MAST_EXPENSIVE_REQUEST_CONCURRENCY: positiveInteger(DEFAULT_EXPENSIVE_REQUEST_LIMITS.concurrency),
    MAST_EXPENSIVE_REQUEST_QUEUE: nonNegativeInteger(DEFAULT_EXPENSIVE_REQUEST_LIMITS.queueSize),
    MAST_STATIC_PREFIX: optionalString,
    MAST_ALLOWED_HOSTS: optionalString,
    MLFLOW_SERVER_ALLOWED_HOSTS: optionalString,
  },
  (e, report): HttpConfig => {
    let staticPrefix = (e.MAST_STATIC_PREFIX ?? '').replace(/\/+$/, '');
    if (staticPrefix !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(staticPrefix)) {
      report('MAST_STATIC_PREFIX', `expected a path starting with '/', got '${e.MAST_STATIC_PREFIX}'`);
      staticPrefix = '';
    }
    const hosts = e.MAST_ALLOWED_HOSTS ?? e.MLFLOW_SERVER_ALLOWED_HOSTS;
    return {
      host: e.MAST_HOST,
      port: e.MAST_PORT,
      logLevel: e.MAST_LOG_LEVEL,
      bodyLimit: e.MAST_BODY_LIMIT,
      shutdownTimeoutMs: e.MAST_SHUTDOWN_TIMEOUT * 1000,
      expensiveRequests: {
        concurrency: e.MAST_EXPENSIVE_REQUEST_CONCURRENCY,
        queueSize: e.MAST_EXPENSIVE_REQUEST_QUEUE,
      },
      staticPrefix,
      allowedHosts: hosts === undefined ? undefined : commaList(hosts),
    };
  },
);

/** The database: a PostgreSQL server or the embedded PGlite directory. */
export interface DatabaseConfig {
  /** `postgresql://…`, or a directory (or `memory://`) for the embedded PGlite database. */
  backendStoreUri: string;
  dbPoolSize: number;
  /** PostgreSQL cancels a statement after this long (a runaway search must not hold a core). */
  dbStatementTimeoutMs: number;
  /** How long start-up waits for PostgreSQL to answer (retrying with backoff) before giving up. */
  dbStartupTimeoutMs: number;
}

export const databaseConfig = configFragment(
  'database',
  {
    MAST_BACKEND_STORE_URI: optionalString,
    DATABASE_URL: optionalString,
    MAST_DB_POOL_SIZE: positiveInteger(20),
    MAST_DB_STATEMENT_TIMEOUT: positiveInteger(300),
    MAST_DB_STARTUP_TIMEOUT: nonNegativeInteger(300),
  },
  (e, report): DatabaseConfig => {
    const backendStoreUri = e.MAST_BACKEND_STORE_URI ?? e.DATABASE_URL ?? DEFAULT_BACKEND_STORE_URI;
    try {
      parseBackendStoreUri(backendStoreUri);
    } catch (error) {
      report(
        e.MAST_BACKEND_STORE_URI !== undefined || e.DATABASE_URL === undefined
          ? 'MAST_BACKEND_STORE_URI'
          : 'DATABASE_URL',
        (error as Error).message,
      );
    }
    return {
      backendStoreUri,
      dbPoolSize: e.MAST_DB_POOL_SIZE,
      dbStatementTimeoutMs: e.MAST_DB_STATEMENT_TIMEOUT * 1000,
      dbStartupTimeoutMs: e.MAST_DB_STARTUP_TIMEOUT * 1000,
    };
  },
);

/**
 * Where artifacts live, as both tracking (new experiments' artifact location) and the artifact service
 * (the proxy's destination) see it.
 */
export interface ArtifactLocationConfig {
  /** Root of new experiments' artifact locations. */
  defaultArtifactRoot: string;
  /** Root of the artifact proxy: a local directory or `s3://bucket/prefix`. */
  artifactsDestination: string;
  /** MLflow's `--serve-artifacts`: whether the `mlflow-artifacts` proxy routes serve. */
  serveArtifacts: boolean;
}

export const artifactLocationConfig = configFragment(
  'artifact-location',
  {
    /** Unset: `mlflow-artifacts:/` when the proxy serves artifacts, else the artifacts destination. */
    MAST_DEFAULT_ARTIFACT_ROOT: optionalString,
    MAST_ARTIFACTS_DESTINATION: stringWithDefault(DEFAULT_ARTIFACTS_DESTINATION),
    MAST_SERVE_ARTIFACTS: optionalBoolean,
  },
  (e): ArtifactLocationConfig => {
    const serveArtifacts = e.MAST_SERVE_ARTIFACTS ?? true;
    return {
      defaultArtifactRoot:
        e.MAST_DEFAULT_ARTIFACT_ROOT ??
        (serveArtifacts ? 'mlflow-artifacts:/' : e.MAST_ARTIFACTS_DESTINATION),
      artifactsDestination: e.MAST_ARTIFACTS_DESTINATION,
      serveArtifacts,
    };
  },
);

/** The artifact service's own settings. */
export interface ArtifactConfig {
  /** Largest single artifact upload, in bytes (default 5 TiB, S3's object limit). */
  artifactMaxUploadBytes: number;
  /** Direct roots (besides the destination and a direct default artifact root) that may be read. */
  artifactAllowedRoots: string[];
  /** Tracking service base URL, for an artifact service running as its own process. */
  trackingUrl?: string;
}

export const artifactConfig = configFragment(
  'artifact',
  {
    MAST_ARTIFACT_MAX_UPLOAD_BYTES: positiveInteger(5 * 1024 ** 4),
    MAST_ARTIFACT_ALLOWED_ROOTS: optionalString,
    MAST_TRACKING_URL: optionalString,
  },
  (e): ArtifactConfig => ({
    artifactMaxUploadBytes: e.MAST_ARTIFACT_MAX_UPLOAD_BYTES,
    artifactAllowedRoots: commaList(e.MAST_ARTIFACT_ALLOWED_ROOTS),
    trackingUrl: e.MAST_TRACKING_URL,
  }),
);

/** How Mast reaches S3-compatible object storage (the `minio` client's settings). */
export interface S3Config {
  endpointUrl?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region: string;
  /** Unset: path style with a custom endpoint, virtual-host style on AWS. */
  pathStyle?: boolean;
  presignedDownloads: boolean;
  timeoutMs: number;
  partSize: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

export const s3Config = configFragment(
  's3',
  {
    MAST_S3_ENDPOINT_URL: optionalString,
    MLFLOW_S3_ENDPOINT_URL: optionalString,
    AWS_ACCESS_KEY_ID: optionalString,
    AWS_SECRET_ACCESS_KEY: optionalString,
    AWS_SESSION_TOKEN: optionalString,
    AWS_REGION: optionalString,
    AWS_DEFAULT_REGION: optionalString,
    MAST_S3_PATH_STYLE: optionalBoolean,
    MAST_S3_PRESIGNED_DOWNLOADS: optionalBoolean,
    MAST_S3_TIMEOUT: positiveInteger(30),
    MAST_S3_PART_SIZE: integer(8 * 1024 * 1024, {
      min: MIN_PART_SIZE,
      expected: "a part size of at least 5 MiB (5242880), S3's smallest part",
    }),
  },
  (e): { s3: S3Config } => ({
    s3: {
      endpointUrl: e.MAST_S3_ENDPOINT_URL ?? e.MLFLOW_S3_ENDPOINT_URL,
      accessKeyId: e.AWS_ACCESS_KEY_ID,
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
      sessionToken: e.AWS_SESSION_TOKEN,
      region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
      pathStyle: e.MAST_S3_PATH_STYLE,
      presignedDownloads: e.MAST_S3_PRESIGNED_DOWNLOADS ?? false,
      timeoutMs: e.MAST_S3_TIMEOUT * 1000,
      partSize: e.MAST_S3_PART_SIZE,
    },
  }),
);

/** Redis, for the job queue: unset means jobs run in-process (the embedded default). */
export interface RedisConfig {
  /** `redis://` or `rediss://` URL; unset: the in-process queue. */
  redisUrl?: string;
}

/** What is wrong with a Redis URL (ioredis would fail on it later, or connect elsewhere), or undefined. */
function redisUrlProblem(value: string): string | undefined {
  const expected = 'expected a redis:// or rediss:// URL';
  const scheme = /^rediss?:\/\//i.exec(value)?.[0];
  if (scheme === undefined) return expected;
  // After the last '@': a password may hold any character, a host and a path never hold '@'.
  const rest = value.slice(Math.max(scheme.length, value.lastIndexOf('@') + 1));
  const hostPort = /^[^/?#]*/.exec(rest)![0];
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && +port >= 1 && +port <= 65535))
    return `the port '${port}' is not a number from 1 to 65535`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  if (url.hostname === '') return `${expected}: the host is missing`;
  if (!/^\/?\d*$/.test(url.pathname)) return `the database '${url.pathname.slice(1)}' is not a number`;
  return undefined;
}

/** A URL as it may be printed: everything between `//` and the last `@` (user, password) masked. */
function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1***@');
}

export const redisConfig = configFragment(
  'redis',
  { REDIS_URL: optionalString },
  (e, report): RedisConfig => {
    const problem = e.REDIS_URL === undefined ? undefined : redisUrlProblem(e.REDIS_URL);
    if (problem !== undefined)
      report('REDIS_URL', `${problem}, got '${redactSecrets(withoutCredentials(e.REDIS_URL!))}'`);
    return { redisUrl: e.REDIS_URL };
  },
);

/** The GraphQL API's limits and HTTP behaviour (gateway and subgraphs). */
export interface GraphQLConfig {
  introspection: boolean;
  maxDepth: number;
  maxCost: number;
  maxPageSize: number;
  /** Seconds; 0 means GET responses are `no-cache` (revalidated with their ETag). */
  cacheMaxAge: number;
  /** Origins allowed by CORS; `['*']` for any, `[]` for none. */
  corsOrigins: string[];
}

export const graphqlConfig = configFragment(
  'graphql',
  {
    MAST_GRAPHQL_INTROSPECTION: optionalBoolean,
    MAST_GRAPHQL_MAX_DEPTH: positiveInteger(12),
    MAST_GRAPHQL_MAX_COST: positiveInteger(250_000),
    MAST_GRAPHQL_MAX_PAGE_SIZE: positiveInteger(1000),
    MAST_GRAPHQL_CACHE_MAX_AGE: nonNegativeInteger(0),
    MAST_CORS_ORIGINS: optionalString,
  },
  (e): { graphql: GraphQLConfig } => ({
    graphql: {
      introspection: e.MAST_GRAPHQL_INTROSPECTION ?? true,
      maxDepth: e.MAST_GRAPHQL_MAX_DEPTH,
      maxCost: e.MAST_GRAPHQL_MAX_COST,
      maxPageSize: e.MAST_GRAPHQL_MAX_PAGE_SIZE,
      cacheMaxAge: e.MAST_GRAPHQL_CACHE_MAX_AGE,
      corsOrigins: commaList(e.MAST_CORS_ORIGINS),
    },
  }),
);

/** The gateway as its own process (cluster mode): where the services and subgraphs are. */
export interface GatewayClusterConfig {
  /** Base URLs of the services, by name (`tracking`, `artifact`, ...). */
  serviceUrls: Record<string, string>;
  /** Subgraph endpoints by name; a service's default is `<its url>/graphql`. */
  subgraphUrls: Record<string, string>;
  /** A supergraph SDL file, `introspect`, or unset for the committed supergraph. */
  supergraph?: string;
}

export const gatewayClusterConfig = configFragment(
  'gateway-cluster',
  {
    MAST_SERVICE_URLS: optionalString,
    MAST_SUBGRAPH_URLS: optionalString,
    MAST_SUPERGRAPH: optionalString,
  },
  (e, report): GatewayClusterConfig => ({
    serviceUrls: namePairs('MAST_SERVICE_URLS', e.MAST_SERVICE_URLS, report),
    subgraphUrls: namePairs('MAST_SUBGRAPH_URLS', e.MAST_SUBGRAPH_URLS, report),
    supergraph: e.MAST_SUPERGRAPH,
  }),
);

/** Every fragment: what `loadConfig(env)` validates when a caller names none (tests, tools). */
export const ALL_CONFIG_FRAGMENTS = [
  httpConfig,
  databaseConfig,
  artifactLocationConfig,
  artifactConfig,
  s3Config,
  redisConfig,
  graphqlConfig,
  gatewayClusterConfig,
] as const;

/** Every setting Mast has (all fragments composed). Processes use narrower compositions. */
export type MastConfig = ComposedConfig<typeof ALL_CONFIG_FRAGMENTS>;

/**
 * Reads the given fragments from the environment (every fragment when none are given), collecting
 * every problem into one ConfigError. `options.sources` names the CLI flags that set variables.
 */
export function loadConfig<const F extends readonly AnyConfigFragment[] = typeof ALL_CONFIG_FRAGMENTS>(
  env: Record<string, string | undefined>,
  fragments?: F,
  options?: LoadConfigOptions,
): ComposedConfig<F> {
  return composeConfig(env, fragments ?? (ALL_CONFIG_FRAGMENTS as unknown as F), options);
}
