import { createHash } from 'node:crypto';
import {
  compareColumn,
  compareDouble,
  compareKeyValue,
  filterToSql,
  type Int64,
  lifecycleStages,
  MlflowError,
  parseInt8,
} from '@mast/common';
import type { RunStatus, ViewType } from '@mast/proto';
import { type RawBuilder, sql } from 'kysely';
import { parseExperimentId } from '../domain/ids.js';
import type { MetricPoint } from '../domain/metric-values.js';
import type { OrderByTerm } from '../domain/order-by.js';
import type {
  DatasetSummaryRecord,
  KeyValue,
  MetricRecord,
  NewDatasetInput,
  RunInfoRecord,
  RunRecord,
} from '../domain/records.js';
import { RUN_NAME_TAG } from '../domain/run-names.js';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import { selectDatasetInputs, toDatasetInputRecord } from './dataset-inputs.js';
import type { RunsTable, TrackingExecutor } from './schema.js';

export interface RunSearch {
  experimentIds: string[];
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
  /** Keyset paging: the page starts after this run (`decodeRunCursor`), whatever was added meanwhile. */
  after?: RunPosition;
}

/** A run's place in a search's order: its sort key values as PostgreSQL text (null where none). */
export interface RunPosition {
  values: Array<string | null>;
}

/** The run's row, or undefined when there is no such run. */
export function findRun(db: TrackingExecutor, runId: string): Promise<RunsTable | undefined> {
  return db.selectFrom('tracking.runs').selectAll().where('run_uuid', '=', runId).executeTakeFirst();
}

/**
 * Inserts a run and its tags in one statement. The insert reads the experiment's artifact location and
 * only happens while the experiment is active: undefined when nothing was inserted (the caller looks up
 * why).
 */
export async function insertRun(
  db: TrackingExecutor,
  input: {
    runId: string;
    experimentId: number;
    userId: string;
    runName: string;
    startTime: number;
    tags: KeyValue[];
  },
): Promise<RunsTable | undefined> {
  const tagRows = input.tags.map((tag) => sql`(${tag.key}::text, ${tag.value}::text)`);
  const insertTags =
    tagRows.length > 0
      ? sql`, new_tags as (
          insert into tracking.tags (run_uuid, key, value)
          select run.run_uuid, t.key, t.value from run, (values ${sql.join(tagRows)}) as t (key, value)
        )`
      : sql``;
  const { rows } = await sql<RunsTable>`
    with run as (
      insert into tracking.runs
        (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
      select ${input.runId}, e.experiment_id, ${input.runName}, ${input.userId}, 'RUNNING', ${input.startTime}::int8,
        rtrim(e.artifact_location, '/') || ${`/${input.runId}/artifacts`}, 'active'
      from tracking.experiments e
      where e.experiment_id = ${input.experimentId} and e.lifecycle_stage = 'active'
      returning *
    )${insertTags}
    select * from run
  `.execute(db);
  return rows[0];
}

/**
 * Sets the given columns of an active run in one UPDATE (columns not given keep their value, whatever
 * a concurrent update wrote to them: no read-modify-write). Undefined when no active run matched.
 */
export function updateRunInfo(
  db: TrackingExecutor,
  runId: string,
  changes: { status?: RunStatus; endTime?: number; runName?: string },
): Promise<RunsTable | undefined> {
  const set: Partial<RunsTable> = {};
  if (changes.status !== undefined) set.status = changes.status;
  if (changes.endTime !== undefined) set.end_time = changes.endTime;
  if (changes.runName !== undefined) set.name = changes.runName;
  // An empty SET is not SQL: a no-op update still locks and returns the row.
  return db
    .updateTable('tracking.runs')
    .set(Object.keys(set).length > 0 ? set : { status: sql`status` })
    .where('run_uuid', '=', runId)
    .where('lifecycle_stage', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}

/** Moves a run to a lifecycle stage; false when there is no such run. */
export async function setRunLifecycle(
  db: TrackingExecutor,
  runId: string,
  stage: 'active' | 'deleted',
  now: number,
): Promise<boolean> {
  const updated = await db
    .updateTable('tracking.runs')
    .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? now : null })
    .where('run_uuid', '=', runId)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/**
 * Writes a whole log-batch as one statement (see `logBatchStatement`). Throws `ParamsRaced` when a
 * concurrent writer stored a different value for one of the params after this statement's snapshot:
 * the statement then wrote nothing, and running it again reports the conflict.
 */
export async function writeLogBatch(
  db: TrackingExecutor,
  runId: string,
  batch: LogBatchWrite,
): Promise<LogBatchOutcome> {
  try {
    const { rows } = await logBatchStatement(runId, batch).execute(db);
    return rows[0]!;
  } catch (error) {
    if ((error as { code?: unknown }).code === PARAMS_RACED_SQLSTATE) throw new ParamsRaced(runId);
    throw error;
  }
}

/** The value of one tag, its row locked until the transaction ends (undefined when unset). */
export async function lockTag(db: TrackingExecutor, runId: string, key: string): Promise<string | undefined> {
  const tag = await db
    .selectFrom('tracking.tags')
    .select('value')
    .where('run_uuid', '=', runId)
    .where('key', '=', key)
    .forUpdate()
    .executeTakeFirst();
  return tag?.value;
}

/**
 * Sets tags (last value per key wins); `mlflow.runName` also renames the run, the run row first so
 * concurrent renames take their locks in one order.
 */
