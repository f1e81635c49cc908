import { type Kysely, sql } from 'kysely';
import { CHUNK_SHIFT } from './0002-metric-chunks.js';

/**
 * A run's latest metric values are read from the chunk summaries instead of a table of their own: a
 * log-batch then upserts one row per key (its chunk's summary, which the metrics trigger writes
 * anyway) instead of two. Timed on one connection, a 1,000-point log-batch statement went from 0.54 to
 * 0.77 of a raw INSERT of the same points (which fires the same trigger).
 *
 * Each chunk keeps its last point exactly (`last_step`, `last_timestamp` int8, `last_value`): the
 * greatest by (step, timestamp, value), NaN above any number (PostgreSQL's float order; MLflow's SQL
 * store keeps the same maximum). `last_point` (float8) cannot tell steps apart beyond 2^53. The run's
 * latest value of a key is the last point of its highest chunk, which holds its highest step.
 * `tracking.latest_metrics` becomes a view with the columns of the table it replaces; readers that go
 * through it per run (`where run_uuid = ...`, in a lateral subquery) read the run's chunk rows by the
 * primary key of `metric_chunks`.
 *
 * The summaries are now the only rows a log-batch upserts, so the trigger upserts them in
 * (run, key, chunk) order: concurrent batches to one run take their row locks in one order and
 * cannot deadlock (the `latest_metrics` upsert, in key order, used to serialize them first).
 */
const LAST_OF_INSERTED = `select distinct on (run_uuid, key, step >> ${CHUNK_SHIFT})
       run_uuid, key, step >> ${CHUNK_SHIFT} as chunk, step, timestamp, value
     from inserted_rows
     order by run_uuid, key, step >> ${CHUNK_SHIFT}, step desc, timestamp desc, value desc`;

/** Whether the inserted points' last point supersedes the stored one (row comparison: NaN is greatest). */
const NEWER = `(excluded.last_step, excluded.last_timestamp, excluded.last_value)
  > (c.last_step, c.last_timestamp, c.last_value)`;

const STATEMENTS = [
  `alter table tracking.metric_chunks
     add column last_step bigint, add column last_timestamp bigint, add column last_value float8`,
  `update tracking.metric_chunks c set last_step = l.step, last_timestamp = l.timestamp, last_value = l.value
   from (
     select distinct on (run_uuid, key, step >> ${CHUNK_SHIFT})
       run_uuid, key, step >> ${CHUNK_SHIFT} as chunk, step, timestamp, value
     from tracking.metrics
     order by run_uuid, key, step >> ${CHUNK_SHIFT}, step desc, timestamp desc, value desc
   ) l
   where c.run_uuid = l.run_uuid and c.key = l.key and c.chunk = l.chunk`,
  `alter table tracking.metric_chunks
     alter column last_step set not null, alter column last_timestamp set not null,
     alter column last_value set not null`,
  `create or replace function tracking.metric_chunks_after_insert() returns trigger language plpgsql as $$
   begin
     insert into tracking.metric_chunks as c
       (run_uuid, key, chunk, points, first_step, min_point, max_point, last_point,
        last_step, last_timestamp, last_value)
     select s.run_uuid, s.key, s.chunk, s.points, s.first_step, s.min_point, s.max_point, s.last_point,
       l.step, l.timestamp, l.value
     from (
       select run_uuid, key, step >> ${CHUNK_SHIFT} as chunk, count(*) as points, min(step) as first_step,
         min(array[value, step, timestamp]) filter (where value <> 'NaN'::float8) as min_point,
         max(array[value, step, timestamp]) filter (where value <> 'NaN'::float8) as max_point,
         max(array[step, timestamp, value]) as last_point
       from inserted_rows
       group by run_uuid, key, step >> ${CHUNK_SHIFT}
     ) s
     join (${LAST_OF_INSERTED}) l on l.run_uuid = s.run_uuid and l.key = s.key and l.chunk = s.chunk
     order by s.run_uuid, s.key, s.chunk
     on conflict (run_uuid, key, chunk) do update set
       points = c.points + excluded.points,
       first_step = least(c.first_step, excluded.first_step),
       min_point = least(c.min_point, excluded.min_point),
       max_point = greatest(c.max_point, excluded.max_point),
       last_point = greatest(c.last_point, excluded.last_point),
       last_step = case when ${NEWER} then excluded.last_step else c.last_step end,
       last_timestamp = case when ${NEWER} then excluded.last_timestamp else c.last_timestamp end,
       last_value = case when ${NEWER} then excluded.last_value else c.last_value end;
     return null;
   end $$`,
  `create or replace function tracking.metric_chunks_recompute(runs text[], keys text[], chunks bigint[])
   returns void language plpgsql as $$
   begin
     delete from tracking.metric_chunks c
       using unnest(runs, keys, chunks) as t (run_uuid, key, chunk)
       where c.run_uuid = t.run_uuid and c.key = t.key and c.chunk = t.chunk;
     insert into tracking.metric_chunks
       (run_uuid, key, chunk, points, first_step, min_point, max_point, last_point,
        last_step, last_timestamp, last_value)
     select s.run_uuid, s.key, s.chunk, s.points, s.first_step, s.min_point, s.max_point, s.last_point,
       l.step, l.timestamp, l.value
     from (
       select m.run_uuid, m.key, t.chunk, count(*) as points, min(m.step) as first_step,
         min(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as min_point,
         max(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as max_point,
         max(array[m.step, m.timestamp, m.value]) as last_point
       from unnest(runs, keys, chunks) as t (run_uuid, key, chunk)
       join tracking.metrics m
         on m.run_uuid = t.run_uuid and m.key = t.key
        and m.step >= t.chunk << ${CHUNK_SHIFT} and m.step < (t.chunk + 1) << ${CHUNK_SHIFT}
       group by m.run_uuid, m.key, t.chunk
     ) s
     cross join lateral (
       select m.step, m.timestamp, m.value from tracking.metrics m
       where m.run_uuid = s.run_uuid and m.key = s.key
         and m.step >= s.chunk << ${CHUNK_SHIFT} and m.step < (s.chunk + 1) << ${CHUNK_SHIFT}
       order by m.step desc, m.timestamp desc, m.value desc limit 1
     ) l;
   end $$`,
  'drop table tracking.latest_metrics',
  `create view tracking.latest_metrics as
   select distinct on (run_uuid, key)
     run_uuid, key, last_step as step, last_timestamp as timestamp, last_value as value
   from tracking.metric_chunks
   order by run_uuid, key, chunk desc`,
];

/** One statement per call: PGlite's extended protocol takes a single command at a time. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

/** Back to a table of latest values, filled from the chunks; the summaries keep their exact last point. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop view tracking.latest_metrics`.execute(db);
  await sql`
    create table tracking.latest_metrics (
      run_uuid text not null references tracking.runs on delete cascade,
      key text not null,
      step bigint not null,
      timestamp bigint not null,
      value double precision not null,
      primary key (run_uuid, key)
    ) with (fillfactor = 70)
  `.execute(db);
  await sql`
    insert into tracking.latest_metrics (run_uuid, key, step, timestamp, value)
    select distinct on (run_uuid, key) run_uuid, key, last_step, last_timestamp, last_value
    from tracking.metric_chunks order by run_uuid, key, chunk desc
  `.execute(db);
}
