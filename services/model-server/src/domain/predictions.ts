import { MlflowError } from '@mast/common';
import type { ModelInput } from './model-input.js';
import { type NdArray, toFlatList, toNested } from './tensor.js';

/**
 * The JSON value of `{"predictions": ...}` for a model's outputs (spec 5.3), as MLflow's ONNX pyfunc
 * wrapper and `predictions_to_json` shape it: a DataFrame input gives a DataFrame of the outputs,
 * each flattened to one column, written as records (`[{"y": 1.5}, ...]`); tensor inputs give a dict of
 * output name to nested lists.
 */
export function predictionsOf(input: ModelInput, outputs: Record<string, NdArray>): unknown {
  if (input.kind !== 'frame')
    return Object.fromEntries(Object.entries(outputs).map(([name, array]) => [name, toNested(array)]));
  const columns = Object.entries(outputs).map(([name, array]) => [name, toFlatList(array)] as const);
  const length = columns[0]?.[1].length ?? 0;
  if (columns.some(([, values]) => values.length !== length))
    throw new MlflowError(
      'BAD_REQUEST',
      'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe ' +
        "is compatible with the model for inference. The model's outputs have different lengths and cannot form a DataFrame.",
    );
  const records = new Array<Record<string, unknown>>(length);
  for (let row = 0; row < length; row++) {
    const record: Record<string, unknown> = {};
    for (const [name, values] of columns) record[name] = values[row];
    records[row] = record;
  }
  return records;
}
