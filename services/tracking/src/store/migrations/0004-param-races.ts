import { type Kysely, sql } from 'kysely';

/**
 * `tracking.reject_raced_params()` aborts a log-batch statement whose param insert found a value that a
 * concurrent writer committed after the statement's snapshot (the insert's `on conflict ... where`
 * sees it, the snapshot's conflict check did not). Raising aborts the whole statement, so nothing of the
 * batch is written; the service runs it again and reports the conflict (params are immutable).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function tracking.reject_raced_params() returns boolean language plpgsql volatile as $$
    begin
      raise exception 'a param of this batch was logged concurrently with another value'
        using errcode = 'MA409';
    end $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function tracking.reject_raced_params()`.execute(db);
}
