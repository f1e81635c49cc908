import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';
import { StartupError } from './process.js';
import { redactSecrets } from './secrets.js';

/**
 * int8 columns (ms timestamps, metric steps, counts) read as numbers while a double holds them exactly
 * (within ±(2^53-1), nearly always), else as `bigint`: an int64 step such as 2^63-1 reads back digit for
 * digit. PGlite parses int8 the same way. Consumers take `number | bigint` (`Int64` in @mast/common).
 */
export function parseInt8(value: string): number | bigint {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : BigInt(value);
}
pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8);

export interface Database<DB> {
  db: Kysely<DB>;
  /** 'postgres' for a server, 'pglite' for the embedded database. */
  kind: 'postgres' | 'pglite';
  /** A human-readable location, with any password removed. */
  location: string;
  close(): Promise<void>;
  ping(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgresql:// URI, or a directory (or `memory://`) for the embedded PGlite database. */
  uri: string;
  poolSize?: number;
  /** PostgreSQL cancels statements running longer than this (ms). */
  statementTimeoutMs?: number;
  /** Told about idle pooled connections that the server dropped (logged by the caller). */
  onIdleError?: (error: Error) => void;
  /** The command named in an embedded database's lock file (default: this process's arguments). */
  command?: string;
}

/** Where a backend-store URI points: a PostgreSQL server, or the embedded PGlite directory. */
export type BackendStore =
  | { kind: 'postgres'; connectionString: string; ssl?: pg.PoolConfig['ssl']; connectTimeoutMs?: number }
  | { kind: 'pglite'; dataDir: string };

/** The PostgreSQL schemes MLflow users write (SQLAlchemy's driver suffixes included). */
const POSTGRES_SCHEME = /^postgres(?:ql)?(?:\+(?:psycopg2|psycopg|pg8000|asyncpg|psycopg2cffi))?:\/\//i;

export const SUPPORTED_BACKEND_STORES =
  'Mast supports PostgreSQL (postgresql://, postgres://, postgresql+psycopg2://, postgresql+psycopg://, postgresql+pg8000://) and the embedded database (a directory path or file:)';

/** `true` for the PostgreSQL URIs Mast accepts. */
export function isPostgresUri(uri: string): boolean {
  return POSTGRES_SCHEME.test(uri);
}

/**
 * Reads a backend-store URI as MLflow users write it. PostgreSQL URIs (any of MLflow's spellings) keep
 * their query options: `sslmode` (`disable`, `allow`/`prefer`: no TLS, as node-postgres cannot fall
 * back; `require`: TLS without verification, as libpq; `verify-ca`; `verify-full`), `sslrootcert`,
 * `sslcert`, `sslkey` (files), `connect_timeout` (seconds) become node-postgres settings; the others
 * (`application_name`, `options`, `host`, ...) are node-postgres's own. A bare path, `file:` or
 * `memory://` is the embedded database. Any other scheme (`sqlite:`, `mysql:`, `mssql:`, ...) throws an
 * error saying what Mast supports.
 */
export function parseBackendStoreUri(uri: string): BackendStore {
  if (isPostgresUri(uri)) {
    let url: URL;
    try {
      url = new URL(uri.replace(/^[^:]+:/, 'postgresql:'));
    } catch {
      throw new Error(`not a valid PostgreSQL URI: '${redactSecrets(uri)}'`);
    }
    const take = (name: string): string | undefined => {
      const value = url.searchParams.get(name) ?? undefined;
      url.searchParams.delete(name);
      return value;
    };
    const sslmode = take('sslmode');
    const rootCert = take('sslrootcert');
    const cert = take('sslcert');
    const key = take('sslkey');
    const connectTimeout = take('connect_timeout');
    const files = {
      ...(rootCert !== undefined ? { ca: readFileSync(rootCert, 'utf8') } : {}),
      ...(cert !== undefined ? { cert: readFileSync(cert, 'utf8') } : {}),
      ...(key !== undefined ? { key: readFileSync(key, 'utf8') } : {}),
    };
    let ssl: pg.PoolConfig['ssl'];
    switch (sslmode) {
      case undefined:
        ssl = Object.keys(files).length > 0 ? { rejectUnauthorized: true, ...files } : undefined;
        break;
      case 'disable':
      case 'allow':
      case 'prefer':
        ssl = false;
        break;
      case 'require':
        // libpq: with a root certificate, `require` verifies the CA; without one, it only encrypts.
        ssl =
          rootCert !== undefined
            ? { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...files }
            : { rejectUnauthorized: false, ...files };
        break;
      case 'verify-ca':
        ssl = { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...files };
        break;
      case 'verify-full':
        ssl = { rejectUnauthorized: true, ...files };
        break;
      default:
        throw new Error(
          `sslmode '${sslmode}' is not one of disable, allow, prefer, require, verify-ca, verify-full`,
        );
    }
    let connectTimeoutMs: number | undefined;
    if (connectTimeout !== undefined) {
      const seconds = Number(connectTimeout);
      if (!Number.isFinite(seconds) || seconds < 0)
        throw new Error(`connect_timeout '${connectTimeout}' is not a number of seconds`);
      if (seconds > 0) connectTimeoutMs = seconds * 1000;
    }
    return { kind: 'postgres', connectionString: url.toString(), ssl, connectTimeoutMs };
  }
  if (uri.startsWith('memory://')) return { kind: 'pglite', dataDir: uri };
  if (/^file:/i.test(uri)) {
    const path = uri.startsWith('file://') ? decodeURIComponent(new URL(uri).pathname) : uri.slice(5);
    return { kind: 'pglite', dataDir: path };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
  // One letter before ':' is a Windows drive (C:\data), not a scheme.
  if (
    scheme !== undefined &&
    scheme.length > 1 &&
    (uri.includes('://') || /^(sqlite|mysql|mssql|oracle|databricks)/i.test(scheme))
  )
    throw new Error(
      `'${redactSecrets(uri)}' is not a backend store Mast can use (${scheme}: is not supported); ${SUPPORTED_BACKEND_STORES}`,
    );
  return { kind: 'pglite', dataDir: uri };
}

/** A backend-store URI with any password masked, for logs and messages. */
export function describeBackendStore(uri: string): string {
  return redactSecrets(uri);
}

/** Opens the database behind a backend-store URI: one pool per process, closed by `close()`. */
export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  const store = parseBackendStoreUri(options.uri);
  if (store.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: store.connectionString,
      ...(store.ssl !== undefined ? { ssl: store.ssl } : {}),
      ...(store.connectTimeoutMs !== undefined ? { connectionTimeoutMillis: store.connectTimeoutMs } : {}),
      max: options.poolSize ?? 20,
      statement_timeout: options.statementTimeoutMs,
      // No JIT: Mast's statements are short and planned often; JIT compiling a large search (its cost
      // passes jit_above_cost) took ~120 ms of a ~400 ms query for nothing.
      options: '-c jit=off',
    });
    // An idle connection dropped by the server (restart, admin kill) must not crash the process:
    // the pool replaces it on the next checkout.
    pool.on('error', (error) => options.onIdleError?.(error));
    // A checked-out client whose connection dies between queries (server restart, pg_terminate_backend)
    // emits 'error' with no listener of the pool's: without this, the process would crash. Its next
    // query fails (503 TEMPORARILY_UNAVAILABLE) and the pool discards it on release.
    pool.on('connect', (client) => {
      client.on('error', (error) => options.onIdleError?.(error));
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(store.connectionString);
    url.password = '';
    // Secret query parameters (`?password=`, `sslpassword=`) too: the location is printed in logs.
    const location = redactSecrets(url.toString());
    return withPing({ db, kind: 'postgres', location, close: () => db.destroy() });
  }
  const dataDir = store.dataDir;
  let releaseLock = () => {};
  if (!dataDir.startsWith('memory://')) {
    createDataDirectory(dataDir);
    releaseLock = lockDataDirectory(dataDir, options.command);
  }
  try {
    const pglite = new PGlite(dataDir);
    await pglite.waitReady;
    const database = fromPGlite<DB>(pglite, dataDir);
    return {
      ...database,
      close: async () => {
        try {
          await database.close();
        } finally {
          releaseLock();
        }
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * Creates the embedded database's directory and its missing parents, one level at a time: Node's
 * `mkdirSync(..., { recursive: true })` spins forever where a parent cannot be made (under `/proc`).
 * Throws a StartupError naming the directory and the system's reason (ENOENT, EACCES, ENOTDIR...).
 */
function createDataDirectory(dataDir: string): void {
  const missing: string[] = [];
  for (let path = resolve(dataDir); ; path = dirname(path)) {
    try {
      if (statSync(path).isDirectory()) break;
      throw new StartupError(
        `cannot create the embedded database directory ${dataDir}: ${path} is not a directory`,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && code !== 'ENOENT')
        throw new StartupError(
          `cannot create the embedded database directory ${dataDir}: ${(error as Error).message}`,
        );
      if (code === undefined || dirname(path) === path) throw error;
      missing.unshift(path);
    }
  }
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new StartupError(
        `cannot create the embedded database directory ${dataDir}: ${(error as Error).message}`,
      );
    }
  }
}

/** The lock file in an embedded database's directory: one process at a time may open it. */
export const LOCK_FILE = 'mast.lock';

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory's lock: `mast.lock`, created atomically (O_EXCL) with the holder's pid, host,
 * start time and command. A second process fails with a StartupError naming the holder. A lock whose
 * process is gone (same host, pid not alive: a killed process) is removed and taken. Returns the
 * release function (removes the file).
 */
export function lockDataDirectory(dataDir: string, command = process.argv.slice(1).join(' ')): () => void {
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: LockHolder | undefined;
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
      } catch {
        // Unreadable: a holder writing it right now, or a crash between create and write.
        let age = 0;
        try {
          age = Date.now() - statSync(path).mtimeMs;
        } catch {
          continue; // removed meanwhile: try again
        }
        if (age < 5000)
          throw new StartupError(`the embedded database ${dataDir} is being opened by another process`);
      }
      const stale =
        holder === undefined ||
        (holder.host === me.host && holder.pid !== process.pid && !isAlive(holder.pid));
      if (!stale) {
        throw new StartupError(
          `the embedded database ${dataDir} is in use by pid ${holder!.pid} on ${holder!.host} since ${holder!.startedAt} (${holder!.command}); stop it first, or use PostgreSQL to run several processes (lock file ${path})`,
        );
      }
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    writeSync(fd, `${JSON.stringify(me)}\n`);
    closeSync(fd);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      try {
        const current = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
        if (current.pid === me.pid && current.startedAt === me.startedAt) unlinkSync(path);
      } catch {
        // already gone
      }
    };
  }
  throw new StartupError(`could not take the lock of the embedded database ${dataDir} (${path})`);
}

