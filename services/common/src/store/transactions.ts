import type { Kysely } from 'kysely';
import { isRetryableConflict } from './errors.js';

/** Attempts of a transaction PostgreSQL aborted to break a deadlock or a serialization conflict. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `work` in one transaction. A deadlock or serialization failure (the transaction had no effect)
 * runs it again, a few times: concurrent writers to one row (say a rename through `runs/update` and a
 * `mlflow.runName` tag through `log-batch`) then all succeed, last writer wins, instead of one of them
 * answering 500. `work` must be safe to run again (no effects outside the transaction).
 */
export async function inTransaction<DB, T>(db: Kysely<DB>, work: (tx: Kysely<DB>) => Promise<T>): Promise<T> {
  return retryConflicts(() => db.transaction().execute(work));
}

/** Runs one autocommit statement (or transaction) again after a deadlock or serialization failure. */
export async function retryConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= CONFLICT_ATTEMPTS || !isRetryableConflict(error)) throw error;
    }
  }
}
