import { inTransaction, MlflowError } from '@mast/common';
import type { LoggedModelStatus } from '@mast/proto';
import {
  experimentNotFound,
  inactiveExperiment,
  loggedModelNotFound,
  paramsChanged,
} from '../domain/errors.js';
import { childUri, newLoggedModelId, parseExperimentId } from '../domain/ids.js';
import { uniqueParams, validateModelName } from '../domain/logged-models.js';
import { type LoggedModelRecord, lastValuePerKey } from '../domain/records.js';
import { generateRunName } from '../domain/run-names.js';
import {
  assembleLoggedModels,
  deleteLoggedModelTag,
  findLoggedModel,
  insertLoggedModel,
  insertLoggedModelParams,
  type LoggedModelSearch,
  lockExperimentShared,
  lockLoggedModel,
  loggedModelParams,
  markLoggedModelDeleted,
  searchLoggedModels,
  setLoggedModelStatus,
  toLoggedModelRecord,
  upsertLoggedModelTags,
} from '../store/logged-model-store.js';
import type { LoggedModelsTable, TrackingExecutor } from '../store/schema.js';
import type { TagInput } from './experiments.js';
import { toParam, toRunTag } from './runs.js';

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** MLflow 3 logged models (spec §1.5), each command once for REST and GraphQL. */
export class LoggedModelService {
  constructor(
    private readonly db: TrackingExecutor,
    private readonly clock: () => number,
  ) {}

  /**
   * Creates a model (status PENDING) in an active experiment with its params and tags; the name is
   * generated when absent. The experiment row is share-locked so it cannot be deleted meanwhile.
   */
  async create(input: {
    experimentId: string;
    name?: string;
    modelType?: string;
    sourceRunId?: string;
    params: TagInput[];
    tags: TagInput[];
  }): Promise<LoggedModelRecord> {
    if (input.name !== undefined) validateModelName(input.name);
    const params = uniqueParams(input.params.map((param, i) => toParam(param, `params[${i}]`)));
    const tags = lastValuePerKey(input.tags.map((tag, i) => toRunTag(tag, `tags[${i}]`)));
    const experimentId = parseExperimentId(input.experimentId);
    if (experimentId === undefined) throw experimentNotFound(input.experimentId);
    const modelId = newLoggedModelId();
    const now = this.clock();
    return inTransaction(this.db, async (tx) => {
      const experiment = await lockExperimentShared(tx, experimentId);
      if (!experiment) throw experimentNotFound(input.experimentId);
      if (experiment.lifecycle_stage !== 'active') {
        throw inactiveExperiment(input.experimentId, experiment.lifecycle_stage);
      }
      const row: LoggedModelsTable = {
        model_id: modelId,
        experiment_id: experimentId,
        name: input.name ?? generateRunName(),
        artifact_location: childUri(experiment.artifact_location, `models/${modelId}/artifacts`),
        creation_timestamp_ms: now,
        last_updated_timestamp_ms: now,
        status: 'LOGGED_MODEL_PENDING',
        lifecycle_stage: 'active',
        model_type: input.modelType ?? null,
        source_run_id: input.sourceRunId ?? null,
        status_message: null,
      };
      await insertLoggedModel(tx, row, params, tags);
      return toLoggedModelRecord(row, [...params].sort(byKey), [...tags].sort(byKey), []);
    });
  }

  /** The model with its params, tags and every metric point; deleted models only with `allowDeleted`. */
  async get(modelId: string, options: { allowDeleted?: boolean } = {}): Promise<LoggedModelRecord> {
    const row = await findLoggedModel(this.db, modelId);
    if (!row || (row.lifecycle_stage !== 'active' && !options.allowDeleted))
      throw loggedModelNotFound(modelId);
    const [model] = await assembleLoggedModels(this.db, [row]);
    return model!;
  }

  /** Sets the final upload status (MLflow finalizes any existing model, deleted ones included). */
  finalize(modelId: string, status: LoggedModelStatus): Promise<LoggedModelRecord> {
    const now = this.clock();
    return inTransaction(this.db, async (tx) => {
      const row = await this.lock(tx, modelId);
      await setLoggedModelStatus(tx, modelId, status, now);
      const [model] = await assembleLoggedModels(tx, [{ ...row, status, last_updated_timestamp_ms: now }]);
      return model!;
    });
  }

  /** Soft delete: the model disappears from get (unless `allow_deleted`) and from search. */
  async delete(modelId: string): Promise<void> {
    if (!(await markLoggedModelDeleted(this.db, modelId, this.clock()))) throw loggedModelNotFound(modelId);
  }

  /** Upserts tags (the last value wins when a key repeats in one request). */
  async setTags(modelId: string, tags: TagInput[]): Promise<void> {
    const unique = lastValuePerKey(tags.map((tag, i) => toRunTag(tag, `tags[${i}]`)));
    await inTransaction(this.db, async (tx) => {
      await this.lock(tx, modelId);
      await upsertLoggedModelTags(tx, modelId, unique);
    });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await this.lock(tx, modelId);
      if (!(await deleteLoggedModelTag(tx, modelId, key))) {
        throw MlflowError.notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);
      }
    });
  }

  /**
   * Params are immutable, as for runs: logging the same value again is a no-op, a different value fails
   * the whole request. The model row is locked, so of concurrent requests giving one new param
   * different values the first wins and the others see its value and fail.
   */
  async logParams(modelId: string, params: TagInput[]): Promise<void> {
    const unique = uniqueParams(params.map((param, i) => toParam(param, `params[${i}]`)));
    await inTransaction(this.db, async (tx) => {
      await this.lock(tx, modelId);
      if (unique.length === 0) return;
      const stored = new Map((await loggedModelParams(tx, modelId)).map((row) => [row.key, row.value]));
      const changed = unique
        .filter((p) => stored.has(p.key) && stored.get(p.key) !== p.value)
        .map((p) => ({ key: p.key, old_value: stored.get(p.key)!, new_value: p.value }));
      if (changed.length > 0) throw paramsChanged(`logged model ID='${modelId}'`, changed);
      await insertLoggedModelParams(
        tx,
        modelId,
        unique.filter((p) => !stored.has(p.key)),
      );
    });
  }

  search(search: LoggedModelSearch): Promise<{ models: LoggedModelRecord[]; hasMore: boolean }> {
    return searchLoggedModels(this.db, search);
  }

  private async lock(db: TrackingExecutor, modelId: string): Promise<LoggedModelsTable> {
    const row = await lockLoggedModel(db, modelId);
    if (!row) throw loggedModelNotFound(modelId);
    return row;
  }
}
