import { type Kysely, sql } from 'kysely';

/**
 * Write and list paths measured by the tracking benchmark:
 * - latest_metrics loses its (key, value) index and keeps free space in each page: filters reach latest
 *   values through the primary key (run, key), and an index on `value` (or a full page) stops PostgreSQL
 *   from updating the row in place (HOT) each time a newer point is logged, which every log-batch does;
 * - experiments get an index in their default search order, so a page is not a sort of all of them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists tracking.latest_metrics_by_key`.execute(db);
  await sql`alter table tracking.latest_metrics set (fillfactor = 70)`.execute(db);
  await sql`create index experiments_by_creation on tracking.experiments (creation_time desc, experiment_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index tracking.experiments_by_creation`.execute(db);
  await sql`alter table tracking.latest_metrics reset (fillfactor)`.execute(db);
  await sql`create index latest_metrics_by_key on tracking.latest_metrics (key, value)`.execute(db);
}
