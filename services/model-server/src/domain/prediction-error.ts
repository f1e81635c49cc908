import { MlflowError, type Schema } from '@mast/common';
import { TracedMlflowError } from './errors.js';
import { numpyRepr, numpyStr, pandasStr, pyRepr, pyStr } from './python.js';
import type { RawInput } from './scoring-request.js';

/**
 * The errors of a prediction, as MLflow's scoring server words them (`invocations` in
 * `mlflow/pyfunc/scoring_server/__init__.py`, `_validate_prediction_input` in `mlflow/pyfunc/__init__.py`):
 * an MlflowException raised while predicting gets "Failed to predict data '<data>'. \nError: " before
 * its message, schema enforcement's failures first "Failed to enforce schema of data '<data>' with
 * schema '<schema>'. Error: " (INVALID_PARAMETER_VALUE); any other failure of the model is the
 * "unexpected error" with a stack trace (BAD_REQUEST).
 */

export const UNEXPECTED_MODEL_ERROR =
  'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is ' +
  'compatible with the model for inference.';

/** MLflow's answer to a model that failed on a request: 400 BAD_REQUEST with the cause's stack trace. */
export function unexpectedModelError(cause: unknown): TracedMlflowError {
  return new TracedMlflowError('BAD_REQUEST', UNEXPECTED_MODEL_ERROR, cause);
}

/** Whether the schema declares a name (or, unnamed, its first input) as a floating-point type. */
function isFloatSpec(schema: Schema | undefined, name: string | undefined): boolean {
  if (schema === undefined) return false;
  if (schema.kind === 'columns') {
    const column =
      schema.columns.find((spec) => spec.name === name) ??
      (name === undefined ? schema.columns[0] : undefined);
    return column?.type === 'double' || column?.type === 'float';
  }
  const tensor =
    schema.tensors.find((spec) => spec.name === name) ??
    (schema.tensors.length === 1 && schema.tensors[0]!.name === undefined ? schema.tensors[0] : undefined);
  return tensor !== undefined && /^float|^double$/.test(tensor.dtype);
}

/**
 * Python's `str()` of the parsed data MLflow names in its messages: a DataFrame as pandas prints it,
 * a dict of arrays as `{'x': array([...])}`, one array as numpy prints it (approximations: numpy's
 * column padding is left out). `unparsed` data (the unified LLM form, which MLflow passes to the
 * model as the JSON dict it read) prints as that dict's repr.
 */
function dataRepr(raw: RawInput, schema: Schema | undefined, unparsed: boolean): string {
  if (unparsed && raw.kind === 'tensors') return pyRepr(raw.values);
  if (raw.kind === 'frame') {
    const labels = raw.labels ?? raw.columns;
    return pandasStr(
      labels,
      raw.columns.map((column) => raw.values[column]!),
      raw.rows,
      raw.columns.map((column) => isFloatSpec(schema, column)),
    );
  }
  if (raw.kind === 'tensors')
    return `{${Object.entries(raw.values)
      .map(([name, value]) => `${pyStr(name)}: ${numpyRepr(value, isFloatSpec(schema, name))}`)
      .join(', ')}}`;
  return numpyStr(raw.value, isFloatSpec(schema, undefined));
}

/** `Schema.__repr__`: `['f0': double (required), ...]`, `[Tensor('float32', (-1, 64))]`. */
export function schemaRepr(schema: Schema): string {
  const named = (name: string | undefined, text: string) =>
    name === undefined ? text : `${pyStr(name)}: ${text}`;
  const items =
    schema.kind === 'columns'
      ? schema.columns.map((column) =>
          named(
            column.name,
            `${typeof column.type === 'string' ? column.type : JSON.stringify(column.type)} (${column.required ? 'required' : 'optional'})`,
          ),
        )
      : schema.tensors.map((tensor) =>
          named(
            tensor.name,
            `Tensor(${pyStr(tensor.dtype)}, (${tensor.shape.join(', ')}${tensor.shape.length === 1 ? ',' : ''}))`,
          ),
        );
  return `[${items.join(', ')}]`;
}

/**
 * An MlflowError raised while predicting, with MLflow's prefixes: `enforcing` for schema
 * enforcement (then INVALID_PARAMETER_VALUE; without a schema the input only fails in the runtime:
 * the unexpected error), else the error's own code. Other errors are the unexpected error.
 * `unparsed`: the input is the unified LLM form's dict, which MLflow prints as it came.
 */
export function predictionFailed(
  raw: RawInput,
  error: unknown,
  schema: Schema | undefined,
  enforcing: boolean,
  unparsed = false,
): MlflowError {
  if (error instanceof TracedMlflowError) return error;
  if (!(error instanceof MlflowError)) return unexpectedModelError(error);
  if (!enforcing)
    return new MlflowError(
      error.code,
      `Failed to predict data '${dataRepr(raw, schema, unparsed)}'. \nError: ${error.message}`,
    );
  // Without a signature nothing is enforced: what cannot be fed fails in the runtime, unexpectedly.
  if (schema === undefined) return unexpectedModelError(error);
  const data = dataRepr(raw, schema, unparsed);
  return new MlflowError(
    'INVALID_PARAMETER_VALUE',
    `Failed to predict data '${data}'. \nError: Failed to enforce schema of data '${data}' with schema ` +
      `'${schemaRepr(schema)}'. Error: ${error.message}`,
  );
}
