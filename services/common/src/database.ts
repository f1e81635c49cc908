import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';

/** int8 columns hold ms timestamps and steps, all within 2^53: read them as numbers, not strings. */
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

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
}

export function isPostgresUri(uri: string): boolean {
  return /^postgres(ql)?:\/\//i.test(uri);
}

/** Opens the database behind a backend-store URI: one pool per process, closed by `close()`. */
export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  if (isPostgresUri(options.uri)) {
    const pool = new pg.Pool({
      connectionString: options.uri,
      max: options.poolSize ?? 20,
      statement_timeout: options.statementTimeoutMs,
    });
    // An idle connection dropped by the server (restart, admin kill) must not crash the process:
    // the pool replaces it on the next checkout.
    pool.on('error', (error) => options.onIdleError?.(error));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(options.uri);
    url.password = '';
    return withPing({ db, kind: 'postgres', location: url.toString(), close: () => db.destroy() });
  }
  const dataDir = options.uri.replace(/^file:\/\//, '');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  await pglite.waitReady;
  return fromPGlite<DB>(pglite, dataDir);
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
