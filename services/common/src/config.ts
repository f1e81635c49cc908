import { z } from 'zod';

/** Empty strings count as unset, so `FOO=` in an env file does not override a default. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const intWithDefault = (fallback: number) =>
  z.preprocess((v) => (v === '' || v === undefined ? fallback : Number(v)), z.number().int().positive());

/** Every variable Mast reads; the README's configuration table documents each. */
const envSchema = z.object({
  MAST_HOST: z.preprocess((v) => (v === '' ? undefined : v), z.string().default('127.0.0.1')),
  MAST_PORT: intWithDefault(5000),
  /** postgresql:// URI, or a directory for the embedded PGlite database. */
  MAST_BACKEND_STORE_URI: optionalString,
  DATABASE_URL: optionalString,
  MAST_DEFAULT_ARTIFACT_ROOT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().default('mlflow-artifacts:/'),
  ),
  MAST_DB_POOL_SIZE: intWithDefault(20),
  MAST_LOG_LEVEL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** Largest JSON request body accepted, in bytes. */
  MAST_BODY_LIMIT: intWithDefault(32 * 1024 * 1024),
  /** Seconds to wait for in-flight requests on shutdown. */
  MAST_SHUTDOWN_TIMEOUT: intWithDefault(10),
});

export interface MastConfig {
  host: string;
  port: number;
  backendStoreUri: string;
  defaultArtifactRoot: string;
  dbPoolSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  bodyLimit: number;
  shutdownTimeoutMs: number;
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
    defaultArtifactRoot: e.MAST_DEFAULT_ARTIFACT_ROOT,
    dbPoolSize: e.MAST_DB_POOL_SIZE,
    logLevel: e.MAST_LOG_LEVEL,
    bodyLimit: e.MAST_BODY_LIMIT,
    shutdownTimeoutMs: e.MAST_SHUTDOWN_TIMEOUT * 1000,
  };
}
