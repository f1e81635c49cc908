import { type Kysely, sql } from 'kysely';
import { clientGone } from '../rpc/expensive-requests.js';

/**
 * Runs `work` on one connection of the pool and, when `signal` aborts (the client went away), asks
 * PostgreSQL to cancel the statement running on it (`pg_cancel_backend`), so abandoned searches stop
 * using a core and a connection instead of completing for nobody. The connection goes back to the
 * pool only after any cancel request has been answered, so a cancel never reaches a statement of
 * another request. Throws `CANCELLED` when the work failed because of the abort.
 */
export async function withCancellation<DB, T>(
  db: Kysely<DB>,
  signal: AbortSignal | undefined,
  work: (connection: Kysely<DB>) => Promise<T>,
): Promise<T> {
  if (signal === undefined) return work(db);
  if (signal.aborted) throw clientGone();
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(connection);
    const pid = rows[0]!.pid;
    let cancel: Promise<unknown> | undefined;
    const onAbort = () => {
      cancel = sql`select pg_cancel_backend(${pid})`.execute(db).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await work(connection);
    } catch (error) {
      if (signal.aborted) throw clientGone();
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await cancel;
    }
  });
}
