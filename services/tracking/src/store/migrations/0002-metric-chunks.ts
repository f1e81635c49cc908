import { type Kysely, sql } from 'kysely';

/**
 * A summary of every metric series in chunks of 256 consecutive steps (`chunk = step >> 8`): point
 * count, first step, and the min, max (NaN excluded) and last point, each as `{value, step, timestamp}`
 * (`last` as `{step, timestamp, value}`, the order that defines it). Downsampling a long series to
 * chunk-aligned buckets reads these rows instead of every point: a million points are ~3,900 chunks.
 *
 * Triggers keep it exact whatever writes the metrics table: inserts merge the inserted rows' summary
 * (`least`/`greatest` on the arrays compare them lexicographically and skip NULLs); updates, deletes
 * and truncates recompute the chunks they touched. Points are float8 arrays: steps and timestamps are
 * integers below 2^53, which float8 holds exactly.
 */
export const CHUNK_SHIFT = 8;

const STATEMENTS = [
  `create table tracking.metric_chunks (
     run_uuid text not null,
     key text not null,
     chunk bigint not null,
     points bigint not null,
     first_step bigint not null,
     min_point float8[],
     max_point float8[],
     last_point float8[] not null,
     primary key (run_uuid, key, chunk)
   )`,
  `create function tracking.metric_chunks_after_insert() returns trigger language plpgsql as $$
   begin
     insert into tracking.metric_chunks as c
       (run_uuid, key, chunk, points, first_step, min_point, max_point, last_point)
     select run_uuid, key, step >> ${CHUNK_SHIFT}, count(*), min(step),
       min(array[value, step, timestamp]) filter (where value <> 'NaN'::float8),
       max(array[value, step, timestamp]) filter (where value <> 'NaN'::float8),
       max(array[step, timestamp, value])
     from inserted_rows
     group by run_uuid, key, step >> ${CHUNK_SHIFT}
     on conflict (run_uuid, key, chunk) do update set
       points = c.points + excluded.points,
       first_step = least(c.first_step, excluded.first_step),
       min_point = least(c.min_point, excluded.min_point),
       max_point = greatest(c.max_point, excluded.max_point),
       last_point = greatest(c.last_point, excluded.last_point);
     return null;
   end $$`,
  `create function tracking.metric_chunks_recompute(runs text[], keys text[], chunks bigint[])
   returns void language plpgsql as $$
   begin
     delete from tracking.metric_chunks c
       using unnest(runs, keys, chunks) as t (run_uuid, key, chunk)
       where c.run_uuid = t.run_uuid and c.key = t.key and c.chunk = t.chunk;
     insert into tracking.metric_chunks
       (run_uuid, key, chunk, points, first_step, min_point, max_point, last_point)
     select m.run_uuid, m.key, t.chunk, count(*), min(m.step),
       min(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8),
       max(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8),
       max(array[m.step, m.timestamp, m.value])
     from unnest(runs, keys, chunks) as t (run_uuid, key, chunk)
     join tracking.metrics m
       on m.run_uuid = t.run_uuid and m.key = t.key
      and m.step >= t.chunk << ${CHUNK_SHIFT} and m.step < (t.chunk + 1) << ${CHUNK_SHIFT}
     group by m.run_uuid, m.key, t.chunk;
   end $$`,
  `create function tracking.metric_chunks_after_delete() returns trigger language plpgsql as $$
   begin
     perform tracking.metric_chunks_recompute(array_agg(run_uuid), array_agg(key), array_agg(chunk))
       from (select distinct run_uuid, key, step >> ${CHUNK_SHIFT} as chunk from deleted_rows) d;
     return null;
   end $$`,
  `create function tracking.metric_chunks_after_update() returns trigger language plpgsql as $$
   begin
     perform tracking.metric_chunks_recompute(array_agg(run_uuid), array_agg(key), array_agg(chunk))
       from (select run_uuid, key, step >> ${CHUNK_SHIFT} as chunk from deleted_rows
             union select run_uuid, key, step >> ${CHUNK_SHIFT} from inserted_rows) d;
     return null;
   end $$`,
  `create function tracking.metric_chunks_after_truncate() returns trigger language plpgsql as $$
   begin
     truncate tracking.metric_chunks;
     return null;
   end $$`,
  `create trigger metric_chunks_insert after insert on tracking.metrics
     referencing new table as inserted_rows
     for each statement execute function tracking.metric_chunks_after_insert()`,
  `create trigger metric_chunks_delete after delete on tracking.metrics
     referencing old table as deleted_rows
     for each statement execute function tracking.metric_chunks_after_delete()`,
  `create trigger metric_chunks_update after update on tracking.metrics
     referencing old table as deleted_rows new table as inserted_rows
     for each statement execute function tracking.metric_chunks_after_update()`,
  `create trigger metric_chunks_truncate after truncate on tracking.metrics
     for each statement execute function tracking.metric_chunks_after_truncate()`,
  `insert into tracking.metric_chunks
     (run_uuid, key, chunk, points, first_step, min_point, max_point, last_point)
   select run_uuid, key, step >> ${CHUNK_SHIFT}, count(*), min(step),
     min(array[value, step, timestamp]) filter (where value <> 'NaN'::float8),
     max(array[value, step, timestamp]) filter (where value <> 'NaN'::float8),
     max(array[step, timestamp, value])
   from tracking.metrics
   group by run_uuid, key, step >> ${CHUNK_SHIFT}`,
];

/** One statement per call: PGlite's extended protocol takes a single command at a time. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    'drop trigger metric_chunks_insert on tracking.metrics',
    'drop trigger metric_chunks_delete on tracking.metrics',
    'drop trigger metric_chunks_update on tracking.metrics',
    'drop trigger metric_chunks_truncate on tracking.metrics',
    'drop function tracking.metric_chunks_after_insert()',
    'drop function tracking.metric_chunks_after_delete()',
    'drop function tracking.metric_chunks_after_update()',
    'drop function tracking.metric_chunks_after_truncate()',
    'drop function tracking.metric_chunks_recompute(text[], text[], bigint[])',
    'drop table tracking.metric_chunks',
  ]) {
    await sql.raw(statement).execute(db);
  }
}
