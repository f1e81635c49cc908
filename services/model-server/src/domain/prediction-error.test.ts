import { describe, expect, test } from '@jest/globals';
import { MlflowError, parseSchema } from '@mast/common';
import { TracedMlflowError } from './errors.js';
import { predictionFailed, schemaRepr, UNEXPECTED_MODEL_ERROR } from './prediction-error.js';
import type { RawInput } from './scoring-request.js';

const columns = parseSchema(
  '[{"type": "double", "name": "a"}, {"type": "string", "name": "s", "required": false}]',
);
const tensor = parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 9]}}]');

describe("prediction errors as MLflow's scoring server words them", () => {
  test('Schema.__repr__ of column and tensor schemas', () => {
    expect(schemaRepr(columns)).toBe("['a': double (required), 's': string (optional)]");
    expect(schemaRepr(tensor)).toBe("[Tensor('float32', (-1, 9))]");
  });

  test('schema enforcement: INVALID_PARAMETER_VALUE, both prefixes, the data as numpy prints it', () => {
    const error = predictionFailed(
      { kind: 'tensor', value: [[3.5, 25]] },
      new MlflowError('BAD_REQUEST', 'Shape of input (1, 2) does not match expected shape (-1, 9).'),
      tensor,
      true,
    );
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toBe(
      "Failed to predict data '[[3.5 25.]]'. \nError: Failed to enforce schema of data '[[3.5 25.]]' with schema " +
        "'[Tensor('float32', (-1, 9))]'. Error: Shape of input (1, 2) does not match expected shape (-1, 9).",
    );
  });

  test('another MlflowException keeps its code; any other error is the unexpected error with a trace', () => {
    const data: RawInput = { kind: 'frame', columns: ['a'], values: { a: [1] }, rows: 1 };
    const params = predictionFailed(
      data,
      MlflowError.invalidParameter('Parameters must be a dictionary.'),
      columns,
      false,
    );
    expect(params.message).toBe(
      "Failed to predict data '     a\n0  1.0'. \nError: Parameters must be a dictionary.",
    );
    const unexpected = predictionFailed(data, new Error('boom'), columns, false);
    expect(unexpected).toBeInstanceOf(TracedMlflowError);
    expect(unexpected.toJSON()).toMatchObject({ error_code: 'BAD_REQUEST', message: UNEXPECTED_MODEL_ERROR });
    // The exception line only: Node's frames name this installation's files.
    expect((unexpected as TracedMlflowError).stackTrace).toBe('Error: boom');
  });
});
