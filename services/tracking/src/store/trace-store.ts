/**
 * SQL of MLflow traces (migration 0008): their info, tags, metadata and run links (their assessments'
 * SQL is `assessment-store.ts`). Functions take the
 * pool or the caller's transaction; the service decides what commits together.
 */
import { compareColumn, compareKeyValue, filterToSql, type Int64 } from '@mast/common';
import { type RawBuilder, sql } from 'kysely';
import type { TraceComparison, TraceFilter, TraceOrderTerm } from '../domain/trace-search.js';
import {
  SOURCE_RUN_METADATA,
  type TraceDeletion,
  type TraceRecord,
  type TraceState,
} from '../domain/traces.js';
import { assessmentsOfTraces } from './assessment-store.js';
import type { TraceRunsTable, TracesTable, TrackingExecutor } from './schema.js';

export interface TraceSearch {
  experimentIds: number[];
  filter: TraceFilter | undefined;
  orderBy: TraceOrderTerm[];
  maxResults: number;
  offset: number;
}

/** Attribute keys (canonical, as the parser returns them) → columns of `tracking.traces`. */
const COLUMNS: Readonly<Record<string, keyof TracesTable>> = {
  request_id: 'trace_id',
  client_request_id: 'client_request_id',
  timestamp_ms: 'request_time',
  execution_time_ms: 'execution_duration',
  status: 'state',
  experiment_id: 'experiment_id',
};

/** An attribute of the trace `t`: a column, or `end_time_ms` (start plus duration; null while unknown). */
function attribute(key: string): RawBuilder<unknown> {
  return key === 'end_time_ms' ? sql`(t.request_time + t.execution_duration)` : sql.ref(`t.${COLUMNS[key]}`);
}

type KeyValueTable = 'tracking.trace_tags' | 'tracking.trace_metadata';

/** Sorted by key, so concurrent writers of one trace lock its rows in one order (no deadlock). */
function entries(map: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.keys(map)
    .sort()
    .map((key) => ({ key, value: map[key]! }));
}

/** Upserts key/values of one trace: a key given again takes the new value. */
export async function upsertTraceKeyValues(
  db: TrackingExecutor,
  table: KeyValueTable,
  traceId: string,
  values: Record<string, string>,
): Promise<void> {
  const rows = entries(values).map((entry) => ({ trace_id: traceId, ...entry }));
  if (rows.length === 0) return;
  await db
    .insertInto(table)
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['trace_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
    )
    .execute();
}

/**
 * Stores a trace, or — when its id exists — overwrites its info and merges its tags and metadata (the
 * given keys win, others stay), as MLflow's `start_trace` merges on a duplicate id.
 */
export async function upsertTrace(
  db: TrackingExecutor,
  row: TracesTable,
  tags: Record<string, string>,
  metadata: Record<string, string>,
): Promise<void> {
  await db
    .insertInto('tracking.traces')
    .values(row)
    .onConflict((oc) =>
      oc.column('trace_id').doUpdateSet((eb) => ({
        experiment_id: eb.ref('excluded.experiment_id'),
        client_request_id: eb.ref('excluded.client_request_id'),
        request_time: eb.ref('excluded.request_time'),
        execution_duration: eb.ref('excluded.execution_duration'),
        state: eb.ref('excluded.state'),
        request_preview: eb.ref('excluded.request_preview'),
        response_preview: eb.ref('excluded.response_preview'),
      })),
    )
    .execute();
  await upsertTraceKeyValues(db, 'tracking.trace_tags', row.trace_id, tags);
  await upsertTraceKeyValues(db, 'tracking.trace_metadata', row.trace_id, metadata);
}

