import { type DataType, MlflowError, type Schema } from '@mast/common';
import { CsvParseError } from './errors.js';
import { pyException, pyNumber, pyStr, pyType } from './python.js';
import type { RawInput } from './scoring-request.js';

/**
 * The first typing of a request by the model's input schema, which MLflow's scoring server does while
 * parsing, before the model's own schema enforcement (`mlflow/utils/proto_json_utils.py`):
 * `cast_df_types_according_to_schema` runs pandas' `astype` on each DataFrame column the signature
 * names, and `_cast_schema_type`/`parse_instances_data` build numpy arrays of the signature's dtypes
 * for `inputs`/`instances`. Both are lenient where pandas and numpy are: numeric text becomes a
 * number, a float in an integer column is truncated (2.5 -> 2), booleans become 1/0, anything goes
 * into a string column. What they refuse is a 400 BAD_REQUEST "Invalid input. ..." with Python's
 * exception text.
 */

/** A Python exception raised by a conversion: its class name and message. */
class PythonError extends Error {
  constructor(
    readonly pyName: string,
    message: string,
  ) {
    super(message);
  }
}

/** The element type a conversion targets: a `DataType`, or a tensor spec's numpy dtype. */
type Target = 'float' | 'int32' | 'int64' | 'bool' | 'str' | 'text' | 'binary' | 'keep';

const DATA_TYPE_TARGETS: Record<DataType, Target> = {
  boolean: 'bool',
  integer: 'int32',
  long: 'int64',
  float: 'float',
  double: 'float',
  string: 'text',
  binary: 'binary',
  datetime: 'keep',
};

/** How pandas prints a `DataType`'s pandas type in MLflow's "Failed to convert column" message. */
const PANDAS_TYPE_NAMES: Record<DataType, string> = {
  boolean: 'bool',
  integer: 'int32',
  long: 'int64',
  float: 'float32',
  double: 'float64',
  string: "<class 'object'>",
  binary: "<class 'object'>",
  datetime: 'datetime64[ns]',
};

function numpyTarget(dtype: string): Target {
  if (/^float|^double$/.test(dtype)) return 'float';
  if (/^u?int(8|16|32)$/.test(dtype)) return 'int32';
  if (/^u?int64$/.test(dtype)) return 'int64';
  if (dtype === 'bool' || dtype === 'bool_') return 'bool';
  if (dtype === 'str' || dtype.startsWith('<U')) return 'str';
  return 'keep';
}

/** Python's `float(text)`: surrounding space, `_` between digits, `inf`/`infinity`/`nan` in any case. */
function pyFloat(text: string): number {
  const trimmed = text.trim();
  const plain = trimmed.replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(plain)) return Number(plain);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(trimmed);
  if (special)
    return special[2]!.toLowerCase() === 'nan'
      ? Number.NaN
      : special[1] === '-'
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY;
  throw new PythonError('ValueError', `could not convert string to float: ${pyStr(text)}`);
}

/** Python's `int(text)`. */
function pyInt(text: string): number {
  const plain = text.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?\d+$/.test(plain)) return Number(plain);
  throw new PythonError('ValueError', `invalid literal for int() with base 10: ${pyStr(text)}`);
}

/**
 * A number truncated into an integer dtype, wrapping as numpy's `astype` does for int32. Beyond int64
 * numpy cannot hold the Python int at all (`np.array([10**20], dtype=np.int64)`: OverflowError).
 */
function toInteger(value: number, target: Target): number {
  const truncated = Math.trunc(value);
  if (truncated >= 2 ** 63 || truncated < -(2 ** 63))
    throw new PythonError('OverflowError', 'Python int too large to convert to C long');
  return target === 'int32' ? truncated | 0 : truncated;
}

/** Python's `str(value)` of a JSON scalar (numpy's `np.array(..., dtype=str)`). */
function pyStrOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumber(value);
  return JSON.stringify(value);
}

/**
 * One value converted to the target as numpy's element conversion (`np.array(x, dtype)`, pandas'
 * `astype` on an object column) does. Throws PythonError with Python's text.
 */
