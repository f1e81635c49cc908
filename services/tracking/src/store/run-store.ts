import { MlflowError } from '@mast/common';
import type {
  DatasetInput,
  Metric,
  MetricWithRunId,
  ModelOutput,
  Param,
  Run,
  RunInfo,
  RunStatus,
  RunTag,
  ViewType,
} from '@mast/proto';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { OrderByTerm } from '../domain/order-by.js';
import { RUN_NAME_TAG } from '../domain/run-names.js';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import { experimentNotFound, lifecycleStages, parseExperimentId } from './experiment-store.js';
import type { RunsTable, TrackingDatabase } from './schema.js';
import { compareColumn, compareDouble, compareKeyValue, filterToSql } from './search-sql.js';

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface NewDatasetInput {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
  tags: KeyValue[];
}

export interface RunSearch {
  experimentIds: string[];
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

export function runNotFound(runId: string): MlflowError {
  return MlflowError.notFound(`Run with id=${runId} not found`);
}

function inactiveRun(runId: string, stage: string): MlflowError {
  return MlflowError.invalidParameter(
    `The run ${runId} must be in the 'active' state. Current state is ${stage}.`,
  );
}

/** Runs and everything logged to them, in the `tracking` schema. */
export class RunStore {
  constructor(private readonly db: Kysely<TrackingDatabase>) {}

