import { compareColumn, compareDouble, compareKeyValue, filterToSql, MlflowError } from '@mast/common';
import type { LoggedModelStatus } from '@mast/proto';
import { type RawBuilder, sql } from 'kysely';
import { parseExperimentId } from '../domain/ids.js';
import { normalizeStatus } from '../domain/logged-models.js';
import type { KeyValue, LoggedModelRecord, MetricRecord } from '../domain/records.js';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import type { LoggedModelsTable, TrackingExecutor } from './schema.js';

/** A `datasets` entry of SearchLoggedModels: metrics on this dataset (any digest when none is given). */
export interface DatasetFilter {
  name: string;
  digest?: string;
}

/**
 * One ordering key: a `tracking.logged_models` column, or the latest value of a metric (optionally only
 * among points logged against one dataset).
 */
export type LoggedModelOrderTerm =
  | { kind: 'attribute'; column: LoggedModelColumn; ascending: boolean }
  | { kind: 'metric'; key: string; ascending: boolean; datasetName?: string; datasetDigest?: string };

export type LoggedModelColumn = Exclude<keyof LoggedModelsTable, 'lifecycle_stage'>;

/** order_by attribute names (MLflow's `VALID_ORDER_BY_ATTRIBUTE_KEYS` plus the SQL store's column names). */
const ORDER_COLUMNS: Readonly<Record<string, LoggedModelColumn>> = {
  name: 'name',
  model_id: 'model_id',
  model_type: 'model_type',
  status: 'status',
  source_run_id: 'source_run_id',
  experiment_id: 'experiment_id',
  artifact_location: 'artifact_location',
  creation_timestamp: 'creation_timestamp_ms',
  creation_time: 'creation_timestamp_ms',
  creation_timestamp_ms: 'creation_timestamp_ms',
  last_updated_timestamp: 'last_updated_timestamp_ms',
  last_updated_time: 'last_updated_timestamp_ms',
  last_updated_timestamp_ms: 'last_updated_timestamp_ms',
};

/**
 * One order_by entry of SearchLoggedModels (REST and GraphQL): an attribute name or `metrics.<key>`,
 * optionally on one dataset; MLflow's messages for what it rejects.
 */
export function loggedModelOrderTerm(entry: {
  fieldName: string;
  ascending: boolean;
  datasetName?: string;
  datasetDigest?: string;
}): LoggedModelOrderTerm {
  const { fieldName, ascending, datasetName, datasetDigest } = entry;
  if (datasetDigest !== undefined && datasetName === undefined) {
    throw MlflowError.invalidParameter(
      '`dataset_digest` can only be specified if `dataset_name` is also specified.',
    );
  }
  const dot = fieldName.indexOf('.');
  if (dot >= 0) {
    const entity = fieldName.slice(0, dot);
    const key = fieldName.slice(dot + 1);
    if (entity !== 'metrics' || key === '') {
      throw MlflowError.invalidParameter(
        `Invalid order by field name: ${fieldName}. Only metrics are supported.`,
      );
    }
    return { kind: 'metric', key, ascending, datasetName, datasetDigest };
  }
  const column = Object.hasOwn(ORDER_COLUMNS, fieldName.trim()) ? ORDER_COLUMNS[fieldName.trim()] : undefined;
  if (column === undefined) throw MlflowError.invalidParameter(`Invalid order by field name: ${fieldName}`);
  return { kind: 'attribute', column, ascending };
}

export interface LoggedModelSearch {
  experimentIds: string[];
  filter: FilterNode | undefined;
  datasets: DatasetFilter[];
  orderBy: LoggedModelOrderTerm[];
  maxResults: number;
  offset: number;
}

/** Rows per INSERT: keeps any request far below PostgreSQL's 65535 bind parameters. */
const INSERT_CHUNK = 1000;

/** Filter attribute keys (canonical, as the parser returns them) → columns. */
const FILTER_COLUMNS: Readonly<Record<string, LoggedModelColumn>> = {
  name: 'name',
  model_id: 'model_id',
  model_type: 'model_type',
  status: 'status',
  source_run_id: 'source_run_id',
  creation_timestamp: 'creation_timestamp_ms',
  last_updated_timestamp: 'last_updated_timestamp_ms',
};

/** The model's row (any lifecycle stage), or undefined. */
export function findLoggedModel(
  db: TrackingExecutor,
  modelId: string,
): Promise<LoggedModelsTable | undefined> {
  return db
    .selectFrom('tracking.logged_models')
    .selectAll()
    .where('model_id', '=', modelId)
    .executeTakeFirst();
}