function convertScalar(value: unknown, target: Target): unknown {
  switch (target) {
    case 'keep':
      return value;
    case 'str':
      return pyStrOf(value);
    case 'text':
      // pandas' astype(object) keeps every value; text of it for the model's string tensors.
      return value === null ? null : pyStrOf(value);
    case 'binary':
      if (typeof value !== 'string') throw new PythonError('TypeError', 'encoding without a string argument');
      checkBase64(value);
      return value;
    case 'bool':
      if (typeof value === 'string') return value.length > 0;
      if (typeof value === 'number') return value !== 0;
      return value === null ? false : Boolean(value);
    case 'float':
      if (typeof value === 'number') return value;
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (value === null) return Number.NaN;
      if (typeof value === 'string') return pyFloat(value);
      throw new PythonError(
        'TypeError',
        `float() argument must be a string or a real number, not '${pyType(value).slice(8, -2)}'`,
      );
    default:
      if (typeof value === 'number') {
        if (!Number.isFinite(value))
          throw new PythonError(
            Number.isNaN(value) ? 'ValueError' : 'OverflowError',
            Number.isNaN(value)
              ? 'cannot convert float NaN to integer'
              : 'cannot convert float infinity to integer',
          );
        return toInteger(value, target);
      }
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string') return toInteger(pyInt(value), target);
      throw new PythonError(
        'TypeError',
        `int() argument must be a string, a bytes-like object or a real number, not '${pyType(value).slice(8, -2)}'`,
      );
  }
}

/**
 * The checks of `base64.decodebytes` (binascii's `a2b_base64`, not strict), which MLflow runs on each
 * value of a binary column: characters outside the alphabet are skipped, padding that completes the
 * last quad ends the text, and a last quad of one character, or of two or three unpadded, is refused.
 * Throws PythonError (`binascii.Error`).
 */
function checkBase64(text: string): void {
  let data = 0;
  let pads = 0;
  for (const char of text) {
    if (/^[A-Za-z0-9+/]$/.test(char)) {
      data++;
      pads = 0;
    } else if (char === '=' && data % 4 >= 2 && (data % 4) + ++pads >= 4) return;
  }
  if (data % 4 === 1)
    throw new PythonError(
      'Error',
      `Invalid base64-encoded string: number of data characters (${data}) cannot be 1 more than a multiple of 4`,
    );
  if (data % 4 !== 0) throw new PythonError('Error', 'Incorrect padding');
}

/** Values converted element by element, through nested lists. */
function convertNested(value: unknown, target: Target): unknown {
  return Array.isArray(value)
    ? value.map((item) => convertNested(item, target))
    : convertScalar(value, target);
}

/**
 * A DataFrame column through pandas' `astype`: a numeric column (numbers and nulls, pandas' float64)
 * with a missing or infinite value cannot become integers (IntCastingNaNError); otherwise each value
 * converts as numpy converts it.
 */
function astypeColumn(values: unknown[], target: Target): unknown[] {
  // The common case, numbers already of the target's kind, is kept as it is (scoring's hot path).
  if (target === 'float' && values.every((value) => typeof value === 'number')) return values;
  if (target === 'int64' && values.every((value) => Number.isSafeInteger(value))) return values;
  if (target === 'int32' || target === 'int64') {
    const numeric = values.every((value) => typeof value === 'number' || value === null);
    if (
      numeric &&
      values.some((value) => typeof value === 'number') &&
      values.some((value) => value === null || !Number.isFinite(value as number))
    )
      throw new PythonError('IntCastingNaNError', 'Cannot convert non-finite values (NA or inf) to integer');
  }
  return values.map((value) => convertScalar(value, target));
}

function invalidInput(message: string): MlflowError {
  return new MlflowError('BAD_REQUEST', `Invalid input. ${message}`);
}

type RawFrame = Extract<RawInput, { kind: 'frame' }>;

