import { MlflowError } from '@mast/common';
import type { LoggedModel, LoggedModelStatus, Metric } from '@mast/proto';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import { childUri, experimentNotFound, parseExperimentId } from './experiment-store.js';
import type { LoggedModelsTable, TrackingDatabase } from './schema.js';
import { compareColumn, compareDouble, compareKeyValue, filterToSql } from './search-sql.js';

export interface KeyValue {
  key: string;
  value: string;
}

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

export interface LoggedModelSearch {
  experimentIds: string[];
  filter: FilterNode | undefined;
  datasets: DatasetFilter[];
  orderBy: LoggedModelOrderTerm[];
  maxResults: number;
  offset: number;
}

export function loggedModelNotFound(modelId: string): MlflowError {
  return MlflowError.notFound(`Logged model with ID '${modelId}' not found.`);
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

/** Python's `LoggedModelStatus` names (what `mlflow` users write) → the stored proto names. */
const STATUS_ALIASES: Readonly<Record<string, LoggedModelStatus>> = {
  UNSPECIFIED: 'LOGGED_MODEL_STATUS_UNSPECIFIED',
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};

/** MLflow 3 logged models with their params, tags and metrics, in the `tracking` schema. */
export class LoggedModelStore {
  constructor(private readonly db: Kysely<TrackingDatabase>) {}

  /**
   * Creates a model in an active experiment, with its params and tags, in one transaction (the
   * experiment row is share-locked so it cannot be deleted meanwhile).
   */
  async create(input: {
    modelId: string;
    experimentId: string;
    name: string;
    modelType?: string;
    sourceRunId?: string;
    params: KeyValue[];
    tags: KeyValue[];
    now: number;
  }): Promise<LoggedModel> {
    const experimentId = parseExperimentId(input.experimentId);
    if (experimentId === undefined) throw experimentNotFound(input.experimentId);
    const params = uniqueParams(input.params);
    const tags = lastValuePerKey(input.tags);
    return this.db.transaction().execute(async (tx) => {
      const experiment = await tx
        .selectFrom('tracking.experiments')
        .select(['lifecycle_stage', 'artifact_location'])
        .where('experiment_id', '=', experimentId)
        .forShare()
        .executeTakeFirst();
      if (!experiment) throw experimentNotFound(input.experimentId);
      if (experiment.lifecycle_stage !== 'active') {
        throw MlflowError.invalidParameter(
          `The experiment ${input.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycle_stage}.`,
        );
      }
      const row: LoggedModelsTable = {
        model_id: input.modelId,
        experiment_id: experimentId,
        name: input.name,
        artifact_location: childUri(experiment.artifact_location, `models/${input.modelId}/artifacts`),
        creation_timestamp_ms: input.now,
        last_updated_timestamp_ms: input.now,
        status: 'LOGGED_MODEL_PENDING',
        lifecycle_stage: 'active',
        model_type: input.modelType ?? null,
        source_run_id: input.sourceRunId ?? null,
        status_message: null,
      };
      await tx.insertInto('tracking.logged_models').values(row).execute();
      await insertKeyValues(tx, 'tracking.logged_model_params', input.modelId, params);
      await insertKeyValues(tx, 'tracking.logged_model_tags', input.modelId, tags);
      return toLoggedModel(row, [...params].sort(byKey), [...tags].sort(byKey), []);
    });
  }

  /** The model with its params, tags and every metric point; deleted models only with `allowDeleted`. */
  async get(modelId: string, options: { allowDeleted?: boolean } = {}): Promise<LoggedModel> {
    const row = await this.db
      .selectFrom('tracking.logged_models')
      .selectAll()
      .where('model_id', '=', modelId)
      .executeTakeFirst();
    if (!row || (row.lifecycle_stage !== 'active' && !options.allowDeleted))
      throw loggedModelNotFound(modelId);
    const [model] = await this.assemble(this.db, [row]);
    return model!;
  }

  /** Sets the final upload status (MLflow finalizes any existing model, deleted ones included). */
  async finalize(modelId: string, status: LoggedModelStatus, now: number): Promise<LoggedModel> {
    return this.db.transaction().execute(async (tx) => {
      const row = await this.lock(tx, modelId);
      const next: LoggedModelsTable = { ...row, status, last_updated_timestamp_ms: now };
      await tx
        .updateTable('tracking.logged_models')
        .set({ status, last_updated_timestamp_ms: now })
        .where('model_id', '=', modelId)
        .execute();
      const [model] = await this.assemble(tx, [next]);
      return model!;
    });
  }

  /** Soft delete: the model disappears from get (unless `allow_deleted`) and from search. */
  async delete(modelId: string, now: number): Promise<void> {
    const updated = await this.db
      .updateTable('tracking.logged_models')
      .set({ lifecycle_stage: 'deleted', last_updated_timestamp_ms: now })
      .where('model_id', '=', modelId)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw loggedModelNotFound(modelId);
  }

  /** Upserts tags (the last value wins when a key repeats in one request). */
  async setTags(modelId: string, tags: KeyValue[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.lock(tx, modelId);
      const unique = lastValuePerKey(tags);
      for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
        await tx
          .insertInto('tracking.logged_model_tags')
          .values(
            unique
              .slice(i, i + INSERT_CHUNK)
              .map((tag) => ({ model_id: modelId, key: tag.key, value: tag.value })),
          )
          .onConflict((oc) =>
            oc.columns(['model_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
    });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.lock(tx, modelId);
      const deleted = await tx
        .deleteFrom('tracking.logged_model_tags')
        .where('model_id', '=', modelId)
        .where('key', '=', key)
        .executeTakeFirst();
      if (deleted.numDeletedRows === 0n) {
        throw MlflowError.notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);
      }
    });
  }

  /**
   * Params are immutable, as for runs: logging the same value again is a no-op, a different value fails
   * the whole request. The model row is locked so concurrent writers cannot race past the check.
   */
  async logParams(modelId: string, params: KeyValue[]): Promise<void> {
    const unique = uniqueParams(params);
    await this.db.transaction().execute(async (tx) => {
      await this.lock(tx, modelId);
      if (unique.length === 0) return;
      const existing = await tx
        .selectFrom('tracking.logged_model_params')
        .select(['key', 'value'])
        .where('model_id', '=', modelId)
        .execute();
      const stored = new Map(existing.map((row) => [row.key, row.value]));
      const changed = unique.filter((p) => stored.has(p.key) && stored.get(p.key) !== p.value);
      if (changed.length === 1) {
        const p = changed[0]!;
        throw MlflowError.invalidParameter(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${stored.get(p.key)}' for logged model ID='${modelId}'. Attempted logging new value '${p.value}'.`,
        );
      }
      if (changed.length > 1) {
        const details = changed.map(
          (p) => `{'key': '${p.key}', 'old_value': '${stored.get(p.key)}', 'new_value': '${p.value}'}`,
        );
        throw MlflowError.invalidParameter(
          `Changing param values is not allowed. Params were already logged='[${details.join(', ')}]' for logged model ID='${modelId}'.`,
        );
      }
      await insertKeyValues(
        tx,
        'tracking.logged_model_params',
        modelId,
        unique.filter((p) => !stored.has(p.key)),
      );
    });
  }

  /**
   * One page of active models: filter, dataset restriction and ordering all in one SQL statement, then
   * params, tags and metrics of the page in one statement each (four in all, whatever the page size).
   */
  async search(search: LoggedModelSearch): Promise<{ models: LoggedModel[]; hasMore: boolean }> {
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
    if (
      !search.orderBy.some((term) => term.kind === 'attribute' && term.column === 'creation_timestamp_ms')
    ) {
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
    `.execute(this.db);
    const hasMore = rows.length > search.maxResults;
    return { models: await this.assemble(this.db, rows.slice(0, search.maxResults)), hasMore };
  }

  /** The model's row, locked against concurrent writers for the transaction; 404 when unknown. */
  private async lock(tx: Transaction<TrackingDatabase>, modelId: string): Promise<LoggedModelsTable> {
    const row = await tx
      .selectFrom('tracking.logged_models')
      .selectAll()
      .where('model_id', '=', modelId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!row) throw loggedModelNotFound(modelId);
    return row;
  }

  /** Models with their params, tags and metric points: three statements for any number of models. */
  private async assemble(db: Kysely<TrackingDatabase>, rows: LoggedModelsTable[]): Promise<LoggedModel[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.model_id);
    // Sequential, not Promise.all: inside a transaction the statements share one connection.
    const params = await db
      .selectFrom('tracking.logged_model_params')
      .select(['model_id', 'key', 'value'])
      .where('model_id', 'in', ids)
      .orderBy('model_id')
      .orderBy('key')
      .execute();
    const tags = await db
      .selectFrom('tracking.logged_model_tags')
      .select(['model_id', 'key', 'value'])
      .where('model_id', 'in', ids)
      .orderBy('model_id')
      .orderBy('key')
      .execute();
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
      (m): Metric => ({
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
        step: m.step,
        dataset_name: m.dataset_name ?? undefined,
        dataset_digest: m.dataset_digest ?? undefined,
        model_id: m.model_id,
        run_id: m.run_uuid ?? undefined,
      }),
    );
    return rows.map((row) =>
      toLoggedModel(
        row,
        paramsByModel.get(row.model_id) ?? [],
        tagsByModel.get(row.model_id) ?? [],
        metricsByModel.get(row.model_id) ?? [],
      ),
    );
  }
}

/** LoggedModel as MLflow emits it: unset optional fields and empty lists omitted, `data` always present. */
function toLoggedModel(
  row: LoggedModelsTable,
  params: KeyValue[],
  tags: KeyValue[],
  metrics: Metric[],
): LoggedModel {
  return {
    info: {
      model_id: row.model_id,
      experiment_id: String(row.experiment_id),
      name: row.name,
      creation_timestamp_ms: row.creation_timestamp_ms,
      last_updated_timestamp_ms: row.last_updated_timestamp_ms,
      artifact_uri: row.artifact_location,
      status: row.status as LoggedModelStatus,
      model_type: row.model_type ?? undefined,
      source_run_id: row.source_run_id ?? undefined,
      status_message: row.status_message ?? undefined,
      tags: nonEmpty(tags),
    },
    data: { params: nonEmpty(params), metrics: nonEmpty(metrics) },
  };
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

function byKey(a: KeyValue, b: KeyValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
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

function lastValuePerKey(items: KeyValue[]): KeyValue[] {
  return [...new Map(items.map((item) => [item.key, item.value]))].map(([key, value]) => ({ key, value }));
}

/** Params of one request: an exact repeat is dropped, the same key with another value is rejected. */
function uniqueParams(params: KeyValue[]): KeyValue[] {
  const byKey = new Map<string, string>();
  const conflicting = new Set<string>();
  for (const param of params) {
    const previous = byKey.get(param.key);
    if (previous !== undefined && previous !== param.value) conflicting.add(param.key);
    byKey.set(param.key, param.value);
  }
  if (conflicting.size > 0) {
    throw MlflowError.invalidParameter(
      `Duplicate parameter keys have been submitted: [${[...conflicting].map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

async function insertKeyValues(
  tx: Transaction<TrackingDatabase>,
  table: 'tracking.logged_model_params' | 'tracking.logged_model_tags',
  modelId: string,
  items: KeyValue[],
): Promise<void> {
  for (let i = 0; i < items.length; i += INSERT_CHUNK) {
    await tx
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

/** `status = 'READY'` (Python's enum name) means `LOGGED_MODEL_READY`; LIKE patterns are left as written. */
function normalizeStatus(comparison: Comparison): Comparison {
  const alias = (value: string) => STATUS_ALIASES[value] ?? value;
  if (
    typeof comparison.value === 'string' &&
    (comparison.comparator === '=' || comparison.comparator === '!=')
  ) {
    return { ...comparison, value: alias(comparison.value) };
  }
  if (Array.isArray(comparison.value)) return { ...comparison, value: comparison.value.map(alias) };
  return comparison;
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
