import { describe, expect, test } from '@jest/globals';
import { MlflowError, parseSchema } from '@mast/common';
import { enforceColumn, enforceInputSchema, enforceParams } from './enforce.js';
import type { RawInput } from './scoring-request.js';

const frame = (values: Record<string, unknown[]>): RawInput => ({
  kind: 'frame',
  columns: Object.keys(values),
  values,
  rows: Object.values(values)[0]?.length ?? 0,
});

function failure(run: () => unknown): MlflowError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    expect((error as MlflowError).httpStatus).toBe(400);
    return error as MlflowError;
  }
  throw new Error('expected a failure');
}

describe('enforceColumn: MLflow safe conversions', () => {
  test.each([
    ['long', [1, 2], 'int64', [1n, 2n]],
    ['integer', [1, -2], 'int32', [1, -2]],
    ['double', [1, 2.5, null], 'float64', [1, 2.5, Number.NaN]],
    ['float', [1, 2.5], 'float32', [1, 2.5]],
    ['boolean', [true, false], 'bool', [1, 0]],
    ['string', ['a', 'b'], 'string', ['a', 'b']],
    // MLflow leaves a string column of objects as it is: None stays (`_enforce_mlflow_datatype`).
    ['string', ['a', null, undefined], 'string', ['a', null, null]],
    ['datetime', [null, '2024-01-02'], 'string', [null, '2024-01-02']],
    ['datetime', ['2024-01-02T03:04:05Z'], 'string', ['2024-01-02T03:04:05Z']],
    // Numeric text, as pandas' astype in MLflow's cast_df_types_according_to_schema reads it.
    ['double', ['2.5', 1, null, ' -1e2 '], 'float64', [2.5, 1, Number.NaN, -100]],
    ['float', ['inf', '.5'], 'float32', [Number.POSITIVE_INFINITY, 0.5]],
    ['long', ['3', 4, '-7'], 'int64', [3n, 4n, -7n]],
  ] as const)('%s accepts %j', (type, values, dtype, data) => {
    const array = enforceColumn('c', values, type);
    expect(array.dtype).toBe(dtype);
    expect(Array.from(array.data as ArrayLike<unknown>)).toEqual(data);
    expect(array.shape).toEqual([values.length]);
  });

  test.each([
    ['long', [1.5], 'Incompatible input types for column c. Can not safely convert float64 to int64.'],
    ['double', ['x'], 'Incompatible input types for column c. Can not safely convert object to float64.'],
    ['double', [true], 'Incompatible input types for column c. Can not safely convert bool to float64.'],
    ['boolean', [1], 'Incompatible input types for column c. Can not safely convert int64 to bool.'],
    ['string', [1], 'Incompatible input types for column c. Can not safely convert int64 to <U0.'],
    ['integer', [2 ** 40], 'Incompatible input types for column c. Can not safely convert int64 to int32.'],
    ['datetime', ['yesterday'], 'Failed to convert column c from type object to datetime.'],
    ['long', ['2.5'], 'Incompatible input types for column c. Can not safely convert object to int64.'],
    // Integers beyond int64: pandas holds them as uint64 up to 2**64, as Python ints (object) beyond.
    ['long', [2 ** 63], 'Incompatible input types for column c. Can not safely convert uint64 to int64.'],
    ['long', [1e20, 1], 'Incompatible input types for column c. Can not safely convert object to int64.'],
    [
      'double',
      ['3', 'x'],
      'Incompatible input types for column c. Can not safely convert object to float64.',
    ],
    [
      'double',
      ['3', [1]],
      'Incompatible input types for column c. Can not safely convert object to float64.',
    ],
  ] as const)('%s refuses %j', (type, values, message) => {
    expect(failure(() => enforceColumn('c', values, type)).message).toBe(message);
  });

  test('integers with missing values in a long column get the missing-values hint', () => {
    expect(failure(() => enforceColumn('n', [1, null], 'long')).message).toMatch(
      /^Incompatible input types for column n\. Can not safely convert float64 to int64\. Hint: the type mismatch is likely caused by missing values/,
    );
  });
});

describe('enforceInputSchema: column signatures', () => {
  const schema = parseSchema(
    '[{"type": "double", "name": "a"}, {"type": "long", "name": "b"}, {"type": "string", "name": "note", "required": false}]',
  );

  test('columns matched by name, put in signature order, extra ones dropped, optional ones may be absent', () => {
    const input = enforceInputSchema(frame({ extra: ['x'], b: [2], a: [1] }), schema);
    expect(input.kind).toBe('frame');
    if (input.kind !== 'frame') return;
    expect(input.frame.columns).toEqual(['a', 'b']);
    expect(input.frame.data.a!.dtype).toBe('float64');
    expect(input.frame.data.b!.dtype).toBe('int64');
  });

  test('missing required columns: MLflow message with the extra ones', () => {
    expect(failure(() => enforceInputSchema(frame({ a: [1], z: [1] }), schema)).message).toBe(
      "Model is missing inputs ['b']. Note that there were extra inputs: ['z']",
    );
  });

  test('tensors become a DataFrame: a dict of scalars is one row, a dict of lists columns', () => {
    const one = enforceInputSchema({ kind: 'tensors', values: { a: 1, b: 2 } }, schema);
    expect(one.kind === 'frame' && one.frame.rows).toBe(1);
    const many = enforceInputSchema({ kind: 'tensors', values: { a: [1, 2], b: [3, 4] } }, schema);
    expect(many.kind === 'frame' && many.frame.rows).toBe(2);
    expect(
      failure(() => enforceInputSchema({ kind: 'tensors', values: { a: [1, 2], b: [3] } }, schema)).message,
    ).toMatch(/All arrays must be of the same length/);
  });

  test('unnamed columns are checked by count and taken by position', () => {
    const unnamed = parseSchema('[{"type": "double"}, {"type": "double"}]');
    const input = enforceInputSchema({ kind: 'tensor', value: [[1, 2, 3]] }, unnamed);
    expect(input.kind === 'frame' && input.frame.columns).toEqual(['0', '1']);
    expect(failure(() => enforceInputSchema({ kind: 'tensor', value: [[1]] }, unnamed)).message).toMatch(
      /^Model inference is missing inputs\. The model signature declares 2 inputs {2}but the provided value only has 1 inputs/,
    );
  });

  test('an input without rows passes, as in MLflow (the model answers no rows)', () => {
    const input = enforceInputSchema(frame({ a: [], b: [] }), schema);
    expect(input.kind === 'frame' && input.frame.rows).toBe(0);
  });
});

