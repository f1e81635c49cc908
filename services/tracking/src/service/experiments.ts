import { inTransaction, isUniqueViolation, MlflowError, validateKey, withCancellation } from '@mast/common';
import { experimentNotFound, inactiveExperiment } from '../domain/errors.js';
import { childUri, parseExperimentId } from '../domain/ids.js';
import { type ExperimentRecord, type KeyValue, lastValuePerKey } from '../domain/records.js';
import {
  resolveLocalArtifactLocation,
  validateArtifactLocation,
  validateArtifactLocationLength,
  validateExperimentName,
  validateExperimentTagValue,
} from '../domain/validation.js';
import {
  deleteExperimentTag,
  type ExperimentSearch,
  findExperiment,
  findExperimentByName,
  insertExperiment,
  insertExperimentIfMissing,
  nextExperimentId,
  renameExperiment,
  searchExperiments,
  setExperimentLifecycle,
  upsertExperimentTag,
  withTags,
} from '../store/experiment-store.js';
import type { TrackingExecutor } from '../store/schema.js';

/** Experiment "0", named "Default": the UI and `start_run()` without an experiment use it. */
export const DEFAULT_EXPERIMENT_ID = '0';

function alreadyExists(name: string): MlflowError {
  return new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${name}) already exists.`);
}

/** A key-value pair as a request gave it, with where it came from for error messages. */
export interface TagInput extends KeyValue {
  /** The request field the tag came from (`tags[0]`, `input.tags[0]`); `tags[i]` when absent. */
  path?: string;
}

/**
 * Experiment commands, each once for REST and GraphQL (MLflow's `experiments/*` semantics). Errors are
 * `MlflowError`s with MLflow's codes; names are unique (a concurrent second create or rename with a
 * taken name is `RESOURCE_ALREADY_EXISTS`, decided by the unique index).
 */
export class ExperimentService {
  constructor(
    private readonly db: TrackingExecutor,
    private readonly defaultArtifactRoot: string,
    private readonly clock: () => number,
  ) {}

  async ensureDefault(): Promise<void> {
    await insertExperimentIfMissing(this.db, {
      id: Number(DEFAULT_EXPERIMENT_ID),
      name: 'Default',
      artifactLocation: childUri(this.defaultArtifactRoot, DEFAULT_EXPERIMENT_ID),
      now: this.clock(),
    });
  }

  /** Creates an experiment (id as a string); the artifact location defaults to `<root>/<id>`. */
  async create(input: { name: string; artifactLocation?: string; tags: TagInput[] }): Promise<string> {
    validateExperimentName(input.name);
    if (input.artifactLocation !== undefined) validateArtifactLocation(input.artifactLocation);
    const artifactLocation =
      input.artifactLocation === undefined
        ? undefined
        : resolveLocalArtifactLocation(input.artifactLocation, process.cwd());
    if (artifactLocation !== undefined) validateArtifactLocationLength(artifactLocation);
    input.tags.forEach((tag, i) => {
      const path = tag.path ?? `tags[${i}]`;
      validateKey('tag', tag.key, `${path}.key`);
      validateExperimentTagValue(tag.value, `${path}.value`);
    });
    const tags = lastValuePerKey(input.tags);
    try {
      return await inTransaction(this.db, async (tx) => {
        const id = await nextExperimentId(tx);
        await insertExperiment(tx, {
          id,
          name: input.name,
          artifactLocation: artifactLocation ?? childUri(this.defaultArtifactRoot, String(id)),
          tags,
          now: this.clock(),
        });
        return String(id);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyExists(input.name);
      throw error;
    }
  }

  async get(id: string): Promise<ExperimentRecord> {
    const numericId = parseExperimentId(id);
    const row = numericId === undefined ? undefined : await findExperiment(this.db, numericId);
    if (!row) throw experimentNotFound(id);
    const [experiment] = await withTags(this.db, [row]);
    return experiment!;
  }

  async getByName(name: string): Promise<ExperimentRecord> {
    const row = await findExperimentByName(this.db, name);
    if (!row) throw MlflowError.notFound(`Could not find experiment with name '${name}'`);
    const [experiment] = await withTags(this.db, [row]);
    return experiment!;
  }

  search(
    search: ExperimentSearch,
    signal?: AbortSignal,
  ): Promise<{ experiments: ExperimentRecord[]; hasMore: boolean }> {
    return withCancellation(this.db, signal, (db) => searchExperiments(db, search));
  }

  /** Soft-deletes the experiment and its runs. MLflow looks it up among active ones: else 404. */
  delete(id: string): Promise<void> {
    return this.moveLifecycle(id, 'active', 'deleted');
  }

  /** Restores a deleted experiment and the runs deleted with it. */
  restore(id: string): Promise<void> {
    return this.moveLifecycle(id, 'deleted', 'active');
  }

  async rename(id: string, newName: string): Promise<void> {
    validateExperimentName(newName);
    const experiment = await this.requireExisting(id);
    if (experiment.lifecycle_stage !== 'active') {
      throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
    }
    try {
      await renameExperiment(this.db, experiment.experiment_id, newName, this.clock());
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyExists(newName);
      throw error;
    }
  }

  async setTag(id: string, key: string, value: string): Promise<void> {
    validateKey('tag', key);
    validateExperimentTagValue(value);
    const experiment = await this.requireActive(id);
    await upsertExperimentTag(this.db, experiment.experiment_id, { key, value });
  }

  async deleteTag(id: string, key: string): Promise<void> {
    const experiment = await this.requireActive(id);
    if (!(await deleteExperimentTag(this.db, experiment.experiment_id, key))) {
      throw MlflowError.notFound(`No tag with name: ${key} in experiment with id ${id}`);
    }
  }

  private async moveLifecycle(
    id: string,
    from: 'active' | 'deleted',
    to: 'active' | 'deleted',
  ): Promise<void> {
    const numericId = parseExperimentId(id);
    const moved =
      numericId !== undefined &&
      (await inTransaction(this.db, (tx) => setExperimentLifecycle(tx, numericId, from, to, this.clock())));
    if (!moved) throw experimentNotFound(id);
  }

  private async requireExisting(id: string) {
    const numericId = parseExperimentId(id);
    const row = numericId === undefined ? undefined : await findExperiment(this.db, numericId);
    if (!row) throw experimentNotFound(id);
    return row;
  }

  private async requireActive(id: string) {
    const row = await this.requireExisting(id);
    if (row.lifecycle_stage !== 'active') throw inactiveExperiment(id, row.lifecycle_stage);
    return row;
  }
}
