import { processedEventsMigration } from '@mast/common';
import { type Kysely, sql } from 'kysely';

/**
 * Webhooks (MLflow 3's webhook API), their deliveries and every delivery attempt, plus
 * `registry.processed_events` for the webhook dispatcher's idempotence (`processEventOnce`). Plain SQL
 * that PostgreSQL 15 and PGlite both accept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of SCHEMA.split(/;\s*\n/)) {
    if (statement.trim()) await sql.raw(statement).execute(db);
  }
  await processedEventsMigration('registry').up(db);
}

const SCHEMA = `
    create table registry.webhooks (
      webhook_id text primary key,
      name text not null,
      description text,
      url text not null,
      -- JSON array of 'entity.action' strings, lower-case (model_version.created)
      events text not null,
      status text not null,
      -- AES-256-GCM (see webhooks/secrets.ts); never returned
      secret_encrypted text,
      creation_timestamp bigint not null,
      last_updated_timestamp bigint not null
    );
    create index webhooks_by_creation on registry.webhooks (creation_timestamp, webhook_id);
    create table registry.webhook_deliveries (
      delivery_id uuid primary key,
      webhook_id text not null references registry.webhooks on delete cascade,
      event_id uuid not null,
      event text not null,
      model_name text,
      body text not null,
      state text not null,
      attempts integer not null default 0,
      created_at bigint not null,
      updated_at bigint not null,
      unique (event_id, webhook_id)
    );
    create index webhook_deliveries_by_webhook on registry.webhook_deliveries (webhook_id, created_at);
    create table registry.webhook_delivery_attempts (
      delivery_id uuid not null references registry.webhook_deliveries on delete cascade,
      attempt integer not null,
      attempted_at bigint not null,
      response_status integer,
      latency_ms integer not null,
      error text,
      primary key (delivery_id, attempt)
    )
`;

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table registry.webhook_delivery_attempts`.execute(db);
  await sql`drop table registry.webhook_deliveries`.execute(db);
  await sql`drop table registry.webhooks`.execute(db);
  await sql`drop table registry.processed_events`.execute(db);
}