  /**
   * Creates a run in one statement: the insert reads the experiment's artifact location and only
   * happens while the experiment is active; when nothing was inserted, a second look says why.
   */
  async create(input: {
    runId: string;
    experimentId: string;
    userId: string;
    runName: string;
    startTime: number;
    tags: KeyValue[];
  }): Promise<Run> {
    const experimentId = parseExperimentId(input.experimentId);
    if (experimentId === undefined) throw experimentNotFound(input.experimentId);
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
        where e.experiment_id = ${experimentId} and e.lifecycle_stage = 'active'
        returning *
      )${insertTags}
      select * from run
    `.execute(this.db);
    const row = rows[0];
    if (!row) {
      const experiment = await this.db
        .selectFrom('tracking.experiments')
        .select('lifecycle_stage')
        .where('experiment_id', '=', experimentId)
        .executeTakeFirst();
      if (!experiment) throw experimentNotFound(input.experimentId);
      throw MlflowError.invalidParameter(
        `The experiment ${input.experimentId} must be in the 'active' state. Current state is ${experiment.lifecycle_stage}.`,
      );
    }
    return {
      info: toRunInfo(row),
      data: { tags: input.tags.length > 0 ? [...input.tags].sort(byKey) : undefined },
      inputs: {},
    };
  }

  async get(runId: string): Promise<Run> {
    const row = await this.db
      .selectFrom('tracking.runs')
      .selectAll()
      .where('run_uuid', '=', runId)
      .executeTakeFirst();
    if (!row) throw runNotFound(runId);
    const [run] = await this.assemble([row], { withModels: true });
    return run!;
  }

  /** The run's row, or a 404; `requireActive` adds MLflow's check that the run is not deleted. */
  async info(runId: string, db: Kysely<TrackingDatabase> = this.db): Promise<RunsTable> {
    const row = await db
      .selectFrom('tracking.runs')
      .selectAll()
      .where('run_uuid', '=', runId)
      .executeTakeFirst();
    if (!row) throw runNotFound(runId);
    return row;
  }

  async requireActive(runId: string, db: Kysely<TrackingDatabase> = this.db): Promise<RunsTable> {
    const row = await this.info(runId, db);
    if (row.lifecycle_stage !== 'active') throw inactiveRun(runId, row.lifecycle_stage);
    return row;
  }

  async update(
    runId: string,
    changes: { status?: RunStatus; endTime?: number; runName?: string },
  ): Promise<RunInfo> {
    return this.db.transaction().execute(async (tx) => {
      const row = await this.requireActive(runId, tx);
      const next: RunsTable = {
        ...row,
        status: changes.status ?? row.status,
        end_time: changes.endTime ?? row.end_time,
        name: changes.runName ?? row.name,
      };
      await tx
        .updateTable('tracking.runs')
        .set({ status: next.status, end_time: next.end_time, name: next.name })
        .where('run_uuid', '=', runId)
        .execute();
      if (changes.runName !== undefined)
        await upsertTags(tx, runId, [{ key: RUN_NAME_TAG, value: changes.runName }]);
      return toRunInfo(next);
    });
  }

  async setLifecycle(runId: string, stage: 'active' | 'deleted', now: number): Promise<void> {
    const updated = await this.db
      .updateTable('tracking.runs')
      .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? now : null })
      .where('run_uuid', '=', runId)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw runNotFound(runId);
  }

  /**
   * Logs params, metrics and tags in one transaction (all or nothing). Params are immutable: the same
   * value again is a no-op, a different one fails the whole batch. Identical metric points are ignored.
   */
  async logBatch(
    runId: string,
    batch: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] },
  ): Promise<void> {
    const { rows } = await logBatchStatement(runId, batch).execute(this.db);
    const { stage, conflicts } = rows[0]!;
    if (stage === null) throw runNotFound(runId);
    if (stage !== 'active') throw inactiveRun(runId, stage);
    if (conflicts !== null) throw paramsChanged(runId, conflicts);
  }

  /** Appends an item to a tag holding a JSON list (`mlflow.log-model.history`). */
  async appendToJsonListTag(runId: string, key: string, item: unknown): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.requireActive(runId, tx);
      const tag = await tx
        .selectFrom('tracking.tags')
        .select('value')
        .where('run_uuid', '=', runId)
        .where('key', '=', key)
        .forUpdate()
        .executeTakeFirst();
      const list = tag ? parseJsonList(tag.value) : [];
      if (list === undefined) {
        throw MlflowError.invalidParameter(`Tag '${key}' of run ${runId} does not hold a JSON list.`);
      }
      list.push(item);
      await upsertTags(tx, runId, [{ key, value: JSON.stringify(list) }]);
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.requireActive(runId, tx);
      const deleted = await tx
        .deleteFrom('tracking.tags')
        .where('run_uuid', '=', runId)
        .where('key', '=', key)
        .executeTakeFirst();
      if (deleted.numDeletedRows === 0n) {
        throw MlflowError.notFound(`No tag with name: ${key} in run with id ${runId}`);
      }
    });
  }

  /** Links datasets (deduplicated by name and digest per experiment) and logged models to the run. */
  async logInputs(runId: string, datasets: NewDatasetInput[], modelIds: string[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const run = await this.requireActive(runId, tx);
      for (const input of dedupeDatasets(datasets)) {
        const datasetUuid = await findOrCreateDataset(tx, run.experiment_id, input);
        const context = input.tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? null;
        await tx
          .insertInto('tracking.dataset_inputs')
          .values({ run_uuid: runId, dataset_uuid: datasetUuid, tags: JSON.stringify(input.tags), context })
          .onConflict((oc) => oc.columns(['run_uuid', 'dataset_uuid']).doNothing())
          .execute();
      }
      if (modelIds.length > 0) {
        await tx
          .insertInto('tracking.run_model_inputs')
          .values([...new Set(modelIds)].map((model_id) => ({ run_uuid: runId, model_id })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    });
  }

  async logOutputs(runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await this.requireActive(runId, tx);
      const byModel = new Map(outputs.map((output) => [output.modelId, output.step]));
      if (byModel.size === 0) return;
      await tx
        .insertInto('tracking.run_model_outputs')
        .values([...byModel].map(([model_id, step]) => ({ run_uuid: runId, model_id, step })))
        .onConflict((oc) =>
          oc.columns(['run_uuid', 'model_id']).doUpdateSet((eb) => ({ step: eb.ref('excluded.step') })),
        )
        .execute();
    });
  }

  /** One page of a metric's history, ordered by (timestamp, step, value). */
  async metricHistory(
    runId: string,
    key: string,
    offset: number,
    limit: number | undefined,
  ): Promise<Metric[]> {
    await this.info(runId);
    let query = this.db
      .selectFrom('tracking.metrics')
      .select(['key', 'value', 'timestamp', 'step', 'model_id', 'dataset_name', 'dataset_digest'])
      .where('run_uuid', '=', runId)
      .where('key', '=', key)
      .orderBy('timestamp')
      .orderBy('step')
      .orderBy('value')
      .offset(offset);
    if (limit !== undefined) query = query.limit(limit);
    const rows = await query.execute();
    return rows.map((row) => ({
      key: row.key,
      value: row.value,
      timestamp: row.timestamp,
      step: row.step,
      model_id: row.model_id ?? undefined,
      dataset_name: row.dataset_name ?? undefined,
      dataset_digest: row.dataset_digest ?? undefined,
    }));
  }

  /**
   * MLflow's sampling for charts (spec §1.2): evenly spaced steps over the union of the runs' steps,
   * plus the last step and each run's first and last step; then every point at those steps, per run.
   */
  async historyBulkInterval(input: {
    runIds: string[];
    key: string;
    startStep?: number;
    endStep?: number;
    maxResults: number;
  }): Promise<MetricWithRunId[]> {
    const stepRows = await this.db
      .selectFrom('tracking.metrics')
      .select(['run_uuid', 'step'])
      .distinct()
      .where('run_uuid', 'in', input.runIds)
      .where('key', '=', input.key)
      .execute();
    if (stepRows.length === 0) return [];
    const allSteps = [...new Set(stepRows.map((row) => row.step))].sort((a, b) => a - b);
    const start = input.startStep ?? 0;
    const end = input.endStep ?? allSteps[allSteps.length - 1]!;
    const inRange = allSteps.filter((step) => step >= start && step <= end);
    const chosen = new Set<number>();
    if (inRange.length <= input.maxResults) {
      for (const step of inRange) chosen.add(step);
    } else {
      for (let i = 0; i < input.maxResults; i++)
        chosen.add(inRange[Math.floor((i * inRange.length) / input.maxResults)]!);
      chosen.add(inRange[inRange.length - 1]!);
    }
    const perRun = new Map<string, { min: number; max: number }>();
    for (const { run_uuid, step } of stepRows) {
      const bounds = perRun.get(run_uuid);
      if (!bounds) perRun.set(run_uuid, { min: step, max: step });
      else perRun.set(run_uuid, { min: Math.min(bounds.min, step), max: Math.max(bounds.max, step) });
    }
    for (const { min, max } of perRun.values()) {
      if (min >= start && min <= end) chosen.add(min);
      if (max >= start && max <= end) chosen.add(max);
    }
    if (chosen.size === 0) return [];
    const rows = await this.db
      .selectFrom('tracking.metrics')
      .select(['run_uuid', 'key', 'value', 'timestamp', 'step'])
      .where('run_uuid', 'in', input.runIds)
      .where('key', '=', input.key)
      .where('step', 'in', [...chosen])
      .orderBy('step')
      .orderBy('timestamp')
      .orderBy('value')
      .execute();
    const order = new Map(input.runIds.map((id, index) => [id, index]));
    return rows
      .map((row) => ({
        key: row.key,
        value: row.value,
        timestamp: row.timestamp,
        step: row.step,
        run_id: row.run_uuid,
      }))
      .sort((a, b) => order.get(a.run_id)! - order.get(b.run_id)!);
  }

  /** The UI's legacy bulk history: points of several runs, by run id then (timestamp, step, value). */
  async historyBulk(runIds: string[], key: string, maxResults: number): Promise<MetricWithRunId[]> {
    const rows = await this.db
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
      run_id: row.run_uuid,
    }));
  }

  /** One page of runs, filtered and ordered in SQL; MLflow returns a token whenever the page is full. */
  async search(search: RunSearch): Promise<Run[]> {
    const experimentIds = search.experimentIds
      .map(parseExperimentId)
      .filter((id): id is number => id !== undefined);
    if (experimentIds.length === 0) return [];
    const joins: RawBuilder<unknown>[] = [];
    const orderings: RawBuilder<unknown>[] = [];
    search.orderBy.forEach((term, index) => {
      const { join, ordering } = orderTermToSql(term, `o${index}`);
      if (join) joins.push(join);
      orderings.push(...ordering);
    });
    orderings.push(sql`r.start_time desc`, sql`r.run_uuid asc`);
    const where = [
      sql`r.experiment_id = any(${experimentIds}::int8[])`,
      sql`r.lifecycle_stage in (${sql.join(lifecycleStages(search.viewType))})`,
    ];
    if (search.filter) where.push(filterToSql(search.filter, runComparison));
    const { rows } = await sql<RunsTable>`
      select r.* from tracking.runs r ${sql.join(joins, sql` `)}
      where ${sql.join(where, sql` and `)}
      order by ${sql.join(orderings)}
      limit ${search.maxResults} offset ${search.offset}
    `.execute(this.db);
    return this.assemble(rows, { withModels: false });
  }

  /** Distinct (experiment, dataset, context) triples for the UI's dataset filter. */
  async searchDatasets(
    experimentIds: string[],
  ): Promise<Array<{ experiment_id: string; name: string; digest: string; context?: string }>> {
    const ids = experimentIds.map(parseExperimentId).filter((id): id is number => id !== undefined);
    if (ids.length === 0) return [];
    const rows = await this.db
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
      experiment_id: String(row.experiment_id),
      name: row.name,
      digest: row.digest,
      context: row.context ?? undefined,
    }));
  }

  /** Runs with their latest metrics, params, tags and inputs, in a fixed number of queries. */
  private async assemble(rows: RunsTable[], options: { withModels: boolean }): Promise<Run[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.run_uuid);
    // One array parameter rather than an `in` list of up to 1000 ids.
    const ofRuns = (column: string) => sql<boolean>`${sql.ref(column)} = any(${ids}::text[])`;
    const [params, tags, metrics, datasets, modelInputs, modelOutputs] = await Promise.all([
      childRows<{ run_uuid: string; key: string; value: string }>(
        this.db,
        ids,
        'tracking.params',
        sql`key, value`,
      ),
      childRows<{ run_uuid: string; key: string; value: string }>(
        this.db,
        ids,
        'tracking.tags',
        sql`key, value`,
      ),
      childRows<{ run_uuid: string; key: string; value: number; timestamp: number; step: number }>(
        this.db,
        ids,
        'tracking.latest_metrics',
        sql`key, value, timestamp, step`,
      ),
      selectDatasetInputs(this.db, ids),
      options.withModels
        ? this.db
            .selectFrom('tracking.run_model_inputs')
            .select(['run_uuid', 'model_id'])
            .where(ofRuns('run_uuid'))
            .execute()
        : Promise.resolve([]),
      options.withModels
        ? this.db
            .selectFrom('tracking.run_model_outputs')
            .select(['run_uuid', 'model_id', 'step'])
            .where(ofRuns('run_uuid'))
            .execute()
        : Promise.resolve([]),
    ]);
    const paramsByRun = groupBy(params, (p): Param => ({ key: p.key, value: p.value }));
    const tagsByRun = groupBy(tags, (t): RunTag => ({ key: t.key, value: t.value }));
    const metricsByRun = groupBy(
      metrics,
      (m): Metric => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step }),
    );
    const datasetsByRun = groupBy(datasets, toDatasetInput);
    const modelInputsByRun = groupBy(modelInputs, (m) => ({ model_id: m.model_id }));
    const modelOutputsByRun = groupBy(
      modelOutputs,
      (m): ModelOutput => ({ model_id: m.model_id, step: m.step }),
    );
    return rows.map((row) => {
      const id = row.run_uuid;
      const run: Run = {
        info: toRunInfo(row),
        data: { metrics: metricsByRun.get(id), params: paramsByRun.get(id), tags: tagsByRun.get(id) },
        inputs: { dataset_inputs: datasetsByRun.get(id), model_inputs: modelInputsByRun.get(id) },
      };
      if (options.withModels) run.outputs = { model_outputs: modelOutputsByRun.get(id) };
      return run;
    });
  }
}

export function toRunInfo(row: RunsTable): RunInfo {
  return {
    run_id: row.run_uuid,
    run_uuid: row.run_uuid,
    run_name: row.name,
    experiment_id: String(row.experiment_id),
    user_id: row.user_id || undefined,
    status: row.status as RunStatus,
    start_time: row.start_time,
    end_time: row.end_time ?? undefined,
    artifact_uri: row.artifact_uri,
    lifecycle_stage: row.lifecycle_stage,
  };
}

/** A run's dataset input as stored: the dataset's columns and the input's tags (a JSON list). */
export interface DatasetInputRow {
  run_uuid: string;
  tags: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

/** The dataset inputs of some runs, by dataset name and digest. */
export function selectDatasetInputs(
  db: Kysely<TrackingDatabase>,
  runIds: readonly string[],
): Promise<DatasetInputRow[]> {
  return db
    .selectFrom('tracking.dataset_inputs as di')
    .innerJoin('tracking.datasets as d', 'd.dataset_uuid', 'di.dataset_uuid')
    .select([
      'di.run_uuid',
      'di.tags',
      'd.name',
      'd.digest',
      'd.source_type',
      'd.source',
      'd.schema',
      'd.profile',
    ])
    .where(sql<boolean>`di.run_uuid = any(${[...runIds]}::text[])`)
    .orderBy('d.name')
    .orderBy('d.digest')
    .execute();
}

export function toDatasetInput(row: DatasetInputRow): DatasetInput {
  return {
    tags: nonEmpty(JSON.parse(row.tags) as KeyValue[]),
    dataset: {
      name: row.name,
      digest: row.digest,
      source_type: row.source_type,
      source: row.source,
      schema: row.schema ?? undefined,
      profile: row.profile ?? undefined,
    },
  };
}

/**
 * Rows of a per-run child table for a page of runs, each run's rows by key. The lateral join probes the
 * primary key once per run whatever the planner's cost settings (an `in`/`any` list over 1000 ids made
 * it scan the whole table).
 */
async function childRows<R>(
  db: Kysely<TrackingDatabase>,
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

function byKey(a: KeyValue, b: KeyValue): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
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

/** Whether point `a` supersedes `b` as the run's summary value: max by (step, timestamp, value). */
function supersedes(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value || (Number.isNaN(a.value) && !Number.isNaN(b.value));
}

interface LogBatchOutcome {
  /** The run's lifecycle stage before the write; null when there is no such run. */
  stage: string | null;
  /** Params whose stored value differs from the logged one; null when there are none. */
  conflicts: Array<{ key: string; old_value: string; new_value: string }> | null;
}

/**
 * A whole log-batch as one SQL statement (one round trip, atomic without a transaction): every write
 * runs only when the run is active and no param would change value; the result says which check failed.
 * Params are immutable (same value again is a no-op), identical metric points are ignored, the latest
 * value per key moves only forward by (step, timestamp, value), tags overwrite (last one in the batch
 * wins) and `mlflow.runName` renames the run. Metrics logged with a known `model_id` also go to that
 * logged model.
 */
function logBatchStatement(
  runId: string,
  batch: { metrics: MetricPoint[]; params: KeyValue[]; tags: KeyValue[] },
): RawBuilder<LogBatchOutcome> {
  const parts: RawBuilder<unknown>[] = [
    sql`run as (select lifecycle_stage from tracking.runs where run_uuid = ${runId})`,
  ];
  const ok = sql`exists (select 1 from ok)`;
  if (batch.params.length > 0) {
    const rows = batch.params.map((p) => sql`(${p.key}::text, ${p.value}::text)`);
    parts.push(
      sql`new_params (key, value) as (values ${sql.join(rows)})`,
      sql`conflicts as (
        select n.key, p.value as old_value, n.value as new_value
        from new_params n join tracking.params p on p.run_uuid = ${runId} and p.key = n.key
        where p.value <> n.value)`,
      sql`ok as (select 1 from run where lifecycle_stage = 'active' and not exists (select 1 from conflicts))`,
      sql`write_params as (
        insert into tracking.params (run_uuid, key, value)
        select ${runId}, key, value from new_params where ${ok} on conflict do nothing)`,
    );
  } else {
    parts.push(
      sql`conflicts as (select ''::text as key, ''::text as old_value, ''::text as new_value where false)`,
      sql`ok as (select 1 from run where lifecycle_stage = 'active')`,
    );
  }
  if (batch.metrics.length > 0) {
    const rows = batch.metrics.map(
      (m) =>
        sql`(${m.key}::text, ${m.step}::int8, ${m.timestamp}::int8, ${m.value}::float8, ${m.model_id ?? null}::text, ${m.dataset_name ?? null}::text, ${m.dataset_digest ?? null}::text)`,
    );
    const latest = new Map<string, MetricPoint>();
    for (const metric of batch.metrics) {
      const current = latest.get(metric.key);
      if (!current || supersedes(metric, current)) latest.set(metric.key, metric);
    }
    const latestRows = [...latest.values()].map(
      (m) => sql`(${m.key}::text, ${m.step}::int8, ${m.timestamp}::int8, ${m.value}::float8)`,
    );
    parts.push(
      sql`new_metrics (key, step, timestamp, value, model_id, dataset_name, dataset_digest) as (values ${sql.join(rows)})`,
      sql`write_metrics as (
        insert into tracking.metrics (run_uuid, key, step, timestamp, value, model_id, dataset_name, dataset_digest)
        select ${runId}, m.* from new_metrics m where ${ok} on conflict do nothing)`,
      sql`new_latest (key, step, timestamp, value) as (values ${sql.join(latestRows)})`,
      sql`write_latest as (
        insert into tracking.latest_metrics as l (run_uuid, key, step, timestamp, value)
        select ${runId}, n.* from new_latest n where ${ok}
        on conflict (run_uuid, key) do update
          set step = excluded.step, timestamp = excluded.timestamp, value = excluded.value
          where (excluded.step, excluded.timestamp, excluded.value) > (l.step, l.timestamp, l.value))`,
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
    const byKey = new Map(batch.tags.map((tag) => [tag.key, tag.value]));
    const rows = [...byKey].map(([key, value]) => sql`(${key}::text, ${value}::text)`);
    parts.push(sql`write_tags as (
      insert into tracking.tags (run_uuid, key, value)
      select ${runId}, t.key, t.value from (values ${sql.join(rows)}) as t (key, value) where ${ok}
      on conflict (run_uuid, key) do update set value = excluded.value)`);
    const runName = byKey.get(RUN_NAME_TAG);
    if (runName !== undefined) {
      parts.push(sql`rename_run as (
        update tracking.runs set name = ${runName} where run_uuid = ${runId} and ${ok})`);
    }
  }
  return sql<LogBatchOutcome>`
    with ${sql.join(parts)}
    select (select lifecycle_stage from run) as stage,
      (select json_agg(json_build_object('key', key, 'old_value', old_value, 'new_value', new_value) order by key)
        from conflicts) as conflicts
  `;
}

function paramsChanged(runId: string, conflicts: NonNullable<LogBatchOutcome['conflicts']>): MlflowError {
  if (conflicts.length === 1) {
    const p = conflicts[0]!;
    return MlflowError.invalidParameter(
      `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${p.old_value}' for run ID='${runId}'. Attempted logging new value '${p.new_value}'.`,
    );
  }
  const details = conflicts.map(
    (p) => `{'key': '${p.key}', 'old_value': '${p.old_value}', 'new_value': '${p.new_value}'}`,
  );
  return MlflowError.invalidParameter(
    `Changing param values is not allowed. Params were already logged='[${details.join(', ')}]' for run ID='${runId}'.`,
  );
}