/**
 * Waits until the database answers, retrying with exponential backoff (0.5 s doubling to 10 s) and
 * calling `onRetry` before each wait; rejects with a StartupError once `timeoutMs` has passed.
 */
export async function waitForDatabase(
  database: Pick<Database<unknown>, 'ping' | 'location'>,
  options: {
    timeoutMs: number;
    onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
    signal?: AbortSignal;
  },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await database.ping();
      return;
    } catch (error) {
      const mistake = configurationMistake(error);
      if (mistake !== undefined) {
        // Waiting cannot fix these: say so at once instead of retrying for minutes.
        throw new StartupError(
          `the database ${redactSecrets(database.location)} refused the connection: ${mistake} (${redactSecrets((error as Error).message ?? String(error))})`,
        );
      }
      if (Date.now() + delay > deadline || options.signal?.aborted) {
        throw new StartupError(
          `the database ${redactSecrets(database.location)} did not answer within ${Math.round(options.timeoutMs / 1000)} s: ${redactSecrets((error as Error).message ?? String(error))}`,
        );
      }
      options.onRetry?.(attempt, delay, error);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/**
 * PostgreSQL's answers that no amount of waiting fixes: a database that does not exist, a role or
 * password it refuses (SQLSTATE), TLS asked of a server without it. Undefined for anything else
 * (unreachable, starting up: retried).
 */
function configurationMistake(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '3D000') return 'the database does not exist (create it, or fix the URI)';
  if (code === '28P01' || code === '28000') return 'authentication failed (check the user and password)';
  // node-postgres, when the URI asks for TLS (sslmode=require, verify-ca, verify-full) and the server has none.
  if (/server does not support SSL/i.test((error as Error | null)?.message ?? ''))
    return 'the server does not support SSL (use sslmode=disable or prefer, or enable TLS on the server)';
  return undefined;
}

/** Wraps an already-open PGlite instance (tests clone one migrated template instead of migrating each). */
export function fromPGlite<DB>(pglite: PGlite, location = 'memory://'): Database<DB> {
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return withPing({ db, kind: 'pglite', location, close: () => db.destroy() });
}

function withPing<DB>(database: Omit<Database<DB>, 'ping'>): Database<DB> {
  return {
    ...database,
    ping: async () => {
      await sql`select 1`.execute(database.db);
    },
  };
}