/** The model's row, locked against concurrent writers until the transaction ends; undefined when unknown. */
export function lockLoggedModel(
  db: TrackingExecutor,
  modelId: string,
): Promise<LoggedModelsTable | undefined> {
  return db
    .selectFrom('tracking.logged_models')
    .selectAll()
    .where('model_id', '=', modelId)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/** The experiment's stage and artifact location, share-locked so it cannot be deleted meanwhile. */
export function lockExperimentShared(
  db: TrackingExecutor,
  experimentId: number,
): Promise<{ lifecycle_stage: string; artifact_location: string } | undefined> {
  return db
    .selectFrom('tracking.experiments')
    .select(['lifecycle_stage', 'artifact_location'])
    .where('experiment_id', '=', experimentId)
    .forShare()
    .executeTakeFirst();
}

/** Inserts a model with its params and tags. */
export async function insertLoggedModel(
  db: TrackingExecutor,
  row: LoggedModelsTable,
  params: KeyValue[],
  tags: KeyValue[],
): Promise<void> {
  await db.insertInto('tracking.logged_models').values(row).execute();
  await insertKeyValues(db, 'tracking.logged_model_params', row.model_id, params);
  await insertKeyValues(db, 'tracking.logged_model_tags', row.model_id, tags);
}

export async function setLoggedModelStatus(
  db: TrackingExecutor,
  modelId: string,
  status: LoggedModelStatus,
  now: number,
): Promise<void> {
  await db
    .updateTable('tracking.logged_models')
    .set({ status, last_updated_timestamp_ms: now })
    .where('model_id', '=', modelId)
    .execute();
}

/** Soft delete; false when there is no such model. */
export async function markLoggedModelDeleted(
  db: TrackingExecutor,
  modelId: string,
  now: number,
): Promise<boolean> {
  const updated = await db
    .updateTable('tracking.logged_models')
    .set({ lifecycle_stage: 'deleted', last_updated_timestamp_ms: now })
    .where('model_id', '=', modelId)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Upserts tags (distinct keys). */
export async function upsertLoggedModelTags(
  db: TrackingExecutor,
  modelId: string,
  tags: KeyValue[],
): Promise<void> {
  for (let i = 0; i < tags.length; i += INSERT_CHUNK) {
    await db
      .insertInto('tracking.logged_model_tags')
      .values(
        tags.slice(i, i + INSERT_CHUNK).map((tag) => ({ model_id: modelId, key: tag.key, value: tag.value })),
      )
      .onConflict((oc) =>
        oc.columns(['model_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
      )
      .execute();
  }
}

/** Deletes one tag; false when the model has no such tag. */
export async function deleteLoggedModelTag(
  db: TrackingExecutor,
  modelId: string,
  key: string,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom('tracking.logged_model_tags')
    .where('model_id', '=', modelId)
    .where('key', '=', key)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** The model's params. */
export function loggedModelParams(db: TrackingExecutor, modelId: string): Promise<KeyValue[]> {
  return db
    .selectFrom('tracking.logged_model_params')
    .select(['key', 'value'])
    .where('model_id', '=', modelId)
    .execute();
}

/** Inserts params whose keys the model does not have yet. */
export function insertLoggedModelParams(
  db: TrackingExecutor,
  modelId: string,
  params: KeyValue[],
): Promise<void> {
  return insertKeyValues(db, 'tracking.logged_model_params', modelId, params);
}

/**
 * One page of active models: filter, dataset restriction and ordering all in one SQL statement, then
 * params, tags and metrics of the page in one statement each (four in all, whatever the page size).
 */
export async function searchLoggedModels(
  db: TrackingExecutor,
  search: LoggedModelSearch,
): Promise<{ models: LoggedModelRecord[]; hasMore: boolean }> {
  const experimentIds = search.experimentIds
    .map(parseExperimentId)
    .filter((id): id is number => id !== undefined);
  if (experimentIds.length === 0) return { models: [], hasMore: false };
  const where: RawBuilder<unknown>[] = [
    sql`m.experiment_id in (${sql.join(experimentIds)})`,
    sql`m.lifecycle_stage = 'active'`,
  ];
  const datasets = search.datasets;
  if (search.filter)
    where.push(filterToSql(search.filter, (comparison) => modelComparison(comparison, datasets)));
  if (datasets.length > 0 && !(search.filter && hasMetricComparison(search.filter))) {
    where.push(
      sql`exists (select 1 from tracking.logged_model_metrics dm where dm.model_id = m.model_id and ${datasetCondition('dm', datasets)})`,
    );
  }
  const joins: RawBuilder<unknown>[] = [];
  const orderings: RawBuilder<unknown>[] = [];
  search.orderBy.forEach((term, index) => {
    const { join, ordering } = orderTermToSql(term, `o${index}`);
    if (join) joins.push(join);
    orderings.push(...ordering);
  });
  if (!search.orderBy.some((term) => term.kind === 'attribute' && term.column === 'creation_timestamp_ms')) {
    orderings.push(sql`m.creation_timestamp_ms desc`);
  }
  if (!search.orderBy.some((term) => term.kind === 'attribute' && term.column === 'model_id')) {
    orderings.push(sql`m.model_id asc`);
  }
  const { rows } = await sql<LoggedModelsTable>`
    select m.* from tracking.logged_models m ${sql.join(joins, sql` `)}
    where ${sql.join(where, sql` and `)}
    order by ${sql.join(orderings)}
    limit ${search.maxResults + 1} offset ${search.offset}
  `.execute(db);
  const hasMore = rows.length > search.maxResults;
  return { models: await assembleLoggedModels(db, rows.slice(0, search.maxResults)), hasMore };
}

/** The params or tags of some models, by model then key. */
function keyValuesOf(
  db: TrackingExecutor,
  table: 'tracking.logged_model_params' | 'tracking.logged_model_tags',
  ids: string[],
): Promise<Array<{ model_id: string; key: string; value: string }>> {
  return db
    .selectFrom(table)
    .select(['model_id', 'key', 'value'])
    .where('model_id', 'in', ids)
    .orderBy('model_id')
    .orderBy('key')
    .execute();
}

/** Models with their params, tags and metric points: three statements for any number of models. */
export async function assembleLoggedModels(
  db: TrackingExecutor,
  rows: LoggedModelsTable[],
): Promise<LoggedModelRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.model_id);
  // Sequential, not Promise.all: inside a transaction the statements share one connection.
  const params = await keyValuesOf(db, 'tracking.logged_model_params', ids);
  const tags = await keyValuesOf(db, 'tracking.logged_model_tags', ids);
  const metrics = await db
    .selectFrom('tracking.logged_model_metrics')
    .selectAll()
    .where('model_id', 'in', ids)
    .orderBy('model_id')
    .orderBy('key')
    .orderBy('timestamp')
    .orderBy('step')
    .orderBy('value')
    .execute();
  const paramsByModel = groupBy(params, (p): KeyValue => ({ key: p.key, value: p.value }));
  const tagsByModel = groupBy(tags, (t): KeyValue => ({ key: t.key, value: t.value }));
  const metricsByModel = groupBy(
    metrics,
    (m): MetricRecord => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      step: m.step,
      datasetName: m.dataset_name ?? undefined,
      datasetDigest: m.dataset_digest ?? undefined,
      modelId: m.model_id,
      runId: m.run_uuid ?? undefined,
    }),
  );
  return rows.map((row) =>
    toLoggedModelRecord(
      row,
      paramsByModel.get(row.model_id) ?? [],
      tagsByModel.get(row.model_id) ?? [],
      metricsByModel.get(row.model_id) ?? [],
    ),
  );
}

export function toLoggedModelRecord(
  row: LoggedModelsTable,
  params: KeyValue[],
  tags: KeyValue[],
  metrics: MetricRecord[],
): LoggedModelRecord {
  return {
    modelId: row.model_id,
    experimentId: row.experiment_id,
    name: row.name,
    artifactLocation: row.artifact_location,
    creationTime: row.creation_timestamp_ms,
    lastUpdatedTime: row.last_updated_timestamp_ms,
    status: row.status,
    modelType: row.model_type,
    sourceRunId: row.source_run_id,
    statusMessage: row.status_message,
    params,
    tags,
    metrics,
  };
}

function groupBy<R extends { model_id: string }, T>(rows: R[], map: (row: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.model_id);
    if (list) list.push(map(row));
    else groups.set(row.model_id, [map(row)]);
  }
  return groups;
}