/** Tags overwrite (last write in a batch wins); `mlflow.runName` also renames the run. */
async function upsertTags(tx: Transaction<TrackingDatabase>, runId: string, tags: KeyValue[]): Promise<void> {
  const byKey = new Map(tags.map((tag) => [tag.key, tag.value]));
  await tx
    .insertInto('tracking.tags')
    .values([...byKey].map(([key, value]) => ({ run_uuid: runId, key, value })))
    .onConflict((oc) =>
      oc.columns(['run_uuid', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
    )
    .execute();
  const runName = byKey.get(RUN_NAME_TAG);
  if (runName !== undefined) {
    await tx.updateTable('tracking.runs').set({ name: runName }).where('run_uuid', '=', runId).execute();
  }
}

function parseJsonList(text: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the first input per (name, digest), as MLflow does. */
function dedupeDatasets(datasets: NewDatasetInput[]): NewDatasetInput[] {
  const byIdentity = new Map<string, NewDatasetInput>();
  for (const dataset of datasets) {
    const identity = `${dataset.name}\u0000${dataset.digest}`;
    if (!byIdentity.has(identity)) byIdentity.set(identity, dataset);
  }
  return [...byIdentity.values()];
}

async function findOrCreateDataset(
  tx: Transaction<TrackingDatabase>,
  experimentId: number,
  input: NewDatasetInput,
): Promise<string> {
  const inserted = await tx
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
  const existing = await tx
    .selectFrom('tracking.datasets')
    .select('dataset_uuid')
    .where('experiment_id', '=', experimentId)
    .where('name', '=', input.name)
    .where('digest', '=', input.digest)
    .executeTakeFirstOrThrow();
  return existing.dataset_uuid;
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
      return compareKeyValue('tracking.latest_metrics', run, 'run_uuid', comparison, compareDouble);
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

/** An order_by term as SQL; runs lacking the key (or with a NaN metric) sort last in both directions. */
function orderTermToSql(
  term: OrderByTerm,
  alias: string,
): { join?: RawBuilder<unknown>; ordering: RawBuilder<unknown>[] } {
  const direction = sql.raw(term.ascending ? 'asc' : 'desc');
  if (term.type === 'attribute') {
    const column = sql.ref(`r.${RUN_COLUMNS[term.key] ?? term.key}`);
    return { ordering: [sql`(${column} is null)`, sql`${column} ${direction}`] };
  }
  const table = {
    metric: 'tracking.latest_metrics',
    param: 'tracking.params',
    tag: 'tracking.tags',
    dataset: '',
  }[term.type];
  const ref = sql.id(alias);
  const join = sql`left join ${sql.table(table)} ${ref} on ${ref}.run_uuid = r.run_uuid and ${ref}.key = ${term.key}`;
  const missing =
    term.type === 'metric'
      ? sql`(${ref}.value is null or ${ref}.value = 'NaN'::float8)`
      : sql`(${ref}.value is null)`;
  return { join, ordering: [missing, sql`${ref}.value ${direction}`] };
}
