import { z } from 'zod';

export const DEFAULT_ARTIFACTS_DESTINATION = './mast-data/artifacts';

/** Empty strings count as unset, so `FOO=` in an env file does not override a default. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const intWithDefault = (fallback: number) =>
  z.preprocess((v) => (v === '' || v === undefined ? fallback : Number(v)), z.number().int().positive());
const nonNegativeIntWithDefault = (fallback: number) =>
  z.preprocess((v) => (v === '' || v === undefined ? fallback : Number(v)), z.number().int().nonnegative());
const BOOLEAN_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
/** `true`/`false` (also `1`/`0`, `yes`/`no`, any case); unset is `undefined`. */
const optionalBoolean = z.preprocess(
  (v) => (v === '' || v === undefined ? undefined : String(v).trim().toLowerCase()),
  z.enum(BOOLEAN_WORDS).optional(),
);
const isTrue = (word: string | undefined, fallback: boolean): boolean =>
  word === undefined ? fallback : word === 'true' || word === '1' || word === 'yes';

/** Every variable Mast reads; the README's configuration table documents each. */
const envSchema = z.object({
  MAST_HOST: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('127.0.0.1')),
  MAST_PORT: intWithDefault(5000),
  /** postgresql:// URI, or a directory for the embedded PGlite database. */
  MAST_BACKEND_STORE_URI: optionalString,
  DATABASE_URL: optionalString,
  /** Unset: `mlflow-artifacts:/` when the proxy serves artifacts, else the artifacts destination. */
  MAST_DEFAULT_ARTIFACT_ROOT: optionalString,
  MAST_DB_POOL_SIZE: intWithDefault(20),
  /** Seconds after which PostgreSQL cancels a statement (a runaway search must not hold a core). */
  MAST_DB_STATEMENT_TIMEOUT: intWithDefault(300),
  MAST_LOG_LEVEL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** Largest JSON request body accepted, in bytes. */
  MAST_BODY_LIMIT: intWithDefault(32 * 1024 * 1024),
  /** Seconds to wait for in-flight requests on shutdown. */
  MAST_SHUTDOWN_TIMEOUT: intWithDefault(10),
  /** Where the artifact proxy stores files: a directory or `s3://bucket/prefix`. */
  MAST_ARTIFACTS_DESTINATION: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().default(DEFAULT_ARTIFACTS_DESTINATION),
  ),
  /** Whether the `/mlflow-artifacts` proxy routes serve (MLflow's `--serve-artifacts`, on by default). */
  MAST_SERVE_ARTIFACTS: optionalBoolean,
  /** Largest single artifact upload, in bytes (default 5 TiB, S3's object limit). */
  MAST_ARTIFACT_MAX_UPLOAD_BYTES: intWithDefault(5 * 1024 ** 4),
  /** Comma-separated direct artifact roots (`s3://…`, `file:///…`, `/abs`) that list/download may read. */
  MAST_ARTIFACT_ALLOWED_ROOTS: optionalString,
  /** S3-compatible endpoint (MinIO, Ceph, …); unset means AWS S3. */
  MAST_S3_ENDPOINT_URL: optionalString,
  MLFLOW_S3_ENDPOINT_URL: optionalString,
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AWS_SESSION_TOKEN: optionalString,
  AWS_REGION: optionalString,
  AWS_DEFAULT_REGION: optionalString,
  /** Path-style bucket addressing (`host/bucket/key`); default on with a custom endpoint, off for AWS. */
  MAST_S3_PATH_STYLE: optionalBoolean,
  /** Answer artifact downloads with a redirect to a presigned S3 URL instead of streaming them. */
  MAST_S3_PRESIGNED_DOWNLOADS: optionalBoolean,
  /** Seconds an S3 connection may stay silent before the request fails with 503. */
  MAST_S3_TIMEOUT: intWithDefault(30),
  /** Part size of the multipart uploads the proxy makes to S3, in bytes (at least 5 MiB). */
  MAST_S3_PART_SIZE: intWithDefault(8 * 1024 * 1024).pipe(
    z.number().min(5 * 1024 * 1024, "must be at least 5 MiB (5242880), S3's smallest part"),
  ),
  /** Base URL of the tracking service, for an artifact service running as its own process. */
  MAST_TRACKING_URL: optionalString,
  /** GraphQL: whether `/graphql` answers introspection (on: dashboards are internal). */
  MAST_GRAPHQL_INTROSPECTION: optionalBoolean,
  /** GraphQL: deepest field nesting an operation may have. */
  MAST_GRAPHQL_MAX_DEPTH: intWithDefault(12),
  /** GraphQL: highest estimated cost an operation may have (see the README's cost model). */
  MAST_GRAPHQL_MAX_COST: intWithDefault(250_000),
  /** GraphQL: largest page (`first`) of a connection. */
  MAST_GRAPHQL_MAX_PAGE_SIZE: intWithDefault(1000),
  /** GraphQL: `max-age` (seconds) of successful GET query responses; 0 means `no-cache` (ETag only). */
  MAST_GRAPHQL_CACHE_MAX_AGE: nonNegativeIntWithDefault(0),
  /** Comma-separated origins allowed to call `/graphql` from a browser (`*` for any); unset: none. */
  MAST_CORS_ORIGINS: optionalString,
  /** Gateway (cluster): `name=url` pairs, comma-separated, of the services it routes REST paths to. */
  MAST_SERVICE_URLS: optionalString,
  /** Gateway (cluster): `name=url` pairs of subgraph endpoints (default: each service's `/graphql`). */
  MAST_SUBGRAPH_URLS: optionalString,
  /** Gateway (cluster): a supergraph SDL file, or `introspect` to compose from the subgraphs at start. */
  MAST_SUPERGRAPH: optionalString,
});

