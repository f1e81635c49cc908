import {
  type Int64,
  inTransaction,
  MlflowError,
  retryConflicts,
  validateKey,
  withCancellation,
} from '@mast/common';
import type { RunStatus } from '@mast/proto';
import {
  experimentNotFound,
  inactiveExperiment,
  inactiveRun,
  paramsChanged,
  runNotFound,
} from '../domain/errors.js';
import { newRunId, parseExperimentId } from '../domain/ids.js';
import { LIMITS } from '../domain/limits.js';
import type { MetricPoint } from '../domain/metric-values.js';
import {
  type DatasetSummaryRecord,
  firstPerDataset,
  type KeyValue,
  lastValuePerKey,
  type MetricRecord,
  type NewDatasetInput,
  type RunInfoRecord,
  type RunRecord,
} from '../domain/records.js';
import { type RunCsvColumns, runCsvHeader, runCsvLine } from '../domain/run-csv.js';
import { resolveRunName } from '../domain/run-names.js';
import { sampleSteps } from '../domain/step-sampling.js';
import {
  truncateParamValue,
  truncateRunTagValue,
  validateBatchSize,
  validateMetricTimestamp,
  validateNoDuplicateParamKeys,
  validateRunId,
} from '../domain/validation.js';
import { findExperiment } from '../store/experiment-store.js';
import { GraphStore } from '../store/graph-store.js';
import {
  countMetricPoints,
  deleteTag,
  findOrCreateDataset,
  findRun,
  findRunRecord,
  historyBulk,
  insertDatasetInput,
  insertModelInputs,
  insertRun,
  type LogBatchOutcome,
  type LogBatchWrite,
  lockTag,
  metricHistoryJson,
  metricPointsAtSteps,
  metricSteps,
  ParamsRaced,
  type RunPosition,
  type RunSearch,
  searchDatasets,
  searchRuns,
  searchRunsJson,
  setRunLifecycle,
  toRunInfoRecord,
  updateRunInfo,
  upsertModelOutputs,
  upsertTags,
  writeLogBatch,
} from '../store/run-store.js';
import type { RunsTable, TrackingExecutor } from '../store/schema.js';
import type { TagInput } from './experiments.js';
import { MetricBatchCoalescer } from './metric-coalescer.js';

/**
 * Up to this many points in all, `get-history-bulk-interval` samples exactly as MLflow does (reading
 * every distinct step); beyond, from the chunk summaries.
 */
const EXACT_SAMPLING_MAX_POINTS = 100_000;

/** The tag holding the list of models logged to a run (MLflow 2's `log_model`). */
const MODEL_HISTORY_TAG = 'mlflow.log-model.history';

/** A metric point as a request gave it; `timestamp` absent means now. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp?: Int64;
  step?: Int64;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
  /** The request field the point came from (`metrics[0]`), for error messages; top level when ''. */
  path?: string;
}

export interface LogBatchInput {
  metrics: MetricInput[];
  params: TagInput[];
  tags: TagInput[];
}

