import { MlflowError } from '@mast/common';

/** MLflow's stages, in canonical capitalisation. */
export const ALL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof ALL_STAGES)[number];

/** The stages `archive_existing_versions` may target (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

const CANONICAL = new Map<string, Stage>(ALL_STAGES.map((stage) => [stage.toLowerCase(), stage]));

/** A stage as the user wrote it, in canonical form; unknown → MLflow's INVALID_PARAMETER_VALUE. */
export function canonicalStage(stage: string): Stage {
  const canonical = CANONICAL.get(stage.toLowerCase());
  if (canonical === undefined) throw MlflowError.invalidParameter(`Invalid Model Version stage ${stage}.`);
  return canonical;
}

/** Checks `archive_existing_versions` is used with an active target stage (MLflow's message). */
export function checkArchiveExisting(stage: Stage, archiveExisting: boolean): void {
  if (archiveExisting && !ACTIVE_STAGES.includes(stage)) {
    throw MlflowError.invalidParameter(
      `Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are ${pyList(ACTIVE_STAGES)}`,
    );
  }
}

/** Python's repr of a list of strings: `['a', 'b']`. */
export function pyList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}