/** `cast_df_types_according_to_schema`: each column the schema types, through pandas' `astype`. */
function castFrame(frame: RawFrame, schema: Schema, csv: boolean): RawFrame {
  const pairs: Array<[string, Target, string]> = [];
  if (schema.kind === 'columns') {
    const named = schema.columns.every((column) => column.name !== undefined);
    const specs = named
      ? schema.columns.map((column) => [column.name!, column] as const)
      : frame.columns.slice(0, schema.columns.length).map((name, at) => [name, schema.columns[at]!] as const);
    for (const [name, column] of specs)
      if (typeof column.type === 'string')
        pairs.push([name, DATA_TYPE_TARGETS[column.type], PANDAS_TYPE_NAMES[column.type]]);
  } else {
    if (csv) throw new CsvParseError('TensorSpec only supports numpy types, use numpy_types() instead');
    const named = schema.tensors.every((tensor) => tensor.name !== undefined);
    if (named)
      for (const spec of schema.tensors) pairs.push([spec.name!, numpyTarget(spec.dtype), spec.dtype]);
    else if (schema.tensors.length === 1) {
      const spec = schema.tensors[0]!;
      for (const name of frame.columns) pairs.push([name, numpyTarget(spec.dtype), spec.dtype]);
    }
  }
  const values = { ...frame.values };
  for (const [name, target, typeName] of pairs) {
    const column = values[name];
    if (column === undefined || target === 'keep') continue;
    // Columns of lists (tensor specs) are left for schema enforcement, as MLflow leaves them.
    if (schema.kind === 'tensors' && Array.isArray(column[0])) continue;
    // read_csv given an integer dtype refuses an empty cell itself, naming the column's position.
    if (csv && (target === 'int32' || target === 'int64') && column.includes(null)) {
      const message = `Integer column has NA values in column ${frame.columns.indexOf(name)}`;
      throw new CsvParseError(message, { pyName: 'ValueError', message });
    }
    try {
      values[name] = astypeColumn(column, target);
    } catch (error) {
      if (!(error instanceof PythonError)) throw error;
      if (csv) throw new CsvParseError(error.message, error);
      throw invalidInput(
        `Data is not compatible with model signature. Failed to convert column ${name} to type '${typeName}'. ` +
          `Error: '${pyException(error.pyName, error.message)}'`,
      );
    }
  }
  return { ...frame, values };
}

/** `convert_data_type`: a value (or nested lists) as numpy's `np.array(value, dtype)`. */
function convertData(value: unknown, target: Target): unknown {
  try {
    return convertNested(value, target);
  } catch (error) {
    if (error instanceof PythonError) throw invalidInput(error.message);
    throw error;
  }
}

/**
 * Types a parsed request by the model's input schema as MLflow's parsing does (see the module doc).
 * `csv`: the body was CSV (pandas' `read_csv` with the schema's dtypes; its failures are CSV parse
 * errors). Without a schema the input is returned as it is. Throws MlflowError BAD_REQUEST.
 */
export function castBySchema(raw: RawInput, schema: Schema | undefined, csv = false): RawInput {
  if (schema === undefined) return raw;
  if (raw.kind === 'frame') return castFrame(raw, schema, csv);
  const specs: Array<{ name?: string; target: Target }> =
    schema.kind === 'columns'
      ? schema.columns.map((column) => ({
          ...(column.name === undefined ? {} : { name: column.name }),
          target: typeof column.type === 'string' ? tensorTarget(column.type) : 'keep',
        }))
      : schema.tensors.map((tensor) => ({
          ...(tensor.name === undefined ? {} : { name: tensor.name }),
          target: numpyTarget(tensor.dtype),
        }));
  const named = specs.every((spec) => spec.name !== undefined);
  let input = raw;
  if (named && specs.length === 1 && raw.kind === 'tensor' && Array.isArray(raw.value))
    input = { kind: 'tensors', values: { [specs[0]!.name!]: raw.value } };
  else if (!named && raw.kind === 'tensors')
    throw invalidInput(
      'Failed to parse input data. This model contains an un-named  model signature which expects a single ' +
        "n-dimensional array or a single value as input, however, an input of type <class 'dict'> was found.",
    );
  if (input.kind === 'tensors') {
    const targets = new Map(specs.map((spec) => [spec.name, spec.target]));
    return {
      kind: 'tensors',
      values: Object.fromEntries(
        Object.entries(input.values).map(([name, value]) => [
          name,
          convertData(value, targets.get(name) ?? 'keep'),
        ]),
      ),
    };
  }
  if (input.kind === 'tensor')
    return { kind: 'tensor', value: convertData(input.value, specs[0]?.target ?? 'keep') };
  return input;
}

/** A column type's numpy dtype for `inputs`/`instances` (`DataType.to_numpy()`: a string becomes `str`). */
function tensorTarget(type: DataType): Target {
  return type === 'string' ? 'str' : DATA_TYPE_TARGETS[type];
}