async function insertKeyValues(
  db: TrackingExecutor,
  table: 'tracking.logged_model_params' | 'tracking.logged_model_tags',
  modelId: string,
  items: KeyValue[],
): Promise<void> {
  for (let i = 0; i < items.length; i += INSERT_CHUNK) {
    await db
      .insertInto(table)
      .values(
        items
          .slice(i, i + INSERT_CHUNK)
          .map((item) => ({ model_id: modelId, key: item.key, value: item.value })),
      )
      .execute();
  }
}

/** `(alias.dataset_name = … [and alias.dataset_digest = …]) or …` for the request's `datasets`. */
function datasetCondition(alias: string, datasets: DatasetFilter[]): RawBuilder<boolean> {
  const ref = sql.id(alias);
  const each = datasets.map((dataset) =>
    dataset.digest === undefined
      ? sql`${ref}.dataset_name = ${dataset.name}`
      : sql`(${ref}.dataset_name = ${dataset.name} and ${ref}.dataset_digest = ${dataset.digest})`,
  );
  return sql<boolean>`(${sql.join(each, sql` or `)})`;
}

function hasMetricComparison(node: FilterNode): boolean {
  return node.kind === 'comparison'
    ? node.comparison.type === 'metric'
    : node.children.some(hasMetricComparison);
}

