import type { Kysely, Transaction } from 'kysely';
import type { OutboxDatabase } from './tables.js';

/**
 * Applies an event at most once per consumer, so redeliveries are absorbed (the outbox delivers at
 * least once: a relay that dies between publishing and marking publishes again, and the queue only
 * deduplicates job ids it still remembers). In one transaction it records (consumer, eventId) in
 * `<schema>.processed_events` (see `processedEventsMigration`) and runs `apply` with that
 * transaction: the record and `apply`'s writes commit together, or neither does (a throwing `apply`
 * rolls the record back, so the retry applies it). A concurrent duplicate waits on the primary key
 * until the first commits, then skips. Resolves true when `apply` ran, false for a duplicate.
 *
 * Effects outside the database (a Kubernetes rollout) should be started from state written by `apply`
 * (e.g. a deployment row), so that a duplicate finds it and starts nothing.
 */
export async function processEventOnce<DB>(
  db: Kysely<DB>,
  schema: string,
  consumer: string,
  eventId: string,
  apply: (tx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const inserted = await (tx as unknown as Kysely<OutboxDatabase>)
      .withSchema(schema)
      .insertInto('processed_events')
      .values({ consumer, event_id: eventId })
      .onConflict((conflict) => conflict.columns(['consumer', 'event_id']).doNothing())
      .returning('event_id')
      .executeTakeFirst();
    if (!inserted) return false;
    await apply(tx);
    return true;
  });
}
