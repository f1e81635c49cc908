import type { ColumnType, Generated } from 'kysely';

/** A row of `<schema>.outbox`: one event, unsent until the relay has published it. */
export interface OutboxTable {
  /** Insertion order: the relay publishes in this order. */
  seq: Generated<number>;
  /** The event's id (uuid): the envelope's `event_id` and the queue's job id. */
  event_id: string;
  /** The queue it is published to. */
  queue: string;
  /** An EventType name (mast/events/v1/events.proto). */
  type: string;
  /** The payload message as JSON. */
  payload: ColumnType<unknown, string, string>;
  created_at: ColumnType<Date, never, never>;
  /** When the relay published it; null until then. */
  sent_at: ColumnType<Date | null, never, Date | null>;
  /** Publish tries so far (the successful one included). */
  attempts: ColumnType<number, never, number>;
  /** The last failed publish's error message. */
  last_error: ColumnType<string | null, never, string | null>;
}

/** A row of `<schema>.processed_events`: a consumer has applied this event (see `processEventOnce`). */
export interface ProcessedEventsTable {
  consumer: string;
  event_id: string;
  processed_at: ColumnType<Date, never, never>;
}

/** The outbox tables as Kysely sees them, within a service's schema (`db.withSchema(schema)`). */
export interface OutboxDatabase {
  outbox: OutboxTable;
  processed_events: ProcessedEventsTable;
}
