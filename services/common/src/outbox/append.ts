import { randomUUID } from 'node:crypto';
import type { EventPayloads, MastEventType } from '@mast/proto';
import type { Kysely } from 'kysely';
import { checkQueueName } from '../queue/job-options.js';
import type { OutboxDatabase } from './tables.js';

/** An event to append: published by the relay to `queue`, as a job named `type`. */
export interface OutboxEvent<K extends MastEventType = MastEventType> {
  /** The queue consumers read it from, e.g. `registry-events`. */
  queue: string;
  type: K;
  payload: EventPayloads[K];
  /** Default: a random UUID (v4). */
  eventId?: string;
}

/**
 * Inserts an event into `<schema>.outbox` inside the caller's transaction, so that it exists if and
 * only if the caller's change commits (the transactional outbox). Resolves with the event id. Throws a
 * TypeError when `tx` is not a transaction: an event written outside the change's transaction could
 * survive a rolled-back change, or be lost with a committed one; and on a queue name the queue would
 * refuse. After the commit, `relay.wake()`
 * publishes it without waiting for the relay's next poll.
 */
export async function appendEvent<DB, K extends MastEventType>(
  tx: Kysely<DB>,
  schema: string,
  event: OutboxEvent<K>,
): Promise<string> {
  const [id] = await appendEvents(tx, schema, [event]);
  return id;
}

/** `appendEvent` for several events, in one INSERT, in the given order. Resolves with their ids. */
export async function appendEvents<DB>(
  tx: Kysely<DB>,
  schema: string,
  events: ReadonlyArray<OutboxEvent>,
): Promise<string[]> {
  if (!tx.isTransaction) {
    throw new TypeError('appendEvent needs the transaction of the change the event reports');
  }
  if (events.length === 0) return [];
  // A row the relay could never publish would hold back every later one: refuse it here instead.
  for (const event of events) checkQueueName(event.queue);
  const rows = events.map((event) => ({
    event_id: event.eventId ?? randomUUID(),
    queue: event.queue,
    type: event.type,
    payload: JSON.stringify(event.payload),
  }));
  await (tx as unknown as Kysely<OutboxDatabase>)
    .withSchema(schema)
    .insertInto('outbox')
    .values(rows)
    .execute();
  return rows.map((row) => row.event_id);
}