describe('enforceInputSchema: tensor signatures', () => {
  const unnamed = parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]');
  const named = parseSchema(
    '[{"type": "tensor", "name": "x", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}, {"type": "tensor", "name": "k", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
  );

  test('a DataFrame of one scalar column for an unnamed [-1, 2] tensor names no column that does not exist', () => {
    expect(failure(() => enforceInputSchema(frame({ a: [1, 2] }), unnamed)).message).not.toContain(
      'undefined',
    );
  });

  test('an unnamed tensor: dtype converted, shape checked with Python tuples in the message', () => {
    const input = enforceInputSchema(
      {
        kind: 'tensor',
        value: [
          [1, 2],
          [3, 4],
        ],
      },
      unnamed,
    );
    expect(input.kind === 'tensor' && input.tensor).toEqual({
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.from([1, 2, 3, 4]),
    });
    expect(failure(() => enforceInputSchema({ kind: 'tensor', value: [1, 2] }, unnamed)).message).toBe(
      'Shape of input (2,) does not match expected shape (-1, 2).',
    );
  });

  test('a DataFrame for an unnamed tensor: its columns must match the shape', () => {
    const input = enforceInputSchema(frame({ a: [1, 3], b: [2, 4] }), unnamed);
    expect(input.kind === 'tensor' && input.tensor.shape).toEqual([2, 2]);
    expect(failure(() => enforceInputSchema(frame({ a: [1], b: [2], c: [3] }), unnamed)).message).toMatch(
      /must be of the structure \(-1, number_of_dataframe_columns\)/,
    );
  });

  test('named tensors: by name, missing ones named, a bare array refused', () => {
    const input = enforceInputSchema({ kind: 'tensors', values: { x: [[1, 2]], k: [7], extra: 1 } }, named);
    expect(input.kind === 'tensors' && Object.keys(input.tensors)).toEqual(['x', 'k']);
    expect(
      failure(() => enforceInputSchema({ kind: 'tensors', values: { x: [[1, 2]] } }, named)).message,
    ).toBe("Model is missing inputs ['k'].");
    expect(failure(() => enforceInputSchema({ kind: 'tensor', value: [[1, 2]] }, named)).message).toMatch(
      /^This model contains a tensor-based model signature with input names/,
    );
    expect(
      failure(() => enforceInputSchema({ kind: 'tensors', values: { x: [[1, 2]], k: [1.5] } }, named))
        .message,
    ).toMatch(/input 'k' to the signature's dtype int64/);
  });
});

describe('enforceInputSchema without a signature', () => {
  test('dtypes inferred from the JSON values as numpy does', () => {
    const input = enforceInputSchema(
      frame({ i: [1, 2], f: [1, 2.5], s: ['a', 'b'], b: [true, false] }),
      undefined,
    );
    if (input.kind !== 'frame') throw new Error('expected a frame');
    expect(Object.values(input.frame.data).map((array) => array.dtype)).toEqual([
      'int64',
      'float64',
      'string',
      'bool',
    ]);
    expect(failure(() => enforceInputSchema(frame({ m: [1, 'a'] }), undefined)).message).toMatch(
      /mixes value types/,
    );
    expect(
      failure(() => enforceInputSchema({ kind: 'tensor', value: [[1], [2, 3]] }, undefined)).message,
    ).toMatch(/ragged/);
  });
});

describe('enforceParams', () => {
  const specs = [
    { name: 'temperature', type: 'double' as const, default: 0.7, shape: null },
    { name: 'stop', type: 'string' as const, default: null, shape: [-1] },
  ];

  test('declared params with defaults; undeclared ones dropped; none without a params schema', () => {
    expect(enforceParams({ temperature: 1, other: 3 }, specs)).toEqual({ temperature: 1, stop: null });
    expect(enforceParams(undefined, specs)).toEqual({ temperature: 0.7, stop: null });
    expect(enforceParams({ a: 1 }, undefined)).toEqual({});
    // A param named as an Object.prototype member is absent unless given, so it takes its default.
    const named = [{ name: 'constructor', type: 'string' as const, default: 'x', shape: null }];
    expect(enforceParams({}, named)).toEqual({ constructor: 'x' });
  });

  test('a value of the wrong type or shape: INVALID_PARAMETER_VALUE naming the param (_enforce_params_schema)', () => {
    const wrong = failure(() => enforceParams({ temperature: 'hot' }, specs));
    expect(wrong.code).toBe('INVALID_PARAMETER_VALUE');
    expect(wrong.message).toMatch(/^Invalid parameters found: \{\('temperature', /);
    expect(failure(() => enforceParams({ stop: 'x' }, specs)).message).toMatch(/\('stop', /);
  });

  test("params that are not an object: MLflow's message with a params schema, ignored without one", () => {
    expect(failure(() => enforceParams(5, specs)).message).toBe(
      "Parameters must be a dictionary. Got type 'int'.",
    );
    expect(enforceParams([1], undefined)).toEqual({});
  });
});
