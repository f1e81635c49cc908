import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import type { ModelInput } from './model-input.js';
import { predictionsJson, pythonJsonDumps } from './predictions.js';
import { fromValues } from './tensor.js';

const frameInput: ModelInput = { kind: 'frame', frame: { columns: [], data: {}, rows: 2 } };
const tensorInput: ModelInput = { kind: 'tensor', tensor: fromValues([1, 2], 'float32', [2, 1]) };

describe('predictionsJson (spec 5.3, predictions_to_json)', () => {
  test('a DataFrame input: records of the outputs, each flattened to one column', () => {
    const outputs = { y: fromValues([1.5, 2.5], 'float32', [2, 1]), label: fromValues([1, 0], 'int64', [2]) };
    expect(JSON.parse(predictionsJson(frameInput, outputs, false))).toEqual({
      predictions: [
        { y: 1.5, label: 1 },
        { y: 2.5, label: 0 },
      ],
    });
  });

  test('a tensor input: a dict of output name to nested lists; unwrapped for the LLM form', () => {
    const outputs = { y: fromValues([1.5, 2.5], 'float32', [2, 1]) };
    expect(JSON.parse(predictionsJson(tensorInput, outputs, false))).toEqual({
      predictions: { y: [[1.5], [2.5]] },
    });
    expect(JSON.parse(predictionsJson(tensorInput, outputs, true))).toEqual({ y: [[1.5], [2.5]] });
  });

  test("NaN and infinities are written as Python's json.dump writes them", () => {
    const outputs = { y: fromValues([Number.NaN, Number.POSITIVE_INFINITY], 'float64', [2]) };
    expect(predictionsJson(frameInput, outputs, false)).toBe('{"predictions":[{"y":NaN},{"y":Infinity}]}');
    expect(pythonJsonDumps({ a: [-Infinity, 1, 'NaN'] })).toBe('{"a":[-Infinity,1,"NaN"]}');
  });

  test('outputs of different lengths cannot form a DataFrame: MLflow 400 "unexpected error"', () => {
    const outputs = { y: fromValues([1, 2], 'float32', [2]), p: fromValues([1, 2, 3, 4], 'float32', [2, 2]) };
    expect(() => predictionsJson(frameInput, outputs, false)).toThrow(MlflowError);
    expect(() => predictionsJson(frameInput, outputs, false)).toThrow(
      /^Encountered an unexpected error while evaluating the model/,
    );
  });
});
