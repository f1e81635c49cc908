import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import type { ModelInput } from './model-input.js';
import { predictionsOf } from './predictions.js';
import { fromValues } from './tensor.js';

const frameInput: ModelInput = { kind: 'frame', frame: { columns: [], data: {}, rows: 2 } };
const tensorInput: ModelInput = { kind: 'tensor', tensor: fromValues([1, 2], 'float32', [2, 1]) };

describe('predictionsOf (spec 5.3)', () => {
  test('a DataFrame input: records of the outputs, each flattened to one column', () => {
    const outputs = { y: fromValues([1.5, 2.5], 'float32', [2, 1]), label: fromValues([1, 0], 'int64', [2]) };
    expect(predictionsOf(frameInput, outputs)).toEqual([
      { y: 1.5, label: 1 },
      { y: 2.5, label: 0 },
    ]);
  });

  test('a tensor input: a dict of output name to nested lists', () => {
    const outputs = { y: fromValues([1.5, 2.5], 'float32', [2, 1]) };
    expect(predictionsOf(tensorInput, outputs)).toEqual({ y: [[1.5], [2.5]] });
  });

  test('outputs of different lengths cannot form a DataFrame: MLflow 400 "unexpected error"', () => {
    const outputs = { y: fromValues([1, 2], 'float32', [2]), p: fromValues([1, 2, 3, 4], 'float32', [2, 2]) };
    expect(() => predictionsOf(frameInput, outputs)).toThrow(MlflowError);
    expect(() => predictionsOf(frameInput, outputs)).toThrow(
      /^Encountered an unexpected error while evaluating the model/,
    );
  });
});
