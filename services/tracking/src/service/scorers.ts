import { inTransaction } from '@mast/common';
import { experimentNotFound, inactiveExperiment } from '../domain/errors.js';
import { parseExperimentId } from '../domain/ids.js';
import { newScorerId, type ScorerVersionRecord, scorerNotFound } from '../domain/scorers.js';
import { findExperiment } from '../store/experiment-store.js';
import { lockExperimentShared } from '../store/logged-model-store.js';
import type { TrackingExecutor } from '../store/schema.js';
import {
  deleteScorer,
  deleteScorerVersion,
  findScorerId,
  findScorerVersion,
  insertNextScorerVersion,
  latestScorerVersions,
  lockOrCreateScorer,
  scorerVersions,
} from '../store/scorer-store.js';

/**
 * Registered scorers of experiments (MLflow 3's scorer registry): its SQL store's `register_scorer`,
 * `list_scorers`, `list_scorer_versions`, `get_scorer` and `delete_scorer`. Every call first looks the
 * experiment up, as MLflow's do: 404 "No Experiment with id=… exists" for an unknown one, 400
 * INVALID_PARAMETER_VALUE for a deleted one (`_check_experiment_is_active`), reads included.
 */
export class ScorerService {
  constructor(
    private readonly db: TrackingExecutor,
    private readonly clock: () => number,
  ) {}

  /**
   * RegisterScorer: stores `serializedScorer` as the name's next version (1 for a new name) and returns
   * it. Concurrent registrations of one name get distinct consecutive versions (see
   * `lockOrCreateScorer`); the experiment is share-locked so it stays active meanwhile.
   */
  register(experimentId: string, name: string, serializedScorer: string): Promise<ScorerVersionRecord> {
    return inTransaction(this.db, async (tx) => {
      const id = await this.activeExperiment(experimentId, tx, { lock: true });
      const scorerId = await lockOrCreateScorer(tx, id, name, newScorerId());
      const creationTime = this.clock();
      const scorerVersion = await insertNextScorerVersion(tx, scorerId, serializedScorer, creationTime);
      return { scorerId, experimentId: id, scorerName: name, scorerVersion, serializedScorer, creationTime };
    });
  }

  /** ListScorers: the latest version of each of the experiment's scorers, by name; [] for none. */
  async list(experimentId: string): Promise<ScorerVersionRecord[]> {
    return latestScorerVersions(this.db, await this.activeExperiment(experimentId));
  }

  /** ListScorerVersions: every version of the scorer, oldest first; 404 when it has none. */
  async versions(experimentId: string, name: string): Promise<ScorerVersionRecord[]> {
    const scorerId = await this.scorerId(experimentId, name);
    const found = await scorerVersions(this.db, scorerId);
    if (found.length === 0) throw scorerNotFound(experimentId, name);
    return found;
  }

  /** GetScorer: one version, or the latest when `version` is undefined; 404 naming what is missing. */
  async get(experimentId: string, name: string, version?: number): Promise<ScorerVersionRecord> {
    const scorerId = await this.scorerId(experimentId, name);
    const found = await findScorerVersion(this.db, scorerId, version);
    if (!found) throw scorerNotFound(experimentId, name, version);
    return found;
  }

  /**
   * DeleteScorer: one version, or (`version` undefined) the scorer with all its versions; 404 naming
   * what is missing, and nothing is deleted then.
   */
  async delete(experimentId: string, name: string, version?: number): Promise<void> {
    const id = await this.activeExperiment(experimentId);
    await inTransaction(this.db, async (tx) => {
      const scorerId = await findScorerId(tx, id, name);
      if (scorerId === undefined) throw scorerNotFound(experimentId, name);
      const deleted =
        version === undefined
          ? await deleteScorer(tx, scorerId)
          : await deleteScorerVersion(tx, scorerId, version);
      if (!deleted) throw scorerNotFound(experimentId, name, version);
    });
  }

  private async scorerId(experimentId: string, name: string): Promise<string> {
    const scorerId = await findScorerId(this.db, await this.activeExperiment(experimentId), name);
    if (scorerId === undefined) throw scorerNotFound(experimentId, name);
    return scorerId;
  }

  /**
   * The experiment's number when it exists and is active, else MLflow's errors; with `lock`, share-locked
   * until the transaction ends so it is not deleted meanwhile.
   */
  private async activeExperiment(
    experimentId: string,
    db = this.db,
    options: { lock?: boolean } = {},
  ): Promise<number> {
    const id = parseExperimentId(experimentId);
    const experiment =
      id === undefined
        ? undefined
        : options.lock
          ? await lockExperimentShared(db, id)
          : await findExperiment(db, id);
    if (id === undefined || !experiment) throw experimentNotFound(experimentId);
    if (experiment.lifecycle_stage !== 'active')
      throw inactiveExperiment(experimentId, experiment.lifecycle_stage);
    return id;
  }
}
