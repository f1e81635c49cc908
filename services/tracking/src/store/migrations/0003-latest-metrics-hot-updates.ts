import { type Kysely, sql } from 'kysely';

/**
 * Drops the (key, value) index on latest_metrics: filters reach latest values through the primary key
 * (run, key), and an index on `value` stops PostgreSQL from updating the row in place (HOT) each time a
 * newer point is logged, which every log-batch does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists tracking.latest_metrics_by_key`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index latest_metrics_by_key on tracking.latest_metrics (key, value)`.execute(db);
}