export async function upsertTags(db: TrackingExecutor, runId: string, tags: KeyValue[]): Promise<void> {
  const byKey = new Map(tags.map((tag) => [tag.key, tag.value]));
  const runName = byKey.get(RUN_NAME_TAG);
  if (runName !== undefined) {
    await db.updateTable('tracking.runs').set({ name: runName }).where('run_uuid', '=', runId).execute();
  }
  await db
    .insertInto('tracking.tags')
    .values([...byKey].map(([key, value]) => ({ run_uuid: runId, key, value })))
    .onConflict((oc) =>
      oc.columns(['run_uuid', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
    )
    .execute();
}

/** Deletes one tag; false when the run has no such tag. */
export async function deleteTag(db: TrackingExecutor, runId: string, key: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('tracking.tags')
    .where('run_uuid', '=', runId)
    .where('key', '=', key)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** Links a dataset to a run (once per dataset), with the input's tags and `mlflow.data.context`. */
export async function insertDatasetInput(
  db: TrackingExecutor,
  runId: string,
  datasetUuid: string,
  tags: KeyValue[],
): Promise<void> {
  const context = tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? null;
  await db
    .insertInto('tracking.dataset_inputs')
    .values({ run_uuid: runId, dataset_uuid: datasetUuid, tags: JSON.stringify(tags), context })
    .onConflict((oc) => oc.columns(['run_uuid', 'dataset_uuid']).doNothing())
    .execute();
}

/** Links logged models to a run as inputs (each once). */
export async function insertModelInputs(
  db: TrackingExecutor,
  runId: string,
  modelIds: string[],
): Promise<void> {
  if (modelIds.length === 0) return;
  await db
    .insertInto('tracking.run_model_inputs')
    .values([...new Set(modelIds)].map((model_id) => ({ run_uuid: runId, model_id })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Records logged models as a run's outputs at a step (a model logged again moves to the new step). */
export async function upsertModelOutputs(
  db: TrackingExecutor,
  runId: string,
  outputs: Array<{ modelId: string; step: number }>,
): Promise<void> {
  const byModel = new Map(outputs.map((output) => [output.modelId, output.step]));
  if (byModel.size === 0) return;
  await db
    .insertInto('tracking.run_model_outputs')
    .values([...byModel].map(([model_id, step]) => ({ run_uuid: runId, model_id, step })))
    .onConflict((oc) =>
      oc.columns(['run_uuid', 'model_id']).doUpdateSet((eb) => ({ step: eb.ref('excluded.step') })),
    )
    .execute();
}

/** The dataset's id in the experiment, inserting it when new (datasets are unique by name and digest). */
export async function findOrCreateDataset(
  db: TrackingExecutor,
  experimentId: number,
  input: NewDatasetInput,
): Promise<string> {
  const inserted = await db
    .insertInto('tracking.datasets')
    .values({
      dataset_uuid: crypto.randomUUID().replaceAll('-', ''),
      experiment_id: experimentId,
      name: input.name,
      digest: input.digest,
      source_type: input.source_type,
      source: input.source,
      schema: input.schema ?? null,
      profile: input.profile ?? null,
    })
    .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
    .returning('dataset_uuid')
    .executeTakeFirst();
  if (inserted) return inserted.dataset_uuid;
  const existing = await db
    .selectFrom('tracking.datasets')
    .select('dataset_uuid')
    .where('experiment_id', '=', experimentId)
    .where('name', '=', input.name)
    .where('digest', '=', input.digest)
    .executeTakeFirstOrThrow();
  return existing.dataset_uuid;
}

/**
 * One page of a metric's history, ordered by (timestamp, step, value), as MLflow's `metrics` JSON
 * array (`Metric` protobuf JSON: key, value, timestamp, step, then model and dataset when set; NaN and
 * infinities as strings; see `metricJsonSql`), written as text by PostgreSQL: a 25,000-point page
 * would otherwise cost the event loop decoding and re-encoding every row, and PostgreSQL's
 * `json_build_object` costs about eight times the text concatenation. `limit` undefined reads to the
 * end. `more` is whether points follow the page.
 */
export async function metricHistoryJson(
  db: TrackingExecutor,
  runId: string,
  key: string,
  offset: number,
  limit: number | undefined,
): Promise<{ json: string; more: boolean }> {
  // The key is the same on every point: escaped once, here.
  const point = metricJsonSql(sql`${JSON.stringify(key)}::text`, true);
  const { rows } = await sql<{ json: string | null; more: boolean }>`
    select string_agg(${point}, ',' order by m.n)
        filter (where m.n <= ${limit ?? null}::int8 or ${limit ?? null}::int8 is null) as json,
      count(*) > coalesce(${limit ?? null}::int8, count(*)) as more
    from (
      select p.*, row_number() over (order by p.timestamp, p.step, p.value) as n
      from (
        select value, timestamp, step, model_id, dataset_name, dataset_digest from tracking.metrics
        where run_uuid = ${runId} and key = ${key}
        order by timestamp, step, value
        offset ${offset} limit ${limit === undefined ? null : limit + 1}
      ) p
    ) m
  `.execute(db);
  return { json: `[${rows[0]!.json ?? ''}]`, more: rows[0]!.more };
}

/**
 * A metric point of the row in scope (columns `value`, `timestamp`, `step`, and with `withModel`
 * `model_id`, `dataset_name`, `dataset_digest`) as `Metric` protobuf JSON text, in the field order and
 * with the omissions of `rest/wire.ts`'s `toWireMetric`: NaN and infinities as the strings protobuf
 * JSON uses, doubles in PostgreSQL's shortest exact form, int64 digit for digit. `keyJson` is the key
 * as JSON text.
 */
function metricJsonSql(keyJson: RawBuilder<unknown>, withModel: boolean): RawBuilder<string> {
  const value = sql`case when value = 'NaN'::float8 or value = 'Infinity'::float8 or value = '-Infinity'::float8
    then '"' || value || '"' else value::text end`;
  const optional = (column: string) =>
    sql`case when ${sql.ref(column)} <> '' then ${sql.raw(`',"${column}":'`)} || to_json(${sql.ref(column)})::text end`;
  const model = withModel
    ? sql`, ${optional('model_id')}, ${optional('dataset_name')}, ${optional('dataset_digest')}`
    : sql``;
  return sql<string>`concat('{"key":', ${keyJson}, ',"value":', ${value}, ',"timestamp":', timestamp,
    ',"step":', step${model}, '}')`;
}

/** Points of a metric logged to some runs, counted from the chunk summaries (no scan of the points). */
export async function countMetricPoints(
  db: TrackingExecutor,
  runIds: string[],
  key: string,
): Promise<number> {
  const { rows } = await sql<{ points: number }>`
    select coalesce(sum(points), 0)::int8 as points from tracking.metric_chunks
    where run_uuid = any(${runIds}::text[]) and key = ${key}
  `.execute(db);
  return Number(rows[0]!.points);
}

/** Each run's distinct logged steps of a metric. */
export async function metricSteps(
  db: TrackingExecutor,
  runIds: string[],
  key: string,
): Promise<Map<string, Int64[]>> {
  const rows = await db
    .selectFrom('tracking.metrics')
    .select(['run_uuid', 'step'])
    .distinct()
    .where('run_uuid', 'in', runIds)
    .where('key', '=', key)
    .execute();
  const byRun = new Map<string, Int64[]>();
  for (const { run_uuid, step } of rows) {
    const steps = byRun.get(run_uuid);
    if (steps) steps.push(step);
    else byRun.set(run_uuid, [step]);
  }
  return byRun;
}

/** Every point of a metric at the given steps, by run (in `runIds` order), then step, timestamp, value. */
export async function metricPointsAtSteps(
  db: TrackingExecutor,
  runIds: string[],
  key: string,
  steps: Int64[],
): Promise<MetricRecord[]> {
  if (steps.length === 0) return [];
  const rows = await db
    .selectFrom('tracking.metrics')
    .select(['run_uuid', 'key', 'value', 'timestamp', 'step'])
    .where('run_uuid', 'in', runIds)
    .where('key', '=', key)
    .where('step', 'in', steps)
    .orderBy('step')
    .orderBy('timestamp')
    .orderBy('value')
    .execute();
  const order = new Map(runIds.map((id, index) => [id, index]));
  return rows
    .map((row) => ({
      key: row.key,
      value: row.value,
      timestamp: row.timestamp,
      step: row.step,
      runId: row.run_uuid,
    }))
    .sort((a, b) => order.get(a.runId)! - order.get(b.runId)!);
}

/** The UI's legacy bulk history: points of several runs, by run id then (timestamp, step, value). */
export async function historyBulk(
  db: TrackingExecutor,
  runIds: string[],
  key: string,
  maxResults: number,
): Promise<MetricRecord[]> {
  const rows = await db
    .selectFrom('tracking.metrics')
    .select(['run_uuid', 'key', 'value', 'timestamp', 'step'])
    .where('run_uuid', 'in', runIds)
    .where('key', '=', key)
    .orderBy('run_uuid')
    .orderBy('timestamp')
    .orderBy('step')
    .orderBy('value')
    .limit(maxResults)
    .execute();
  return rows.map((row) => ({
    key: row.key,
    value: row.value,
    timestamp: row.timestamp,
    step: row.step,
    runId: row.run_uuid,
  }));
}

/** A sort key of runs: SQL over `r` (and the joins), its PostgreSQL type, its direction. */
interface SortKey {
  value: RawBuilder<unknown>;
  type: 'boolean' | 'int8' | 'float8' | 'text';
  ascending: boolean;
}

/**
 * The sort keys of a search and the joins they read: each order_by term (`orderTermToSql`), then newest
 * first, then by id, so every run has one place.
 */
function sortKeysOf(orderBy: OrderByTerm[]): { joins: RawBuilder<unknown>[]; keys: SortKey[] } {
  const joins: RawBuilder<unknown>[] = [];
  const keys: SortKey[] = [];
  orderBy.forEach((term, index) => {
    const { join, keys: termKeys } = orderTermToSql(term, `o${index}`);
    if (join) joins.push(join);
    keys.push(...termKeys);
  });
  keys.push(
    { value: sql.ref('r.start_time'), type: 'int8', ascending: false },
    { value: sql.ref('r.run_uuid'), type: 'text', ascending: true },
  );
  return { joins, keys };
}

/**
 * Runs after a position in the keys' order: (k0 after v0) or (k0 = v0 and k1 after v1) or ..., each
 * key in its direction. NULL sorts as PostgreSQL's ORDER BY sorts it, above every value (last
 * ascending, first descending); NaN above every number, as PostgreSQL compares and sorts it.
 */
function afterPositionSql(keys: SortKey[], position: RunPosition): RawBuilder<boolean> {
  const alternatives = keys.map((key, i) => {
    const equalBefore = keys.slice(0, i).map((previous, j) => {
      const value = position.values[j];
      return value === null
        ? sql`${previous.value} is null`
        : sql`${previous.value} = ${value}::${sql.raw(previous.type)}`;
    });
    const value = position.values[i];
    const typed = sql`${value}::${sql.raw(key.type)}`;
    let after: RawBuilder<unknown>;
    if (key.ascending)
      after = value === null ? sql`false` : sql`(${key.value} is null or ${key.value} > ${typed})`;
    else after = value === null ? sql`${key.value} is not null` : sql`${key.value} < ${typed}`;
    return sql`(${sql.join([...equalBefore, after], sql` and `)})`;
  });
  return sql<boolean>`(${sql.join(alternatives, sql` or `)})`;
}

/**
 * The page a search selects: the runs' rows with their 1-based position (`ord`) and their sort key
 * values as text (`k0`, `k1`, ...: `positionOf`), filtered and ordered in SQL (runs lacking an order
 * key last, then newest first, then by id), after `search.after` when given. Undefined when no
 * experiment id names an experiment.
 */
function runPageSql(search: RunSearch): RawBuilder<RunPageRow> | undefined {
  const experimentIds = search.experimentIds
    .map(parseExperimentId)
    .filter((id): id is number => id !== undefined);
  if (experimentIds.length === 0) return undefined;
  const { joins, keys } = sortKeysOf(search.orderBy);
  const where = [
    sql`r.experiment_id = any(${experimentIds}::int8[])`,
    sql`r.lifecycle_stage in (${sql.join(lifecycleStages(search.viewType))})`,
  ];
  if (search.filter) where.push(filterToSql(search.filter, runComparison));
  if (search.after) where.push(afterPositionSql(keys, search.after));
  const order = sql.join(keys.map((key) => sql`${key.value} ${sql.raw(key.ascending ? 'asc' : 'desc')}`));
  const keyColumns = keys.map((key, i) => sql`(${key.value})::text as ${sql.id(`k${i}`)}`);
  return sql<RunPageRow>`
    select r.*, ${sql.join(keyColumns)}, row_number() over (order by ${order}) as ord
    from tracking.runs r ${sql.join(joins, sql` `)}
    where ${sql.join(where, sql` and `)}
    order by ${order}
    limit ${search.maxResults} offset ${search.offset}
  `;
}

type RunPageRow = RunsTable & { ord: number } & Record<`k${number}`, string | null>;

function positionOf(row: RunPageRow, keyCount: number): RunPosition {
  return { values: Array.from({ length: keyCount }, (_, i) => row[`k${i}`] ?? null) };
}

/** One page of runs, filtered and ordered in SQL, each with its position (for keyset cursors). */
export async function searchRuns(
  db: TrackingExecutor,
  search: RunSearch,
): Promise<Array<{ run: RunRecord; position: RunPosition }>> {
  const page = runPageSql(search);
  if (!page) return [];
  const { rows } = await page.execute(db);
  const keyCount = sortKeysOf(search.orderBy).keys.length;
  const runs = await assembleRuns(db, rows);
  return runs.map((run, i) => ({ run, position: positionOf(rows[i]!, keyCount) }));
}

/**
 * A keyset cursor: a run's position and a fingerprint of the order it belongs to, opaque to clients
 * (base64url JSON).
 */
export function encodeRunCursor(orderBy: OrderByTerm[], position: RunPosition): string {
  return Buffer.from(JSON.stringify({ o: orderFingerprint(orderBy), k: position.values })).toString(
    'base64url',
  );
}

/** The position in a cursor of `encodeRunCursor` for the same order; anything else is INVALID_PARAMETER_VALUE. */
export function decodeRunCursor(orderBy: OrderByTerm[], cursor: string): RunPosition {
  const { keys } = sortKeysOf(orderBy);
  let parsed: { o?: unknown; k?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // reported below
  }
  const values = parsed?.k;
  const valid =
    parsed?.o === orderFingerprint(orderBy) &&
    Array.isArray(values) &&
    values.length === keys.length &&
    values.every(
      (value, i) => value === null || (typeof value === 'string' && TEXT_OF[keys[i]!.type].test(value)),
    );
  if (!valid) {
    throw MlflowError.invalidParameter(
      `Invalid cursor '${cursor}': use a cursor of the same query's pageInfo or edges (same filter and orderBy).`,
    );
  }
  return { values: values as Array<string | null> };
}

/** PostgreSQL's text output of each sort key type (what a cursor may hold, so casting it cannot fail). */
const TEXT_OF: Record<SortKey['type'], RegExp> = {
  boolean: /^(true|false)$/,
  int8: /^-?\d{1,19}$/,
  float8: /^(-?\d+(\.\d+)?(e[+-]?\d+)?|NaN|-?Infinity)$/,
  text: /^/s,
};

function orderFingerprint(orderBy: OrderByTerm[]): string {
  const terms = orderBy.map((term) => [term.type, term.key, term.ascending]);
  return createHash('sha256').update(JSON.stringify(terms)).digest('base64url').slice(0, 12);
}

/** Runs `work` on a connection of its own (the caller adds the request's cancellation). */
export type OnConnection = <T>(work: (db: TrackingExecutor) => Promise<T>) => Promise<T>;

/**
 * One page of runs as MLflow's `runs/search` writes them (`Run` protobuf JSON: the fields and their
 * order of `rest/wire.ts`'s `toWireRun` without model inputs and outputs, which search leaves out;
 * unset fields and empty lists omitted, NaN and infinities as strings), written as text by PostgreSQL
 * (`runJsonSql`): a 1,000-run page is ~1.6 MB of JSON that would otherwise cost the event loop decoding
 * ~30,000 child rows and re-encoding them. The one reader that returns wire JSON rather than records,
 * for that reason; `json` is a JSON array, `count` its length.
 *
 * Without `onConnection`, one statement on `db` (least work for PostgreSQL and Node: what a busy
 * server wants). With it, the page query and then three parts of the runs' JSON at once, each on its
 * own connection, stitched here: a lone search then uses both of PostgreSQL's cores.
 */
export async function searchRunsJson(
  db: TrackingExecutor,
  search: RunSearch,
  onConnection?: OnConnection,
): Promise<{ json: string; count: number }> {
  const page = runPageSql(search);
  if (!page) return { json: '[]', count: 0 };
  if (!onConnection) {
    const { rows } = await sql<{ json: string; count: number }>`
      select count(*)::int as count, '[' || coalesce(string_agg(${runJsonSql(RUN_JSON_PARTS)}, ',' order by r.ord), '') || ']' as json
      from (${page}) r
    `.execute(db);
    return rows[0]!;
  }
  const rows = await onConnection(async (connection) => (await page.execute(connection)).rows);
  if (rows.length === 0) return { json: '[]', count: 0 };
  const ids = rows.map((row) => row.run_uuid);
  const [[metrics], [params], [info, tags, inputs]] = await Promise.all([
    onConnection((connection) => fragmentsPerRun(connection, ids, [RUN_JSON_PARTS.metrics])),
    onConnection((connection) => fragmentsPerRun(connection, ids, [RUN_JSON_PARTS.params])),
    onConnection((connection) =>
      fragmentsPerRun(connection, ids, [RUN_JSON_PARTS.info, RUN_JSON_PARTS.tags, RUN_JSON_PARTS.inputs]),
    ),
  ]);
  const runs = ids.map((_, i) => {
    // As `runJsonSql` puts them together.
    const data = [
      metrics![i] === '' ? undefined : `"metrics":${metrics![i]}`,
      params![i] === '' ? undefined : `"params":${params![i]}`,
      tags![i] === '' ? undefined : `"tags":${tags![i]}`,
    ].filter((field) => field !== undefined);
    return `{"info":${info![i]},"data":{${data.join(',')}},"inputs":${inputs![i]}}`;
  });
  return { json: `[${runs.join(',')}]`, count: runs.length };
}

/** SQL of a run's JSON parts over `r`, a `tracking.runs` row: JSON text, the lists null when empty. */
interface RunJsonParts {
  /** `RunInfo` as `toWireRunInfo` writes it. */
  info: RawBuilder<string>;
  /** The latest metrics, params and tags, each in key order. */
  metrics: RawBuilder<string | null>;
  params: RawBuilder<string | null>;
  tags: RawBuilder<string | null>;
  /** `RunInputs` with its dataset inputs (`{}` when none). */
  inputs: RawBuilder<string>;
}

const optionalField = (name: string, value: RawBuilder<unknown>) =>
  sql`case when ${value} is not null then ${sql.raw(`',"${name}":'`)} || ${value} end`;

const KEY_VALUE_JSON = sql<string>`concat('{"key":', to_json(key)::text, ',"value":', to_json(value)::text, '}')`;

/**
 * Text concatenation rather than `json_build_object`: PostgreSQL builds such text several times
 * faster, and a whole page's `json_strip_nulls` (to omit unset fields) cost more than the page.
 */
const RUN_JSON_PARTS: RunJsonParts = {
  info: sql<string>`concat('{"run_id":', to_json(r.run_uuid)::text, ',"run_uuid":', to_json(r.run_uuid)::text,
    ',"run_name":', to_json(r.name)::text, ',"experiment_id":"', r.experiment_id, '","user_id":', to_json(r.user_id)::text,
    ',"status":', to_json(r.status)::text, ',"start_time":', r.start_time,
    ${optionalField('end_time', sql`nullif(r.end_time, 0)`)},
    ${optionalField('artifact_uri', sql`to_json(nullif(r.artifact_uri, ''))::text`)},
    ',"lifecycle_stage":', to_json(r.lifecycle_stage)::text, '}')`,
  metrics: jsonListSql('tracking.latest_metrics', metricJsonSql(sql`to_json(key)::text`, false)),
  params: jsonListSql('tracking.params', KEY_VALUE_JSON),
  tags: jsonListSql('tracking.tags', KEY_VALUE_JSON),
  inputs: sql<string>`'{' || coalesce('"dataset_inputs":' || (
      select json_agg(json_strip_nulls(json_build_object(
          'tags', case when di.tags = '[]' then null else di.tags::json end,
          'dataset', json_build_object('name', d.name, 'digest', d.digest, 'source_type', d.source_type,
            'source', d.source, 'schema', nullif(d.schema, ''), 'profile', nullif(d.profile, ''))))
        order by d.name, d.digest)::text
      from tracking.dataset_inputs di join tracking.datasets d on d.dataset_uuid = di.dataset_uuid
      where di.run_uuid = r.run_uuid), '') || '}'`,
};

/** A run's rows of a per-run child table as a JSON array text (`element` per row, by key); null when none. */
function jsonListSql(table: string, element: RawBuilder<string>): RawBuilder<string | null> {
  return sql<string | null>`(select '[' || string_agg(${element}, ',' order by t.key) || ']'
    from ${sql.table(table)} t where t.run_uuid = r.run_uuid)`;
}

/** A run as `Run` protobuf JSON text from its parts (the `data` fields omitted when empty). */
function runJsonSql(parts: RunJsonParts): RawBuilder<string> {
  return sql<string>`concat('{"info":', ${parts.info}, ',"data":{',
    concat_ws(',', '"metrics":' || ${parts.metrics}, '"params":' || ${parts.params}, '"tags":' || ${parts.tags}),
    '},"inputs":', ${parts.inputs}, '}')`;
}

/**
 * Fragments (SQL over `r`) of each run, in `ids` order: per fragment, one text of every run's value
 * ('' for null) separated by the record separator U+001E, which JSON text never holds unescaped, so
 * a part comes back as one value to decode instead of a row per run.
 */
async function fragmentsPerRun(
  db: TrackingExecutor,
  ids: string[],
  fragments: RawBuilder<string | null>[],
): Promise<string[][]> {
  const columns = fragments.map(
    (fragment, i) => sql`string_agg(coalesce(${fragment}, ''), chr(30) order by ids.n) as ${sql.id(`f${i}`)}`,
  );
  const { rows } = await sql<Record<string, string>>`
    select ${sql.join(columns)}
    from unnest(${ids}::text[]) with ordinality as ids (run_uuid, n)
    join tracking.runs r on r.run_uuid = ids.run_uuid
  `.execute(db);
  return fragments.map((_, i) => rows[0]![`f${i}`]!.split(RECORD_SEPARATOR));
}

const RECORD_SEPARATOR = '\u001e';

/** Distinct (experiment, dataset, context) triples for the UI's dataset filter. */
export async function searchDatasets(
  db: TrackingExecutor,
  experimentIds: string[],
): Promise<DatasetSummaryRecord[]> {
  const ids = experimentIds.map(parseExperimentId).filter((id): id is number => id !== undefined);
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('tracking.dataset_inputs as di')
    .innerJoin('tracking.datasets as d', 'd.dataset_uuid', 'di.dataset_uuid')
    .select(['d.experiment_id', 'd.name', 'd.digest', 'di.context'])
    .distinct()
    .where('d.experiment_id', 'in', ids)
    .orderBy('d.experiment_id')
    .orderBy('d.name')
    .orderBy('d.digest')
    .limit(1000)
    .execute();
  return rows.map((row) => ({
    experimentId: row.experiment_id,
    name: row.name,
    digest: row.digest,
    context: row.context,
  }));
}

/**
 * A run with its latest metrics, params, tags, inputs and outputs (as `assembleRuns` gives a page's) in one
 * statement, undefined when there is no such run: `runs/get`, a cheap call, then waits for PostgreSQL
 * once rather than for a lookup and then six queries, which matters when searches keep the cores busy.
 * Child rows travel as JSON arrays of text, so int64 and non-finite values read back exactly.
 */
export async function findRunRecord(db: TrackingExecutor, runId: string): Promise<RunRecord | undefined> {
  const list = (elements: RawBuilder<unknown>, from: RawBuilder<unknown>) =>
    sql`(select coalesce(json_agg(${elements}), '[]')::text ${from})`;
  const { rows } = await sql<
    RunsTable & Record<'c_params' | 'c_tags' | 'c_metrics' | 'c_datasets' | 'c_inputs' | 'c_outputs', string>
  >`
    select r.*,
      ${list(sql`json_build_array(t.key, t.value) order by t.key`, sql`from tracking.params t where t.run_uuid = r.run_uuid`)} as c_params,
      ${list(sql`json_build_array(t.key, t.value) order by t.key`, sql`from tracking.tags t where t.run_uuid = r.run_uuid`)} as c_tags,
      ${list(
        sql`json_build_array(m.key, m.value::text, m.timestamp::text, m.step::text) order by m.key`,
        sql`from tracking.latest_metrics m where m.run_uuid = r.run_uuid`,
      )} as c_metrics,
      ${list(
        sql`json_build_array(di.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile) order by d.name, d.digest`,
        sql`from tracking.dataset_inputs di join tracking.datasets d on d.dataset_uuid = di.dataset_uuid
          where di.run_uuid = r.run_uuid`,
      )} as c_datasets,
      ${list(sql`i.model_id`, sql`from tracking.run_model_inputs i where i.run_uuid = r.run_uuid`)} as c_inputs,
      ${list(sql`json_build_array(o.model_id, o.step::text)`, sql`from tracking.run_model_outputs o where o.run_uuid = r.run_uuid`)} as c_outputs
    from tracking.runs r where r.run_uuid = ${runId}
  `.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const keyValues = (text: string) =>
    (JSON.parse(text) as [string, string][]).map(([key, value]): KeyValue => ({ key, value }));
  type DatasetArray = [string, string, string, string, string, string | null, string | null];
  return {
    info: toRunInfoRecord(row),
    latestMetrics: (JSON.parse(row.c_metrics) as [string, string, string, string][]).map(
      ([key, value, timestamp, step]): MetricRecord => ({
        key,
        value: Number(value),
        timestamp: parseInt8(timestamp),
        step: parseInt8(step),
      }),
    ),
    params: keyValues(row.c_params),
    tags: keyValues(row.c_tags),
    datasetInputs: (JSON.parse(row.c_datasets) as DatasetArray[]).map(
      ([tags, name, digest, source_type, source, schema, profile]) =>
        toDatasetInputRecord({ run_uuid: runId, tags, name, digest, source_type, source, schema, profile }),
    ),
    modelInputs: JSON.parse(row.c_inputs) as string[],
    modelOutputs: (JSON.parse(row.c_outputs) as [string, string][]).map(([modelId, step]) => ({
      modelId,
      step: parseInt8(step) as number,
    })),
  };
}

/**
 * Runs with their latest metrics, params, tags and dataset inputs, in a fixed number of queries; model
 * inputs and outputs are left out, as MLflow's search leaves them.
 */
async function assembleRuns(db: TrackingExecutor, rows: RunsTable[]): Promise<RunRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.run_uuid);
  const [params, tags, metrics, datasets] = await Promise.all([
    childRows<{ run_uuid: string; key: string; value: string }>(db, ids, 'tracking.params', sql`key, value`),
    childRows<{ run_uuid: string; key: string; value: string }>(db, ids, 'tracking.tags', sql`key, value`),
    childRows<{ run_uuid: string; key: string; value: number; timestamp: number; step: number }>(
      db,
      ids,
      'tracking.latest_metrics',
      sql`key, value, timestamp, step`,
    ),
    selectDatasetInputs(db, ids),
  ]);
  const paramsByRun = groupBy(params, (p): KeyValue => ({ key: p.key, value: p.value }));
  const tagsByRun = groupBy(tags, (t): KeyValue => ({ key: t.key, value: t.value }));
  const metricsByRun = groupBy(
    metrics,
    (m): MetricRecord => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step }),
  );
  const datasetsByRun = groupBy(datasets, toDatasetInputRecord);
  return rows.map((row) => {
    const id = row.run_uuid;
    return {
      info: toRunInfoRecord(row),
      latestMetrics: metricsByRun.get(id) ?? [],
      params: paramsByRun.get(id) ?? [],
      tags: tagsByRun.get(id) ?? [],
      datasetInputs: datasetsByRun.get(id) ?? [],
      modelInputs: [],
    };
  });
}

export function toRunInfoRecord(row: RunsTable): RunInfoRecord {
  return {
    runId: row.run_uuid,
    experimentId: row.experiment_id,
    name: row.name,
    userId: row.user_id,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    artifactUri: row.artifact_uri,
    lifecycleStage: row.lifecycle_stage,
  };
}

/**
 * Rows of a per-run child table for a page of runs, each run's rows by key. The lateral join probes the
 * primary key once per run whatever the planner's cost settings (an `in`/`any` list over 1000 ids made
 * it scan the whole table).
 */
async function childRows<R>(
  db: TrackingExecutor,
  ids: string[],
  table: string,
  columns: RawBuilder<unknown>,
): Promise<R[]> {
  const { rows } = await sql<R>`
    select ids.run_uuid, c.* from unnest(${ids}::text[]) as ids (run_uuid)
    cross join lateral (
      select ${columns} from ${sql.table(table)} t where t.run_uuid = ids.run_uuid order by key
    ) c
  `.execute(db);
  return rows;
}

function groupBy<R extends { run_uuid: string }, T>(rows: R[], map: (row: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.run_uuid);
    if (list) list.push(map(row));
    else groups.set(row.run_uuid, [map(row)]);
  }
  return groups;
}

/** A log-batch as the store writes it: rules applied (validated, truncated). */
export interface LogBatchWrite {
  metrics: MetricPoint[];
  /** Distinct keys. */
  params: KeyValue[];
  /** Last value per key. */
  tags: KeyValue[];
}

export interface LogBatchOutcome {
  /** The run's lifecycle stage before the write; null when there is no such run. */
  stage: string | null;
  /** Params whose stored value differs from the logged one; null when there are none. */
  conflicts: Array<{ key: string; old_value: string; new_value: string }> | null;
}

/** SQLSTATE raised by `tracking.reject_raced_params()` (migration 0004). */
const PARAMS_RACED_SQLSTATE = 'MA409';

/**
 * A concurrent writer stored another value for a param between this statement's snapshot and its
 * insert. The statement wrote nothing; run again, it sees the stored value and reports the conflict.
 */
export class ParamsRaced extends Error {
  override name = 'ParamsRaced';
  constructor(readonly runId: string) {
    super(`A concurrent request logged a param of run ${runId} with another value.`);
  }
}

/**
 * A whole log-batch as one SQL statement (one round trip, atomic without a transaction): every write
 * runs only when the run is active and no param would change value; the result says which check failed.
 * Params are immutable: the conflict check reads the statement's snapshot, and the insert re-checks
 * each key against the latest committed row (`on conflict do update ... where` waits for a concurrent
 * inserter and sees its value), so a value stored after the snapshot aborts the statement through
 * `tracking.reject_raced_params()` rather than being silently dropped. Identical metric points are
 * ignored (the metrics trigger then counts only the points inserted, and moves each chunk's last point,
 * hence the run's latest value, only forward by (step, timestamp, value): migration 0005), tags
 * overwrite and `mlflow.runName` renames the run (its row locked first, the order renames take locks
 * in). Rows are written in key order so concurrent batches lock them in one order. Metrics logged with a
 * known `model_id` also go to that logged model.
 */
function logBatchStatement(runId: string, batch: LogBatchWrite): RawBuilder<LogBatchOutcome> {
  const renames = batch.tags.some((tag) => tag.key === RUN_NAME_TAG);
  const parts: RawBuilder<unknown>[] = [
    sql`run as (select lifecycle_stage from tracking.runs where run_uuid = ${runId}${renames ? sql` for no key update` : sql``})`,
  ];
  const ok = sql`exists (select 1 from ok)`;
  let racedCheck = sql`null::boolean`;
  if (batch.params.length > 0) {
    const rows = sortByKey(batch.params).map((p) => sql`(${p.key}::text, ${p.value}::text)`);
    parts.push(
      sql`new_params (key, value) as (values ${sql.join(rows)})`,
      sql`conflicts as (
        select n.key, p.value as old_value, n.value as new_value
        from new_params n join tracking.params p on p.run_uuid = ${runId} and p.key = n.key
        where p.value <> n.value)`,
      sql`ok as (select 1 from run where lifecycle_stage = 'active' and not exists (select 1 from conflicts))`,
      sql`write_params as (
        insert into tracking.params as p (run_uuid, key, value)
        select ${runId}, key, value from new_params where ${ok}
        on conflict (run_uuid, key) do update set value = excluded.value where p.value = excluded.value
        returning 1)`,
    );
    racedCheck = sql`case when ${ok} and (select count(*) from write_params) < ${batch.params.length}
      then tracking.reject_raced_params() end`;
  } else {
    parts.push(
      sql`conflicts as (select ''::text as key, ''::text as old_value, ''::text as new_value where false)`,
      sql`ok as (select 1 from run where lifecycle_stage = 'active')`,
    );
  }
  if (batch.metrics.length > 0) {
    // Columns as arrays, unnested in SQL: seven bind parameters whatever the batch size, instead of
    // seven per point (a 1,000-point batch was 7,000 parameters to bind and parse).
    const metrics = batch.metrics;
    parts.push(
      sql`new_metrics (key, step, timestamp, value, model_id, dataset_name, dataset_digest) as (
        select * from unnest(${metrics.map((m) => m.key)}::text[], ${metrics.map((m) => m.step)}::int8[],
          ${metrics.map((m) => m.timestamp)}::int8[], ${metrics.map((m) => m.value)}::float8[],
          ${metrics.map((m) => m.model_id ?? null)}::text[], ${metrics.map((m) => m.dataset_name ?? null)}::text[],
          ${metrics.map((m) => m.dataset_digest ?? null)}::text[]))`,
      sql`write_metrics as (
        insert into tracking.metrics (run_uuid, key, step, timestamp, value, model_id, dataset_name, dataset_digest)
        select ${runId}, m.* from new_metrics m where ${ok} on conflict do nothing)`,
    );
    if (batch.metrics.some((m) => m.model_id !== undefined)) {
      parts.push(sql`write_model_metrics as (
        insert into tracking.logged_model_metrics
          (model_id, key, step, timestamp, value, run_uuid, dataset_name, dataset_digest)
        select m.model_id, m.key, m.step, m.timestamp, m.value, ${runId}, m.dataset_name, m.dataset_digest
        from new_metrics m
        where m.model_id is not null and ${ok}
          and exists (select 1 from tracking.logged_models lm where lm.model_id = m.model_id)
        on conflict do nothing)`);
    }
  }
  if (batch.tags.length > 0) {
    const rows = sortByKey(batch.tags).map((tag) => sql`(${tag.key}::text, ${tag.value}::text)`);
    parts.push(sql`write_tags as (
      insert into tracking.tags (run_uuid, key, value)
      select ${runId}, t.key, t.value from (values ${sql.join(rows)}) as t (key, value) where ${ok}
      on conflict (run_uuid, key) do update set value = excluded.value)`);
    const runName = batch.tags.find((tag) => tag.key === RUN_NAME_TAG)?.value;
    if (runName !== undefined) {
      parts.push(sql`rename_run as (
        update tracking.runs set name = ${runName} where run_uuid = ${runId} and ${ok})`);
    }
  }
  return sql<LogBatchOutcome>`
    with ${sql.join(parts)}
    select (select lifecycle_stage from run) as stage,
      (select json_agg(json_build_object('key', key, 'old_value', old_value, 'new_value', new_value) order by key)
        from conflicts) as conflicts,
      ${racedCheck} as raced
  `;
}

function sortByKey<T extends { key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const RUN_COLUMNS: Record<string, string> = {
  run_id: 'run_uuid',
  run_name: 'name',
  user_id: 'user_id',
  status: 'status',
  artifact_uri: 'artifact_uri',
  start_time: 'start_time',
  end_time: 'end_time',
  lifecycle_stage: 'lifecycle_stage',
};

const DATASET_COLUMNS: Record<string, string> = { name: 'd.name', digest: 'd.digest', context: 'di.context' };

function runComparison(comparison: Comparison): RawBuilder<boolean> {
  const run = sql.ref('r.run_uuid');
  switch (comparison.type) {
    case 'metric':
      return compareLatestMetric(run, comparison);
    case 'param':
      return compareKeyValue('tracking.params', run, 'run_uuid', comparison, compareColumn);
    case 'tag':
      return compareKeyValue('tracking.tags', run, 'run_uuid', comparison, compareColumn);
    case 'dataset': {
      const test = compareColumn(sql.ref(DATASET_COLUMNS[comparison.key]!), comparison);
      return sql<boolean>`exists (select 1 from tracking.dataset_inputs di join tracking.datasets d on d.dataset_uuid = di.dataset_uuid where di.run_uuid = r.run_uuid and ${test})`;
    }
    case 'attribute':
      return compareColumn(sql.ref(`r.${RUN_COLUMNS[comparison.key] ?? comparison.key}`), comparison);
  }
}

/**
 * A run's latest value of a metric as a subquery of one row (`value`), none when the run never logged
 * the key: the last point of the key's highest chunk summary (migration 0005), one probe of the
 * summaries' primary key. Filters and orderings use it rather than the `tracking.latest_metrics` view,
 * which PostgreSQL cannot probe per run from a join or an EXISTS (it would read every summary of the key).
 */
function latestMetricSql(run: RawBuilder<unknown>, key: string): RawBuilder<unknown> {
  return sql`(select c.last_value as value from tracking.metric_chunks c
    where c.run_uuid = ${run} and c.key = ${key} order by c.chunk desc limit 1)`;
}

/**
 * A metric comparison on the run's latest value: a run without the key never matches, not even `!=`
 * (as `compareKeyValue` for params and tags; the grammar allows no `IS NULL` on metrics). The value is
 * compared as MLflow's SQL store holds it (`_get_metric_value_details`): NaN as 0 and ±Infinity as the
 * largest finite doubles, so `metrics.loss < 1` matches a NaN loss and `metrics.loss != 0` does not.
 */
function compareLatestMetric(run: RawBuilder<unknown>, comparison: Comparison): RawBuilder<boolean> {
  const stored = sql`(case when kv.value = 'NaN'::float8 then 0::float8
    when kv.value = 'Infinity'::float8 then 1.7976931348623157e308::float8
    when kv.value = '-Infinity'::float8 then -1.7976931348623157e308::float8 else kv.value end)`;
  return sql<boolean>`exists (select 1 from ${latestMetricSql(run, comparison.key)} kv
    where ${compareDouble(stored, comparison)})`;
}

/**
 * An order_by term as sort keys (and the join they read); runs lacking the key (or with a NaN metric)
 * sort last in both directions, NaN before missing: the first key ranks the value's absence.
 */
function orderTermToSql(term: OrderByTerm, alias: string): { join?: RawBuilder<unknown>; keys: SortKey[] } {
  const { ascending } = term;
  if (term.type === 'attribute') {
    const column = sql.ref(`r.${RUN_COLUMNS[term.key] ?? term.key}`);
    const type = term.key === 'start_time' || term.key === 'end_time' ? 'int8' : 'text';
    return {
      keys: [
        { value: sql`(${column} is null)`, type: 'boolean', ascending: true },
        { value: column, type, ascending },
      ],
    };
  }
  const ref = sql.id(alias);
  const join =
    term.type === 'metric'
      ? sql`left join lateral ${latestMetricSql(sql.ref('r.run_uuid'), term.key)} ${ref} on true`
      : sql`left join ${sql.table(term.type === 'param' ? 'tracking.params' : 'tracking.tags')} ${ref}
          on ${ref}.run_uuid = r.run_uuid and ${ref}.key = ${term.key}`;
  // MLflow's SQL store ranks a NaN metric (1) before a missing one (2) in both directions.
  const missing: SortKey =
    term.type === 'metric'
      ? {
          value: sql`(case when ${ref}.value is null then 2 when ${ref}.value = 'NaN'::float8 then 1 else 0 end)::int8`,
          type: 'int8',
          ascending: true,
        }
      : { value: sql`(${ref}.value is null)`, type: 'boolean', ascending: true };
  return {
    join,
    keys: [
      missing,
      { value: sql`${ref}.value`, type: term.type === 'metric' ? 'float8' : 'text', ascending },
    ],
  };
}
