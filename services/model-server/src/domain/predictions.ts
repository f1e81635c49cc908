import type { ModelInput } from './model-input.js';
import { unexpectedModelError } from './prediction-error.js';
import { hasNonFinite, type NdArray, toFlatList, toNested } from './tensor.js';

/**
 * The JSON text of a prediction (spec 5.3): `{"predictions": ...}`, or the bare value for the unified
 * LLM form. The value is shaped as MLflow's ONNX pyfunc wrapper and `predictions_to_json` shape it: a
 * DataFrame input gives a DataFrame of the outputs, each flattened to one column
 * (`format_output`'s `reshape(-1)`), written as records (`[{"y": 1.5}, ...]`); tensor inputs give a
 * dict of output name to nested lists. NaN and infinities are written as Python's `json.dump` writes
 * them (`NaN`, `Infinity`, `-Infinity`). Outputs of different lengths cannot form a DataFrame: MLflow's
 * unexpected error (400).
 */
export function predictionsJson(
  input: ModelInput,
  outputs: Record<string, NdArray>,
  unwrapped: boolean,
): string {
  const nonFinite = Object.values(outputs).some(hasNonFinite);
  const predictions = predictionsOf(input, outputs, nonFinite);
  const value = unwrapped ? predictions : { predictions };
  return nonFinite ? pythonJsonDumps(value) : JSON.stringify(value);
}

function predictionsOf(input: ModelInput, outputs: Record<string, NdArray>, keepNonFinite: boolean): unknown {
  if (input.kind !== 'frame')
    return Object.fromEntries(
      Object.entries(outputs).map(([name, array]) => [name, toNested(array, keepNonFinite)]),
    );
  const columns = frameColumns(outputs, keepNonFinite);
  const length = columns[0]?.[1].length ?? 0;
  const records = new Array<Record<string, unknown>>(length);
  for (let row = 0; row < length; row++) {
    const record: Record<string, unknown> = {};
    for (const [name, values] of columns) record[name] = values[row];
    records[row] = record;
  }
  return records;
}

/**
 * The outputs as the columns of the DataFrame MLflow's ONNX wrapper returns for a DataFrame input
 * (`format_output`: each output flattened, `reshape(-1)`), as JSON values. Outputs of different
 * lengths cannot form a DataFrame: MLflow's unexpected error (400).
 */
export function frameColumns(
  outputs: Record<string, NdArray>,
  keepNonFinite = false,
): Array<readonly [string, unknown[]]> {
  const columns = Object.entries(outputs).map(
    ([name, array]) => [name, toFlatList(array, keepNonFinite)] as const,
  );
  const length = columns[0]?.[1].length ?? 0;
  if (columns.some(([, values]) => values.length !== length))
    throw unexpectedModelError(new Error('All arrays must be of the same length'));
  return columns;
}

const NON_FINITE = /"\\u0000(NaN|Infinity|-Infinity)"/g;

/** JSON as Python's `json.dumps` writes it for non-finite floats: `NaN`, `Infinity`, `-Infinity`. */
export function pythonJsonDumps(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    typeof item === 'number' && !Number.isFinite(item) ? `\u0000${String(item)}` : item,
  ).replace(NON_FINITE, '$1');
}
