import { type Kysely, sql } from 'kysely';
import { CHUNK_SHIFT } from './0002-metric-chunks.js';

/**
 * Each chunk summary also keeps the sum and the count of its non-NaN values, so a series' mean (the
 * runs table's `mean` column, ui.md §5.5) is read from the summaries like its min and max. Inserts add
 * to both under the row lock the summary upsert already takes (as `points`), so concurrent batches
 * stay exact.
 *
 * No backfill: adding nullable columns rewrites nothing, where summing every stored point would hold
 * the summaries' lock (and so every ingest) for as long as a full scan of the metrics takes. Chunks
 * written before this migration keep NULL sums (a series with one of them has no mean) until a write
 * to that chunk recomputes it (an update or delete of its points).
 */
const LAST_OF_INSERTED = `select distinct on (run_uuid, key, step >> ${CHUNK_SHIFT})
       run_uuid, key, step >> ${CHUNK_SHIFT} as chunk, step, timestamp, value
     from inserted_rows
     order by run_uuid, key, step >> ${CHUNK_SHIFT}, step desc, timestamp desc, value desc`;

const NEWER = `(excluded.last_step, excluded.last_timestamp, excluded.last_value)
  > (c.last_step, c.last_timestamp, c.last_value)`;

/** The summary's columns, with or without the sums (`down` restores 0005's functions). */
const columns = (
  sums: boolean,
) => `(run_uuid, key, chunk, points, first_step, min_point, max_point, last_point,
        last_step, last_timestamp, last_value${sums ? ', value_sum, value_count' : ''})`;

/** The summary aggregates of points `m` grouped by chunk. */
const aggregates = (sums: boolean) => `count(*) as points, min(m.step) as first_step,
         min(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as min_point,
         max(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as max_point,
         max(array[m.step, m.timestamp, m.value]) as last_point${
           sums
             ? `,
         coalesce(sum(m.value) filter (where m.value <> 'NaN'::float8), 0) as value_sum,
         count(*) filter (where m.value <> 'NaN'::float8) as value_count`
             : ''
         }`;

const selected = (sums: boolean) => `s.run_uuid, s.key, s.chunk, s.points, s.first_step, s.min_point,
       s.max_point, s.last_point, l.step, l.timestamp, l.value${sums ? ', s.value_sum, s.value_count' : ''}`;

const insertFunction = (sums: boolean) => `
  create or replace function tracking.metric_chunks_after_insert() returns trigger language plpgsql as $$
   begin
     insert into tracking.metric_chunks as c ${columns(sums)}
     select ${selected(sums)}
     from (
       select m.run_uuid, m.key, m.step >> ${CHUNK_SHIFT} as chunk, ${aggregates(sums)}
       from inserted_rows m
       group by m.run_uuid, m.key, m.step >> ${CHUNK_SHIFT}
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
       last_value = case when ${NEWER} then excluded.last_value else c.last_value end${
         sums
           ? `,
       value_sum = c.value_sum + excluded.value_sum,
       value_count = c.value_count + excluded.value_count`
           : ''
       };
     return null;
   end $$`;

const recomputeFunction = (sums: boolean) => `
  create or replace function tracking.metric_chunks_recompute(runs text[], keys text[], chunks bigint[])
   returns void language plpgsql as $$
   begin
     delete from tracking.metric_chunks c
       using unnest(runs, keys, chunks) as t (run_uuid, key, chunk)
       where c.run_uuid = t.run_uuid and c.key = t.key and c.chunk = t.chunk;
     insert into tracking.metric_chunks ${columns(sums)}
     select ${selected(sums)}
     from (
       select m.run_uuid, m.key, t.chunk, ${aggregates(sums)}
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
   end $$`;

/** One statement per call: PGlite's extended protocol takes a single command at a time. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    'alter table tracking.metric_chunks add column value_sum float8, add column value_count bigint',
    insertFunction(true),
    recomputeFunction(true),
  ]) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    insertFunction(false),
    recomputeFunction(false),
    'alter table tracking.metric_chunks drop column value_sum, drop column value_count',
  ]) {
    await sql.raw(statement).execute(db);
  }
}
