import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The migration creating `<schema>.outbox`, for a service to list among its own migrations (a service
 * owns its schema, e.g. `registry.outbox`), under a name that sorts after its schema's creation:
 *
 *   migrations: { '0001_init': ..., '0002_outbox': outboxMigration('registry') }
 *
 * Columns: see `OutboxTable`. A partial index on unsent rows keeps the relay's claim cheap however many
 * sent rows remain. SQL both PostgreSQL 15 and PGlite accept.
 */
export function outboxMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .withSchema(schema)
        .createTable('outbox')
        .addColumn('seq', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
        .addColumn('event_id', 'uuid', (col) => col.notNull().unique())
        .addColumn('queue', 'text', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('payload', 'jsonb', (col) => col.notNull())
        .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .addColumn('sent_at', 'timestamptz')
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .withSchema(schema)
        .createIndex('outbox_unsent')
        .on('outbox')
        .column('seq')
        .where(sql.ref('sent_at'), 'is', null)
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.withSchema(schema).dropTable('outbox').execute();
    },
  };
}

/**
 * The migration creating `<schema>.processed_events`, the table `processEventOnce` records applied
 * events in, for a service that consumes events (e.g. `deploy.processed_events`). Primary key
 * (consumer, event_id).
 */
export function processedEventsMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .withSchema(schema)
        .createTable('processed_events')
        .addColumn('consumer', 'text', (col) => col.notNull())
        .addColumn('event_id', 'uuid', (col) => col.notNull())
        .addColumn('processed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('processed_events_pkey', ['consumer', 'event_id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.withSchema(schema).dropTable('processed_events').execute();
    },
  };
}
