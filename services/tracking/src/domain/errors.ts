import { MlflowError } from '@mast/common';

/** MLflow's 404 for an unknown run id. */
export function runNotFound(runId: string): MlflowError {
  return MlflowError.notFound(`Run with id=${runId} not found`);
}

/** MLflow's 400 for a write to a deleted run. */
export function inactiveRun(runId: string, stage: string): MlflowError {
  return MlflowError.invalidParameter(
    `The run ${runId} must be in the 'active' state. Current state is ${stage}.`,
  );
}

/** MLflow's 404 for an unknown experiment id. */
export function experimentNotFound(id: string): MlflowError {
  return MlflowError.notFound(`No Experiment with id=${id} exists`);
}

/** MLflow's 400 for a write into a deleted experiment. */
export function inactiveExperiment(id: string, stage: string): MlflowError {
  return MlflowError.invalidParameter(
    `The experiment ${id} must be in the 'active' state. Current state is ${stage}.`,
  );
}

/** MLflow's 404 for an unknown logged model id. */
export function loggedModelNotFound(modelId: string): MlflowError {
  return MlflowError.notFound(`Logged model with ID '${modelId}' not found.`);
}

export interface ParamChange {
  key: string;
  old_value: string;
  new_value: string;
}

/**
 * MLflow's 400 for params logged again with another value (params are immutable), worded as its SQL
 * store words it: one change names the key and both values, several list them as Python dicts.
 *
 * @param owner what the params belong to, as the message names it (`run ID='…'`, `logged model ID='…'`)
 */
export function paramsChanged(owner: string, changes: readonly ParamChange[]): MlflowError {
  if (changes.length === 1) {
    const p = changes[0]!;
    return MlflowError.invalidParameter(
      `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${p.old_value}' for ${owner}. Attempted logging new value '${p.new_value}'.`,
    );
  }
  const details = changes.map(
    (p) => `{'key': '${p.key}', 'old_value': '${p.old_value}', 'new_value': '${p.new_value}'}`,
  );
  return MlflowError.invalidParameter(
    `Changing param values is not allowed. Params were already logged='[${details.join(', ')}]' for ${owner}.`,
  );
}
