import { MlflowError } from './errors.js';

/**
 * Rules of MLflow's model registry that more than one service applies: the registry (stage
 * transitions, aliases) and deploy (rollout policies triggered by a stage or an alias).
 */

/** MLflow's stages, in canonical capitalisation. */
export const ALL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof ALL_STAGES)[number];

const CANONICAL = new Map<string, Stage>(ALL_STAGES.map((stage) => [stage.toLowerCase(), stage]));

/** A stage as the user wrote it, in canonical form; unknown → MLflow's INVALID_PARAMETER_VALUE. */
export function canonicalStage(stage: string): Stage {
  const canonical = CANONICAL.get(stage.toLowerCase());
  if (canonical === undefined) throw MlflowError.invalidParameter(`Invalid Model Version stage ${stage}.`);
  return canonical;
}

export const MAX_ALIAS_LENGTH = 255;
const ALIAS_CHARS = /^[\w-]*$/;
const VERSION_ALIAS = /^[vV]\d+$/;

/** MLflow's `_validate_model_alias_name`; resolves with the alias. */
export function validateAliasName(alias: string | undefined): string {
  if (alias === undefined || alias === '') {
    throw MlflowError.invalidParameter('Registered model alias name cannot be empty.');
  }
  if (!ALIAS_CHARS.test(alias)) {
    throw MlflowError.invalidParameter(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  if (alias.length > MAX_ALIAS_LENGTH) {
    throw MlflowError.invalidParameter(
      `'Registered model alias name' exceeds the maximum length of ${MAX_ALIAS_LENGTH} characters`,
    );
  }
  if (alias.toLowerCase() === 'latest') {
    throw MlflowError.invalidParameter("'latest' alias name (case insensitive) is reserved.");
  }
  if (VERSION_ALIAS.test(alias))
    throw MlflowError.invalidParameter(`Version alias name '${alias}' is reserved.`);
  return alias;
}