/** The trace's row, locked against concurrent writers until the transaction ends; undefined if unknown. */
export function lockTrace(db: TrackingExecutor, traceId: string): Promise<TracesTable | undefined> {
  return db
    .selectFrom('tracking.traces')
    .selectAll()
    .where('trace_id', '=', traceId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/**
 * Whether the trace exists, key-share locking it until the transaction ends: it cannot be deleted
 * meanwhile, while other writers of its children (assessments) go on at once.
 */
export async function keyShareLockTrace(db: TrackingExecutor, traceId: string): Promise<boolean> {
  const row = await db
    .selectFrom('tracking.traces')
    .select('trace_id')
    .where('trace_id', '=', traceId)
    .forKeyShare()
    .executeTakeFirst();
  return row !== undefined;
}

/** The trace with its tags and metadata, or undefined. */
export async function findTrace(db: TrackingExecutor, traceId: string): Promise<TraceRecord | undefined> {
  const row = await db
    .selectFrom('tracking.traces')
    .selectAll()
    .where('trace_id', '=', traceId)
    .executeTakeFirst();
  if (!row) return undefined;
  const [trace] = await assembleTraces(db, [row]);
  return trace;
}

/** The traces among `traceIds` that exist, with their tags and metadata, in no particular order. */
export async function findTraces(db: TrackingExecutor, traceIds: string[]): Promise<TraceRecord[]> {
  const { rows } = await sql<TracesTable>`
    select * from tracking.traces where trace_id = any(${traceIds}::text[])`.execute(db);
  return assembleTraces(db, rows);
}

/** Ends a V2 trace: its duration and state. */
export async function finishTrace(
  db: TrackingExecutor,
  traceId: string,
  executionDuration: number,
  state: TraceState,
): Promise<void> {
  await db
    .updateTable('tracking.traces')
    .set({ execution_duration: executionDuration, state })
    .where('trace_id', '=', traceId)
    .execute();
}

/** One tag's value of a trace, or undefined. */
export async function traceTagValue(
  db: TrackingExecutor,
  traceId: string,
  key: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('tracking.trace_tags')
    .select('value')
    .where('trace_id', '=', traceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

/** Deletes one tag; false when the trace has no such tag. */
export async function deleteTraceTag(db: TrackingExecutor, traceId: string, key: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('tracking.trace_tags')
    .where('trace_id', '=', traceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/**
 * Deletes traces of one experiment: the listed ones, or the oldest (by time, then id) up to a time, at
 * most `maxTraces`. Tags, metadata and run links go with them. Answers how many were deleted; rows are
 * locked first (listed ones in id order), so concurrent deletes count each trace once.
 */
export async function deleteTraces(
  db: TrackingExecutor,
  experimentId: number,
  deletion: TraceDeletion,
): Promise<number> {
  const { rows } =
    deletion.kind === 'ids'
      ? await sql<{ n: Int64 }>`
          with gone as (
            delete from tracking.traces where trace_id in (
              select trace_id from tracking.traces
              where experiment_id = ${experimentId} and trace_id = any(${deletion.traceIds}::text[])
              order by trace_id
              for update
            )
            returning 1
          )
          select count(*)::int8 as n from gone`.execute(db)
      : await sql<{ n: Int64 }>`
          with gone as (
            delete from tracking.traces where trace_id in (
              select trace_id from tracking.traces
              where experiment_id = ${experimentId} and request_time <= ${deletion.maxTimestampMillis}
              order by request_time, trace_id
              ${deletion.maxTraces === undefined ? sql`` : sql`limit ${deletion.maxTraces}`}
              for update
            )
            returning 1
          )
          select count(*)::int8 as n from gone`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Links the existing traces among `traceIds` to a run; links already there stay as they are. The traces
 * are key-share locked (in id order, as deletes lock them), so one deleted meanwhile is skipped, not a
 * foreign-key failure.
 */
export async function linkTracesToRun(
  db: TrackingExecutor,
  traceIds: string[],
  runId: string,
): Promise<void> {
  await sql`
    insert into tracking.trace_runs (trace_id, run_uuid)
    select trace_id, ${runId} from tracking.traces where trace_id = any(${traceIds}::text[])
    order by trace_id
    for key share
    on conflict do nothing
  `.execute(db);
}

/** The LinkTracesToRun links of the traces among `traceIds`, by trace id, then run id. */
export function traceRunLinks(db: TrackingExecutor, traceIds: readonly string[]): Promise<TraceRunsTable[]> {
  if (traceIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('tracking.trace_runs')
    .select(['trace_id', 'run_uuid'])
    .where('trace_id', 'in', traceIds)
    .orderBy('trace_id')
    .orderBy('run_uuid')
    .execute();
}

/**
 * `run_id = 'x'` (metadata `mlflow.sourceRun`) also matches traces linked to the run through
 * LinkTracesToRun, as MLflow's SQL store matches its entity associations; other metadata and tags test
 * their table (a trace without the key never matches, not even `!=`).
 */
function traceComparison(comparison: TraceComparison): RawBuilder<boolean> {
  const trace = sql.ref('t.trace_id');
  switch (comparison.type) {
    case 'attribute':
      return compareColumn(attribute(comparison.key), comparison);
    case 'tag':
      return compareKeyValue('tracking.trace_tags', trace, 'trace_id', comparison, compareColumn);
    case 'metadata': {
      const metadata = compareKeyValue(
        'tracking.trace_metadata',
        trace,
        'trace_id',
        comparison,
        compareColumn,
      );
      if (
        comparison.key !== SOURCE_RUN_METADATA ||
        (comparison.comparator !== '=' && comparison.comparator !== 'IN')
      )
        return metadata;
      const linked = sql<boolean>`exists (select 1 from tracking.trace_runs r where r.trace_id = t.trace_id and ${compareColumn(sql.ref('r.run_uuid'), comparison)})`;
      return sql<boolean>`(${metadata} or ${linked})`;
    }
  }
}

function orderTermToSql(term: TraceOrderTerm): RawBuilder<unknown>[] {
  const direction = sql.raw(term.ascending ? 'asc' : 'desc');
  const value =
    term.type === 'attribute'
      ? attribute(term.key)
      : sql`(select kv.value from ${sql.table(term.type === 'tag' ? 'tracking.trace_tags' : 'tracking.trace_metadata')} kv
             where kv.trace_id = t.trace_id and kv.key = ${term.key})`;
  // Missing values sort last in both directions.
  return [sql`(${value} is null)`, sql`${value} ${direction}`];
}

/**
 * One page of traces of the experiments: filter and order in one statement (default order newest
 * first, then by id; those two always end the order as tie-breakers), then tags and metadata of the
 * page in one statement each.
 */
export async function searchTraces(
  db: TrackingExecutor,
  search: TraceSearch,
): Promise<{ traces: TraceRecord[]; hasMore: boolean }> {
  if (search.experimentIds.length === 0) return { traces: [], hasMore: false };
  const where: RawBuilder<unknown>[] = [sql`t.experiment_id in (${sql.join(search.experimentIds)})`];
  if (search.filter) where.push(filterToSql(search.filter, traceComparison));
  const orderings = search.orderBy.flatMap(orderTermToSql);
  const sorts = (key: string) => search.orderBy.some((term) => term.type === 'attribute' && term.key === key);
  if (!sorts('timestamp_ms')) orderings.push(sql`t.request_time desc`);
  if (!sorts('request_id')) orderings.push(sql`t.trace_id asc`);
  const { rows } = await sql<TracesTable>`
    select t.* from tracking.traces t
    where ${sql.join(where, sql` and `)}
    order by ${sql.join(orderings)}
    limit ${search.maxResults + 1} offset ${search.offset}
  `.execute(db);
  const hasMore = rows.length > search.maxResults;
  return { traces: await assembleTraces(db, rows.slice(0, search.maxResults)), hasMore };
}

function keyValuesOf(
  db: TrackingExecutor,
  table: KeyValueTable,
  ids: string[],
): Promise<Array<{ trace_id: string; key: string; value: string }>> {
  return db
    .selectFrom(table)
    .select(['trace_id', 'key', 'value'])
    .where('trace_id', 'in', ids)
    .orderBy('trace_id')
    .orderBy('key')
    .execute();
}

function byTrace(
  rows: Array<{ trace_id: string; key: string; value: string }>,
): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const map = out.get(row.trace_id) ?? {};
    map[row.key] = row.value;
    out.set(row.trace_id, map);
  }
  return out;
}

/** Traces with their tags, metadata and assessments: three statements for any number of traces. */
export async function assembleTraces(db: TrackingExecutor, rows: TracesTable[]): Promise<TraceRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.trace_id);
  // Sequential, not Promise.all: inside a transaction the statements share one connection.
  const tags = byTrace(await keyValuesOf(db, 'tracking.trace_tags', ids));
  const metadata = byTrace(await keyValuesOf(db, 'tracking.trace_metadata', ids));
  const assessments = await assessmentsOfTraces(db, ids);
  return rows.map((row) => ({
    traceId: row.trace_id,
    experimentId: row.experiment_id,
    clientRequestId: row.client_request_id,
    requestTime: row.request_time,
    executionDuration: row.execution_duration,
    state: row.state as TraceState,
    requestPreview: row.request_preview,
    responsePreview: row.response_preview,
    tags: tags.get(row.trace_id) ?? {},
    metadata: metadata.get(row.trace_id) ?? {},
    assessments: assessments.get(row.trace_id) ?? [],
  }));
}