/**
 * A metric test matches when the model's latest point of that metric (by timestamp, then step) on some
 * dataset satisfies it — each (dataset name, digest) keeps its own latest value, so a model evaluated on
 * several datasets matches when any of them does, as with MLflow — among the request's `datasets` when
 * given. A model without the metric never matches.
 */
function metricComparison(comparison: Comparison, datasets: DatasetFilter[]): RawBuilder<boolean> {
  const restriction = datasets.length > 0 ? sql` and ${datasetCondition('lm', datasets)}` : sql``;
  return sql<boolean>`exists (
    select 1 from tracking.logged_model_metrics lm
    where lm.model_id = m.model_id and lm.key = ${comparison.key}${restriction}
      and ${compareDouble(sql`lm.value`, comparison)}
      and not exists (
        select 1 from tracking.logged_model_metrics nx
        where nx.model_id = lm.model_id and nx.key = lm.key
          and nx.dataset_name is not distinct from lm.dataset_name
          and nx.dataset_digest is not distinct from lm.dataset_digest
          and (nx.timestamp, nx.step) > (lm.timestamp, lm.step)
      )
  )`;
}

function modelComparison(comparison: Comparison, datasets: DatasetFilter[]): RawBuilder<boolean> {
  const model = sql.ref('m.model_id');
  switch (comparison.type) {
    case 'metric':
      return metricComparison(comparison, datasets);
    case 'param':
      return compareKeyValue('tracking.logged_model_params', model, 'model_id', comparison, compareColumn);
    case 'tag':
      return compareKeyValue('tracking.logged_model_tags', model, 'model_id', comparison, compareColumn);
    case 'attribute': {
      const column = FILTER_COLUMNS[comparison.key];
      if (column === undefined) {
        throw MlflowError.invalidParameter(`Invalid attribute key '${comparison.key}' specified.`);
      }
      const normalized = column === 'status' ? normalizeStatus(comparison) : comparison;
      return compareColumn(sql.ref(`m.${column}`), normalized);
    }
    case 'dataset':
      throw MlflowError.invalidParameter(
        `Invalid entity type 'dataset'. Valid values are ['metric', 'parameter', 'tag', 'attribute']`,
      );
  }
}

/**
 * An order_by term as SQL. Metric terms join the model's latest point of the metric (by timestamp, then
 * step, as MLflow ranks them), on the term's dataset when given. Missing values — and NaN metrics — sort
 * last in both directions.
 */
function orderTermToSql(
  term: LoggedModelOrderTerm,
  alias: string,
): { join?: RawBuilder<unknown>; ordering: RawBuilder<unknown>[] } {
  const direction = sql.raw(term.ascending ? 'asc' : 'desc');
  if (term.kind === 'attribute') {
    const column = sql.ref(`m.${term.column}`);
    return { ordering: [sql`(${column} is null)`, sql`${column} ${direction}`] };
  }
  const ref = sql.id(alias);
  const conditions = [sql`x.model_id = m.model_id`, sql`x.key = ${term.key}`];
  if (term.datasetName !== undefined) conditions.push(sql`x.dataset_name = ${term.datasetName}`);
  if (term.datasetDigest !== undefined) conditions.push(sql`x.dataset_digest = ${term.datasetDigest}`);
  const join = sql`left join lateral (
    select x.value from tracking.logged_model_metrics x
    where ${sql.join(conditions, sql` and `)}
    order by x.timestamp desc, x.step desc, x.value desc
    limit 1
  ) ${ref} on true`;
  return {
    join,
    // NaN compares equal to NaN in PostgreSQL, so nullif folds it into "missing" and tie-breakers decide.
    ordering: [
      sql`(nullif(${ref}.value, 'NaN'::float8) is null)`,
      sql`nullif(${ref}.value, 'NaN'::float8) ${direction}`,
    ],
  };
}
