import { MlflowError, type Stage } from '@mast/common';

/** The stages `archive_existing_versions` may target (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

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
