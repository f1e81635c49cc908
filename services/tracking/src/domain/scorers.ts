import { randomUUID } from 'node:crypto';
import { MlflowError } from '@mast/common';

/** One version of a registered scorer (MLflow's `ScorerVersion` entity); times in milliseconds. */
export interface ScorerVersionRecord {
  scorerId: string;
  experimentId: number;
  scorerName: string;
  scorerVersion: number;
  /** The scorer as the client serialized it (JSON text), kept verbatim. */
  serializedScorer: string;
  creationTime: number;
}

/** Scorer ids are uuid4 strings with dashes (MLflow's `str(uuid.uuid4())` in `register_scorer`). */
export function newScorerId(): string {
  return randomUUID();
}

/**
 * MLflow's 404 for a scorer name the experiment does not have, or a version it does not have
 * (`get_scorer`, `delete_scorer`, `list_scorer_versions` of its SQL store). `experimentId` is the id
 * as the request gave it.
 */
export function scorerNotFound(experimentId: string, name: string, version?: number): MlflowError {
  return MlflowError.notFound(
    version === undefined
      ? `Scorer with name '${name}' not found for experiment ${experimentId}.`
      : `Scorer with name '${name}' and version ${version} not found for experiment ${experimentId}.`,
  );
}