/** `path.name`, or `name` at the top level of a request. */
function field(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** A param as runs and logged models take it: a valid key, the value truncated as MLflow does. */
export function toParam(param: TagInput, defaultPath: string): KeyValue {
  validateKey('param', param.key, field(param.path ?? defaultPath, 'key'));
  return { key: param.key, value: truncateParamValue(param.value) };
}

/** A run tag: a valid key, the value truncated as MLflow does. */
export function toRunTag(tag: TagInput, defaultPath: string): KeyValue {
  validateKey('tag', tag.key, field(tag.path ?? defaultPath, 'key'));
  return { key: tag.key, value: truncateRunTagValue(tag.value) };
}

/**
 * Run commands and reads, each once for REST and GraphQL (MLflow's `runs/*` and `metrics/*`
 * semantics). Errors are `MlflowError`s with MLflow's codes.
 *
 * Concurrency (PostgreSQL, many writers): params are immutable, so of concurrent batches giving one new
 * param different values exactly one succeeds and the others get `INVALID_PARAMETER_VALUE`; renames and
 * tags are last-writer-wins and never torn (`runs.name` and the `mlflow.runName` tag agree); status,
 * end time and name updates touch only the columns given.
 */
export class RunService {
  /** Metric-only batches to one run merged while a write to it is in flight (group commit). */
  private readonly metricWrites = new MetricBatchCoalescer((runId, metrics) =>
    this.writeBatch(runId, { metrics, params: [], tags: [] }),
  );

  constructor(
    private readonly db: TrackingExecutor,
    private readonly clock: () => number,
  ) {}

  /**
   * Creates a run in an active experiment. Its name comes from `runName`, else the `mlflow.runName` tag,
   * else a generated one, and both agree; `userId` defaults to the `mlflow.user` tag.
   */
  async create(input: {
    experimentId: string;
    userId?: string;
    runName?: string;
    startTime?: number;
    tags: TagInput[];
  }): Promise<RunRecord> {
    const requestTags = lastValuePerKey(input.tags.map((tag, i) => toRunTag(tag, `tags[${i}]`)));
    const { name, tags } = resolveRunName(input.runName, requestTags);
    const experimentId = parseExperimentId(input.experimentId);
    if (experimentId === undefined) throw experimentNotFound(input.experimentId);
    const row = await insertRun(this.db, {
      runId: newRunId(),
      experimentId,
      userId: input.userId ?? tags.find((tag) => tag.key === 'mlflow.user')?.value ?? '',
      runName: name,
      startTime: input.startTime ?? this.clock(),
      tags,
    });
    if (!row) {
      const experiment = await findExperiment(this.db, experimentId);
      if (!experiment) throw experimentNotFound(input.experimentId);
      throw inactiveExperiment(input.experimentId, experiment.lifecycle_stage);
    }
    return {
      info: toRunInfoRecord(row),
      latestMetrics: [],
      params: [],
      tags: [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      datasetInputs: [],
      modelInputs: [],
    };
  }

  async get(runId: string): Promise<RunRecord> {
    const run = await findRunRecord(this.db, runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  /** Sets status, end time and name of an active run (only those given); a new name is also the tag. */
  async update(
    runId: string,
    changes: { status?: RunStatus; endTime?: number; runName?: string },
  ): Promise<RunInfoRecord> {
    return inTransaction(this.db, async (tx) => {
      const row = await updateRunInfo(tx, runId, changes);
      if (!row) throw await this.whyInactive(tx, runId);
      if (changes.runName !== undefined)
        await upsertTags(tx, runId, [{ key: 'mlflow.runName', value: changes.runName }]);
      return toRunInfoRecord(row);
    });
  }

  async delete(runId: string): Promise<void> {
    if (!(await setRunLifecycle(this.db, runId, 'deleted', this.clock()))) throw runNotFound(runId);
  }

  async restore(runId: string): Promise<void> {
    if (!(await setRunLifecycle(this.db, runId, 'active', this.clock()))) throw runNotFound(runId);
  }

  /**
   * Logs metrics, params and tags atomically (all or nothing, one statement). Params are immutable: the
   * same value again is a no-op, another value fails the whole batch. Identical metric points are
   * ignored; tags overwrite, the last in the batch winning; `mlflow.runName` renames the run.
   */
  async logBatch(runId: string, batch: LogBatchInput, runIdPath = 'run_id'): Promise<void> {
    validateRunId(runId, runIdPath);
    validateBatchSize(batch.metrics.length, batch.params.length, batch.tags.length);
    await this.write(runId, batch);
  }

  /** `runs/log-metric`: one point (`path` '' names fields at the request's top level). */
  logMetric(runId: string, metric: MetricInput): Promise<void> {
    return this.write(runId, { metrics: [{ path: '', ...metric }], params: [], tags: [] });
  }

  /** `runs/log-parameter`: one param. */
  logParam(runId: string, param: TagInput): Promise<void> {
    return this.write(runId, { metrics: [], params: [{ path: '', ...param }], tags: [] });
  }

  /** `runs/set-tag`: one tag. */
  setTag(runId: string, tag: TagInput): Promise<void> {
    return this.write(runId, { metrics: [], params: [], tags: [{ path: '', ...tag }] });
  }

  /** One log-batch statement; once more after a param race (the second sees the winner's value). */
  private writeBatch(runId: string, write: LogBatchWrite): Promise<LogBatchOutcome> {
    return retryConflicts(() =>
      writeLogBatch(this.db, runId, write).catch(async (error: unknown) => {
        if (error instanceof ParamsRaced) return writeLogBatch(this.db, runId, write);
        throw error;
      }),
    );
  }

  private async write(runId: string, batch: LogBatchInput): Promise<void> {
    const params = batch.params.map((param, i) => toParam(param, `params[${i}]`));
    validateNoDuplicateParamKeys(params.map((p) => p.key));
    const now = this.clock();
    const metrics = batch.metrics.map((metric, i): MetricPoint => {
      const path = metric.path ?? `metrics[${i}]`;
      validateKey('metric', metric.key, field(path, 'key'));
      const timestamp = metric.timestamp ?? now;
      validateMetricTimestamp(timestamp, field(path, 'timestamp'), metric);
      return {
        key: metric.key,
        value: metric.value,
        timestamp,
        step: metric.step ?? 0,
        model_id: metric.model_id,
        dataset_name: metric.dataset_name,
        dataset_digest: metric.dataset_digest,
      };
    });
    const tags = lastValuePerKey(batch.tags.map((tag, i) => toRunTag(tag, `tags[${i}]`)));
    const outcome =
      params.length === 0 && tags.length === 0
        ? await this.metricWrites.submit(runId, metrics)
        : await this.writeBatch(runId, { metrics, params, tags });
    if (outcome.stage === null) throw runNotFound(runId);
    if (outcome.stage !== 'active') throw inactiveRun(runId, outcome.stage);
    if (outcome.conflicts !== null) throw paramsChanged(`run ID='${runId}'`, outcome.conflicts);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await this.requireActive(tx, runId);
      if (!(await deleteTag(tx, runId, key))) {
        throw MlflowError.notFound(`No tag with name: ${key} in run with id ${runId}`);
      }
    });
  }

  /**
   * `runs/log-model` (MLflow 2): appends the model's JSON to the run's `mlflow.log-model.history` tag,
   * whose row is locked so concurrent appends are all kept.
   */
  async logModel(runId: string, modelJson: string): Promise<void> {
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw MlflowError.invalidParameter(`Malformed model info. \n ${modelJson} \n is not a valid JSON.`);
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw MlflowError.invalidParameter(`Malformed model info. \n ${modelJson} \n is not a JSON object.`);
    }
    const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter((f) => !(f in model));
    if (missing.length > 0) {
      throw MlflowError.invalidParameter(
        `Model json is missing mandatory fields: {${missing.map((f) => `'${f}'`).join(', ')}}`,
      );
    }
    await inTransaction(this.db, async (tx) => {
      await this.requireActive(tx, runId);
      const current = await lockTag(tx, runId, MODEL_HISTORY_TAG);
      const list = current === undefined ? [] : parseJsonList(current);
      if (list === undefined) {
        throw MlflowError.invalidParameter(
          `Tag '${MODEL_HISTORY_TAG}' of run ${runId} does not hold a JSON list.`,
        );
      }
      list.push(model);
      await upsertTags(tx, runId, [{ key: MODEL_HISTORY_TAG, value: JSON.stringify(list) }]);
    });
  }

  /** Links datasets (deduplicated by name and digest per experiment) and logged models to the run. */
  async logInputs(runId: string, datasets: NewDatasetInput[], modelIds: string[]): Promise<void> {
    validateRunId(runId);
    if (datasets.length > LIMITS.datasetsPerRequest) {
      throw MlflowError.invalidParameter(
        `A logging request can contain at most ${LIMITS.datasetsPerRequest} datasets. Got ${datasets.length} datasets.`,
      );
    }
    await inTransaction(this.db, async (tx) => {
      const run = await this.requireActive(tx, runId);
      for (const input of firstPerDataset(datasets)) {
        const datasetUuid = await findOrCreateDataset(tx, run.experiment_id, input);
        await insertDatasetInput(tx, runId, datasetUuid, input.tags);
      }
      await insertModelInputs(tx, runId, modelIds);
    });
  }

  async logOutputs(runId: string, outputs: Array<{ modelId: string; step: number }>): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await this.requireActive(tx, runId);
      await upsertModelOutputs(tx, runId, outputs);
    });
  }

  /** One page of runs, each with its position in the search's order (keyset cursors). */
  search(search: RunSearch): Promise<Array<{ run: RunRecord; position: RunPosition }>> {
    return searchRuns(this.db, search);
  }

  /**
   * Every run `search` matches (at most `maxRuns`), as CSV text: the header, then one chunk per page of
   * `pageSize` runs read with keyset paging (runs added meanwhile neither repeat nor shift a page). The
   * first page is read before the header is yielded, so a failing search fails before any output.
   * Each page's queries are cancelled when `signal` aborts.
   */
  async *exportCsv(
    search: Omit<RunSearch, 'maxResults' | 'offset' | 'after'>,
    columns: RunCsvColumns,
    options: { maxRuns: number; pageSize?: number; signal?: AbortSignal },
  ): AsyncGenerator<string> {
    const pageSize = options.pageSize ?? 1000;
    const readPage = (after: RunPosition | undefined, maxResults: number) =>
      withCancellation(this.db, options.signal, (db) =>
        searchRuns(db, { ...search, maxResults, offset: 0, after }),
      );
    let left = options.maxRuns;
    let page = await readPage(undefined, Math.min(pageSize, left));
    yield runCsvHeader(columns);
    while (page.length > 0) {
      yield page.map(({ run }) => runCsvLine(run, columns)).join('');
      left -= page.length;
      if (left <= 0 || page.length < pageSize) return;
      page = await readPage(page.at(-1)!.position, Math.min(pageSize, left));
    }
  }

  /**
   * The same page as `search`, as MLflow's `runs` JSON array (see `searchRunsJson`), its queries
   * cancelled when `signal` aborts. With `fanOut`, spread over several connections at once (a lone
   * search on idle cores); else one statement (busy cores: the least work, one busy backend).
   */
  searchJson(
    search: RunSearch,
    options: { signal?: AbortSignal; fanOut: boolean },
  ): Promise<{ json: string; count: number }> {
    const { signal } = options;
    if (options.fanOut) {
      return searchRunsJson(this.db, search, (work) => withCancellation(this.db, signal, work));
    }
    return withCancellation(this.db, signal, (db) => searchRunsJson(db, search));
  }

  /**
   * One page of a metric's history (404 for an unknown run), ordered by (timestamp, step, value), as
   * MLflow's `metrics` JSON array (see `metricHistoryJson`).
   */
  async metricHistoryJson(
    runId: string,
    key: string,
    page: { offset: number; limit?: number },
    signal?: AbortSignal,
  ): Promise<{ json: string; more: boolean }> {
    if (!(await findRun(this.db, runId))) throw runNotFound(runId);
    return withCancellation(this.db, signal, (db) =>
      metricHistoryJson(db, runId, key, page.offset, page.limit),
    );
  }

  /**
   * MLflow's sampled history for charts (`get-history-bulk-interval`). Up to
   * `EXACT_SAMPLING_MAX_POINTS` points in all, MLflow's own sampling (domain/step-sampling: evenly
   * spaced steps of the union, plus each run's first and last, every point at those steps). Beyond,
   * reading every distinct step costs a scan of the series, so the runs are cut into `maxResults`
   * shared step buckets read from the chunk summaries GraphQL downsampling uses, and each bucket's last
   * point is returned: a chart of a million points reads a few thousand summary rows.
   */
  historyBulkInterval(
    input: { runIds: string[]; key: string; startStep?: number; endStep?: number; maxResults: number },
    signal?: AbortSignal,
  ): Promise<MetricRecord[]> {
    return withCancellation(this.db, signal, async (db) => {
      if ((await countMetricPoints(db, input.runIds, input.key)) <= EXACT_SAMPLING_MAX_POINTS) {
        const stepsByRun = await metricSteps(db, input.runIds, input.key);
        const steps = sampleSteps(stepsByRun, input.startStep, input.endStep, input.maxResults);
        return metricPointsAtSteps(db, input.runIds, input.key, steps);
      }
      const series = await new GraphStore(db).downsample(
        input.runIds.map((runId) => ({ runId, key: input.key })),
        {
          maxPoints: input.maxResults,
          range: { startStep: input.startStep, endStep: input.endStep },
          shared: true,
        },
      );
      return series.flatMap(({ runId, key, buckets }) =>
        buckets.map(({ last }) => ({
          key,
          value: last.value,
          timestamp: last.timestamp,
          step: last.step,
          runId,
        })),
      );
    });
  }

  historyBulk(runIds: string[], key: string, maxResults: number): Promise<MetricRecord[]> {
    return historyBulk(this.db, runIds, key, maxResults);
  }

  searchDatasets(experimentIds: string[]): Promise<DatasetSummaryRecord[]> {
    return searchDatasets(this.db, experimentIds);
  }

  private async requireActive(db: TrackingExecutor, runId: string): Promise<RunsTable> {
    const row = await findRun(db, runId);
    if (!row) throw runNotFound(runId);
    if (row.lifecycle_stage !== 'active') throw inactiveRun(runId, row.lifecycle_stage);
    return row;
  }

  /** Why a write to an active run matched nothing: no such run, or it is deleted. */
  private async whyInactive(db: TrackingExecutor, runId: string): Promise<MlflowError> {
    const row = await findRun(db, runId);
    return row ? inactiveRun(runId, row.lifecycle_stage) : runNotFound(runId);
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
