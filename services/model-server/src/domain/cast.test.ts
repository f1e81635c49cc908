import { describe, expect, test } from '@jest/globals';
import { type MlflowError, parseSchema } from '@mast/common';
import { castBySchema } from './cast.js';
import { CsvParseError } from './errors.js';
import type { RawInput } from './scoring-request.js';

const columns = parseSchema(
  '[{"type": "double", "name": "d"}, {"type": "long", "name": "n"}, {"type": "string", "name": "s"}, {"type": "boolean", "name": "b"}]',
);
const frame = (values: Record<string, unknown[]>): RawInput => ({
  kind: 'frame',
  columns: Object.keys(values),
  values,
  rows: Object.values(values)[0]!.length,
});

function failure(run: () => unknown): MlflowError {
  try {
    run();
  } catch (error) {
    return error as MlflowError;
  }
  throw new Error('expected a failure');
}

describe('castBySchema (cast_df_types_according_to_schema, _cast_schema_type)', () => {
  test("DataFrame columns through pandas' astype: numeric text, truncation, bools, anything as text", () => {
    const cast = castBySchema(
      frame({ d: ['2.5', true, null], n: [2.9, '3', false], s: [7, 'x', null], b: [1, 'False', ''] }),
      columns,
    );
    expect(cast.kind === 'frame' && cast.values).toEqual({
      d: [2.5, 1, Number.NaN],
      n: [2, 3, 0],
      s: ['7', 'x', null],
      b: [true, true, false],
    });
  });

  test('what astype refuses is "Failed to convert column" with the Python exception', () => {
    expect(failure(() => castBySchema(frame({ d: ['three'] }), columns)).message).toBe(
      "Invalid input. Data is not compatible with model signature. Failed to convert column d to type 'float64'. " +
        "Error: 'ValueError(\"could not convert string to float: 'three'\")'",
    );
    expect(failure(() => castBySchema(frame({ n: [1, null] }), columns)).message).toMatch(
      /IntCastingNaNError\('Cannot convert non-finite values \(NA or inf\) to integer'\)'$/,
    );
  });

  test('binary columns: base64.decodebytes skips foreign characters and refuses bad padding (binascii.Error)', () => {
    const binary = parseSchema('[{"type": "binary", "name": "x"}]');
    expect(castBySchema(frame({ x: ['YWJj', 'YW Jj\n', 'YQ==', 'YQ==ignored', ''] }), binary)).toMatchObject({
      values: { x: ['YWJj', 'YW Jj\n', 'YQ==', 'YQ==ignored', ''] },
    });
    expect(failure(() => castBySchema(frame({ x: ['YWJ'] }), binary)).message).toMatch(
      /Failed to convert column x to type '<class 'object'>'\. Error: 'Error\('Incorrect padding'\)'$/,
    );
    expect(failure(() => castBySchema(frame({ x: ['Y-WJjZg'] }), binary)).message).toMatch(
      /Incorrect padding/,
    );
    expect(failure(() => castBySchema(frame({ x: ['YWJjZ'] }), binary)).message).toMatch(
      /Error\('Invalid base64-encoded string: number of data characters \(5\) cannot be 1 more than a multiple of 4'\)'$/,
    );
  });

  test('a CSV body: the failure is a CSV parse error; tensor schemas cannot type CSV', () => {
    expect(failure(() => castBySchema(frame({ d: ['x'] }), columns, true))).toBeInstanceOf(CsvParseError);
    const tensor = parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]');
    expect(failure(() => castBySchema(frame({ a: [1] }), tensor, true)).message).toMatch(
      /Error: 'TensorSpec only supports numpy types, use numpy_types\(\) instead'$/,
    );
  });

  test("a CSV integer column with an empty cell: read_csv's own ValueError, naming the column's position", () => {
    for (const n of [[null], [1, null]]) {
      const csv = failure(() =>
        castBySchema(frame({ d: n.map(() => 1), n }), columns, true),
      ) as CsvParseError;
      expect(csv).toBeInstanceOf(CsvParseError);
      expect(csv.message).toMatch(/Error: 'Integer column has NA values in column 1'$/);
      expect(csv.stackTrace).toBe('ValueError: Integer column has NA values in column 1');
    }
  });

  test('an integer beyond int64 is OverflowError, as numpy fails to hold the Python int', () => {
    for (const n of [1e20, '99999999999999999999', -(2 ** 64)]) {
      expect(failure(() => castBySchema(frame({ n: [1, n] }), columns)).message).toBe(
        "Invalid input. Data is not compatible with model signature. Failed to convert column n to type 'int64'. " +
          "Error: 'OverflowError('Python int too large to convert to C long')'",
      );
    }
    const csv = failure(() => castBySchema(frame({ n: ['99999999999999999999'] }), columns, true));
    expect(csv.message).toMatch(/Error: 'Python int too large to convert to C long'$/);
    expect((csv as CsvParseError).stackTrace).toBe(
      'OverflowError: Python int too large to convert to C long',
    );
    // The largest int64 is no overflow.
    expect(castBySchema(frame({ n: [-(2 ** 63)] }), columns)).toMatchObject({ values: { n: [-(2 ** 63)] } });
  });

  test("a CSV cast failure's stack trace is the Python exception the JSON message quotes, without Node's frames", () => {
    const json = failure(() => castBySchema(frame({ n: ['abc'] }), columns));
    const csv = failure(() => castBySchema(frame({ n: ['abc'] }), columns, true)) as CsvParseError;
    expect(json.message).toMatch(/Error: 'ValueError\("invalid literal for int\(\) with base 10: 'abc'"\)'$/);
    expect(csv.message).toMatch(/Error: 'invalid literal for int\(\) with base 10: 'abc''$/);
    expect(csv.toJSON()).toMatchObject({
      error_code: 'BAD_REQUEST',
      stack_trace: "ValueError: invalid literal for int() with base 10: 'abc'",
    });
  });

  test('inputs as numpy arrays of the dtypes; a dict for an unnamed tensor is refused', () => {
    const cast = castBySchema({ kind: 'tensors', values: { d: ['1.5'], n: [2.5], s: [1] } }, columns);
    expect(cast).toEqual({ kind: 'tensors', values: { d: [1.5], n: [2], s: ['1'] } });
    expect(failure(() => castBySchema({ kind: 'tensors', values: { n: [null] } }, columns)).message).toBe(
      "Invalid input. int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
    );
    const unnamed = parseSchema('[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]');
    expect(failure(() => castBySchema({ kind: 'tensors', values: { x: [1] } }, unnamed)).message).toMatch(
      /^Invalid input\. Failed to parse input data\. This model contains an un-named {2}model signature/,
    );
  });
});