export interface MastConfig {
  host: string;
  port: number;
  backendStoreUri: string;
  defaultArtifactRoot: string;
  dbPoolSize: number;
  dbStatementTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  shutdownTimeoutMs: number;
  /** Root of the artifact proxy: a local directory or `s3://bucket/prefix`. */
  artifactsDestination: string;
  serveArtifacts: boolean;
  artifactMaxUploadBytes: number;
  /** Direct artifact roots (besides the destination and the default artifact root) that may be read. */
  artifactAllowedRoots: string[];
  s3: S3Config;
  /** Tracking service base URL (cluster mode); unset when tracking runs in the same process. */
  trackingUrl?: string;
  graphql: GraphQLConfig;
  /** Gateway (cluster mode): base URLs of the services, by name (`tracking`, `artifact`, ...). */
  serviceUrls: Record<string, string>;
  /** Gateway (cluster mode): subgraph endpoints by name; a service's default is `<its url>/graphql`. */
  subgraphUrls: Record<string, string>;
  /** Gateway (cluster mode): a supergraph SDL file, `introspect`, or unset for the committed supergraph. */
  supergraph?: string;
}

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

/** `a=1,b=2` as `{a: '1', b: '2'}` (names trimmed; entries without `=` are an error). */
function parsePairs(name: string, value: string | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')) {
    const at = entry.indexOf('=');
    if (at <= 0)
      throw new ConfigError(`Invalid configuration:\n  ${name}: expected name=url pairs, got '${entry}'`);
    pairs[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return pairs;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export const DEFAULT_BACKEND_STORE_URI = './mast-data/db';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment once, collecting every problem into one error. */
export function loadConfig(env: Record<string, string | undefined>): MastConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    host: e.MAST_HOST,
    port: e.MAST_PORT,
    backendStoreUri: e.MAST_BACKEND_STORE_URI ?? e.DATABASE_URL ?? DEFAULT_BACKEND_STORE_URI,
    defaultArtifactRoot:
      e.MAST_DEFAULT_ARTIFACT_ROOT ??
      (isTrue(e.MAST_SERVE_ARTIFACTS, true) ? 'mlflow-artifacts:/' : e.MAST_ARTIFACTS_DESTINATION),
    dbPoolSize: e.MAST_DB_POOL_SIZE,
    dbStatementTimeoutMs: e.MAST_DB_STATEMENT_TIMEOUT * 1000,
    logLevel: e.MAST_LOG_LEVEL,
    bodyLimit: e.MAST_BODY_LIMIT,
    shutdownTimeoutMs: e.MAST_SHUTDOWN_TIMEOUT * 1000,
    artifactsDestination: e.MAST_ARTIFACTS_DESTINATION,
    serveArtifacts: isTrue(e.MAST_SERVE_ARTIFACTS, true),
    artifactMaxUploadBytes: e.MAST_ARTIFACT_MAX_UPLOAD_BYTES,
    artifactAllowedRoots: (e.MAST_ARTIFACT_ALLOWED_ROOTS ?? '')
      .split(',')
      .map((root) => root.trim())
      .filter((root) => root !== ''),
    s3: {
      endpointUrl: e.MAST_S3_ENDPOINT_URL ?? e.MLFLOW_S3_ENDPOINT_URL,
      accessKeyId: e.AWS_ACCESS_KEY_ID,
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
      sessionToken: e.AWS_SESSION_TOKEN,
      region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
      pathStyle: e.MAST_S3_PATH_STYLE === undefined ? undefined : isTrue(e.MAST_S3_PATH_STYLE, true),
      presignedDownloads: isTrue(e.MAST_S3_PRESIGNED_DOWNLOADS, false),
      timeoutMs: e.MAST_S3_TIMEOUT * 1000,
      partSize: e.MAST_S3_PART_SIZE,
    },
    trackingUrl: e.MAST_TRACKING_URL,
    graphql: {
      introspection: isTrue(e.MAST_GRAPHQL_INTROSPECTION, true),
      maxDepth: e.MAST_GRAPHQL_MAX_DEPTH,
      maxCost: e.MAST_GRAPHQL_MAX_COST,
      maxPageSize: e.MAST_GRAPHQL_MAX_PAGE_SIZE,
      cacheMaxAge: e.MAST_GRAPHQL_CACHE_MAX_AGE,
      corsOrigins: list(e.MAST_CORS_ORIGINS),
    },
    serviceUrls: parsePairs('MAST_SERVICE_URLS', e.MAST_SERVICE_URLS),
    subgraphUrls: parsePairs('MAST_SUBGRAPH_URLS', e.MAST_SUBGRAPH_URLS),
    supergraph: e.MAST_SUPERGRAPH,
  };
}
