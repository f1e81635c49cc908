import {
  type ColumnSpec,
  type DataType,
  MlflowError,
  type ParamSpec,
  type Schema,
  type TensorSpec,
} from '@mast/common';
import type { Frame, ModelInput } from './model-input.js';
import { pyLabels, pyRepr, pyStr, pyTypeName } from './python.js';
import type { RawInput } from './scoring-request.js';
import { pythonList } from './scoring-request.js';
import {
  ConversionError,
  type DType,
  dtypeFromNumpy,
  flattenNested,
  fromValues,
  inferDtype,
  type NdArray,
} from './tensor.js';

/**
 * Signature enforcement (spec 4.6; `_enforce_schema` in `mlflow/models/utils.py`): typing a
 * request's raw JSON values by the model's input schema. Column schemas: columns matched by name
 * (or by position when unnamed), required ones checked, extra ones dropped, values converted only
 * where it is safe (integers to long or double, any number to double or float, strings to string).
 * Tensor schemas: dtype conversion and a shape check. Failures are 400 BAD_REQUEST naming the column.
 */

function badRequest(message: string): MlflowError {
  return new MlflowError('BAD_REQUEST', message);
}

/** The dtype a column of a scalar `DataType` is held in (binary as base64 text, datetime as ISO text). */
const COLUMN_DTYPES: Record<DataType, DType> = {
  boolean: 'bool',
  integer: 'int32',
  long: 'int64',
  float: 'float32',
  double: 'float64',
  string: 'string',
  binary: 'string',
  datetime: 'string',
};

/** numpy's names of the `DataType`s, as MLflow's messages print them (`DataType.to_numpy()`). */
const NUMPY_NAMES: Record<DataType, string> = {
  boolean: 'bool',
  integer: 'int32',
  long: 'int64',
  float: 'float32',
  double: 'float64',
  string: '<U0',
  binary: '|S0',
  datetime: 'datetime64[ns]',
};

/**
 * The numpy dtype pandas gives a column of these JSON values (`object` for text or a mix). Integers
 * beyond int64 are `uint64` up to 2**64 (none negative), else Python ints in an `object` column.
 */
function pandasDtype(values: readonly unknown[]): string {
  const dtype = inferDtype(values);
  if (dtype === 'int64') {
    const numbers = values as readonly number[];
    if (numbers.some((value) => value >= 2 ** 63 || value < -(2 ** 63)))
      return numbers.every((value) => value >= 0 && value < 2 ** 64) ? 'uint64' : 'object';
  }
  return dtype === undefined || dtype === 'string' ? 'object' : dtype;
}

/** Python's repr of a shape tuple: `(2, 3)`, `(2,)`. */
function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * One column converted to its declared type by MLflow's safe conversions
 * (`_enforce_mlflow_datatype`), numeric text in a numeric column first read as the number it spells
 * (as the scoring server's parsing does). Throws BAD_REQUEST "Incompatible input types for column ..."
 * otherwise.
 */
export function enforceColumn(name: string, values: readonly unknown[], type: DataType): NdArray {
  const dtype = COLUMN_DTYPES[type];
  if (values.length === 0) return fromValues([], dtype, [0]);
  const incompatible = (hint = '') =>
    badRequest(
      `Incompatible input types for column ${name}. Can not safely convert ${pandasDtype(values)} to ${NUMPY_NAMES[type]}.${hint}`,
    );
  if (dtype === 'string') {
    // MLflow leaves a string column of Python objects as it is, None included ("we currently cannot
    // cast to pandas Strings due to how None is cast"): a missing value stays null here; only a flavor
    // that feeds the column to the model may refuse it.
    const texts = values.map((value) => (value === undefined ? null : value));
    if (!texts.every((value) => value === null || typeof value === 'string')) throw incompatible();
    if (
      type === 'datetime' &&
      texts.some((value) => value !== null && Number.isNaN(Date.parse(value as string)))
    )
      throw badRequest(`Failed to convert column ${name} from type object to datetime.`);
    return { dtype, shape: [values.length], data: texts as Array<string | null> };
  }
  if (dtype === 'bool') {
    if (!values.every((value) => typeof value === 'boolean')) throw incompatible();
    return fromValues(values, dtype, [values.length]);
  }
  // Numeric text converts first (see numbersFromText); plain numbers, the common case, skip it.
  const given = inferDtype(values);
  const numeric =
    given === 'int64' || given === 'float64'
      ? values
      : numbersFromText(values, dtype === 'int32' || dtype === 'int64');
  if (numeric === undefined) throw incompatible();
  const source = numeric === values ? given : inferDtype(numeric);
  if (source === 'float64' && (dtype === 'int32' || dtype === 'int64')) {
    const hasNulls = numeric.some((value) => value === null);
    const allIntegers = numeric.every((value) => value === null || Number.isInteger(value));
    throw incompatible(hasNulls && allIntegers ? INTEGER_NULLS_HINT : '');
  }
  try {
    return fromValues(numeric, dtype, [values.length]);
  } catch (error) {
    if (error instanceof ConversionError) throw incompatible();
    throw error;
  }
}

/** Text Python's `float()` reads (`astype(float64)` on text), and text its `int()` reads. */
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf(inity)?|nan)$/i;
const INTEGER_TEXT = /^[+-]?\d+$/;

/**
 * A numeric column's values with numeric text converted, as pandas' `astype` converts it when
 * MLflow's scoring server types a JSON DataFrame by the signature (`cast_df_types_according_to_schema`
 * in `mlflow/utils/proto_json_utils.py`; numpy does the same for `instances`/`inputs`): "2.5" to
 * 2.5, "3" to 3. Undefined when a value is neither a number, null nor such text, or is text that is
 * not an integer for an integer column (`int("2.5")` fails in Python too).
 */
function numbersFromText(values: readonly unknown[], integer: boolean): unknown[] | undefined {
  const converted: unknown[] = [];
  for (const value of values) {
    if (typeof value !== 'string') {
      if (typeof value !== 'number' && value !== null) return undefined;
      converted.push(value);
      continue;
    }
    const text = value.trim();
    if (!(integer ? INTEGER_TEXT : FLOAT_TEXT).test(text)) return undefined;
    const number = Number(text.replace(/^([+-]?)inf(inity)?$/i, '$1Infinity').replace(/^[+-]?nan$/i, 'NaN'));
    if (integer && !Number.isSafeInteger(number)) return undefined;
    converted.push(number);
  }
  return converted;
}

const INTEGER_NULLS_HINT =
  ' Hint: the type mismatch is likely caused by missing values. Integer columns in python can not represent ' +
  'missing values and are therefore encoded as floats. The best way to avoid this problem is to infer the ' +
  'model schema based on a realistic data sample (training dataset) that includes missing values. ' +
  'Alternatively, you can declare integer columns as doubles (float64) whenever these columns may have missing ' +
  'values. See `Handling Integers With Missing Values <https://www.mlflow.org/docs/latest/models.html#' +
  'handling-integers-with-missing-values>`_ for more details.';

type RawFrame = Extract<RawInput, { kind: 'frame' }>;

/**
 * Turns tensors into a DataFrame for a column-based signature, as pandas' `DataFrame(...)` does: a
 * dict of scalars is one row; a dict of lists is one column per key; a list of rows gets columns
 * named `0..n-1`.
 */
function asFrame(raw: RawInput): RawFrame {
  if (raw.kind === 'frame') return raw;
  if (raw.kind === 'tensors') {
    const entries = Object.entries(raw.values);
    if (entries.every(([, value]) => !Array.isArray(value)))
      return {
        kind: 'frame',
        columns: entries.map(([key]) => key),
        values: Object.fromEntries(entries.map(([key, value]) => [key, [value]])),
        rows: 1,
      };
    const lengths = new Set(entries.map(([, value]) => (Array.isArray(value) ? value.length : 1)));
    if (lengths.size > 1)
      throw badRequest(
        'This model contains a column-based signature, which suggests a DataFrame input. There was an error ' +
          'casting the input data to a DataFrame: All arrays must be of the same length',
      );
    return {
      kind: 'frame',
      columns: entries.map(([key]) => key),
      values: Object.fromEntries(
        entries.map(([key, value]) => [key, Array.isArray(value) ? value : [value]]),
      ),
      rows: [...lengths][0] ?? 0,
    };
  }
  const rows = Array.isArray(raw.value) ? raw.value : [raw.value];
  const matrix = rows.map((row) => (Array.isArray(row) ? row : [row]));
  const width = matrix[0]?.length ?? 0;
  if (matrix.some((row) => row.length !== width))
    throw badRequest('The input rows have different lengths; expected a rectangular list of rows.');
  // pandas numbers the columns of a list of rows 0..n-1.
  const labels = Array.from({ length: width }, (_, index) => index);
  const columns = labels.map(String);
  return {
    kind: 'frame',
    columns,
    values: Object.fromEntries(columns.map((column, index) => [column, matrix.map((row) => row[index])])),
    rows: matrix.length,
    labels,
  };
}

function enforceColumnSchema(raw: RawInput, columns: ColumnSpec[]): Frame {
  const frame = asFrame(raw);
  const named = columns.every((column) => column.name !== undefined);
  if (!named) {
    if (frame.columns.length < columns.length)
      throw badRequest(
        `Model inference is missing inputs. The model signature declares ${columns.length} inputs  but the ` +
          `provided value only has ${frame.columns.length} inputs. Note: the inputs were not named in the ` +
          'signature so we can only verify their count.',
      );
    const kept = frame.columns.slice(0, columns.length);
    return typedFrame(
      kept,
      kept.map((name, index) => enforceTyped(name, frame.values[name]!, columns[index]!)),
      frame.rows,
    );
  }
  const required = columns.filter((column) => column.required).map((column) => column.name!);
  const optional = columns.filter((column) => !column.required).map((column) => column.name!);
  const missing = required.filter((name) => !frame.columns.includes(name));
  if (missing.length > 0) {
    const labels = frame.labels ?? frame.columns;
    const extra = labels.filter(
      (label) => !required.includes(String(label)) && !optional.includes(String(label)),
    );
    throw badRequest(
      `Model is missing inputs ${pythonList(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${pyLabels(extra)}` : ''}`,
    );
  }
  const present = columns.filter((column) => frame.columns.includes(column.name!));
  return typedFrame(
    present.map((column) => column.name!),
    present.map((column) => enforceTyped(column.name!, frame.values[column.name!]!, column)),
    frame.rows,
  );
}

function enforceTyped(name: string, values: unknown[], column: ColumnSpec): NdArray {
  if (typeof column.type !== 'string')
    throw badRequest(
      `The column '${name}' has type ${JSON.stringify(column.type)} in the signature; the model server feeds only scalar columns to the model.`,
    );
  return enforceColumn(name, values, column.type);
}

function typedFrame(columns: string[], arrays: NdArray[], rows: number): Frame {
  return { columns, data: Object.fromEntries(columns.map((name, index) => [name, arrays[index]!])), rows };
}

/** A tensor spec's dtype, or BAD_REQUEST for a dtype the server cannot hold. */
function specDtype(spec: TensorSpec): DType {
  const dtype = dtypeFromNumpy(spec.dtype);
  if (dtype === undefined) throw badRequest(`The signature's dtype '${spec.dtype}' is not supported.`);
  return dtype;
}

/** A JSON value as a tensor of the spec's dtype, its shape checked (`_enforce_tensor_spec`). */
function enforceTensor(name: string | undefined, value: unknown, spec: TensorSpec): NdArray {
  const dtype = specDtype(spec);
  let flat: { shape: number[]; values: unknown[] };
  try {
    flat = flattenNested(value);
  } catch {
    throw badRequest(
      `The input ${name === undefined ? '' : `'${name}' `}is a ragged list; expected a tensor.`,
    );
  }
  let array: NdArray;
  try {
    array = fromValues(flat.values, dtype, flat.shape);
  } catch (error) {
    if (!(error instanceof ConversionError)) throw error;
    throw badRequest(
      `Failed to convert the input ${name === undefined ? '' : `'${name}' `}to the signature's dtype ${spec.dtype}: ${error.message}.`,
    );
  }
  checkShape(array.shape, spec.shape);
  return array;
}

function checkShape(actual: readonly number[], expected: readonly number[]): void {
  const mismatch =
    actual.length !== expected.length ||
    expected.some((dimension, index) => dimension !== -1 && dimension !== actual[index]);
  if (mismatch)
    throw badRequest(
      `Shape of input ${pythonTuple(actual)} does not match expected shape ${pythonTuple(expected)}.`,
    );
}

/** A DataFrame column fed to a tensor spec (`_reshape_and_cast_pandas_column_values`). */
function columnToTensor(name: string | undefined, values: unknown[], spec: TensorSpec): NdArray {
  const label = name === undefined ? 'the unnamed input' : `input ${name}`;
  if (spec.shape[0] !== -1 || spec.shape.slice(1).includes(-1))
    throw badRequest(
      'For pandas dataframe input, the first dimension of shape must be a variable dimension and other ' +
        `dimensions must be fixed, but in model signature the shape of ${label} is ${pythonTuple(spec.shape)}.`,
    );
  if (values.length > 0 && !Array.isArray(values[0])) {
    if (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] === 1)) {
      const array = enforceTensor(name, values, { ...spec, shape: [-1] });
      return { ...array, shape: spec.shape.length === 1 ? [values.length] : [values.length, 1] };
    }
    throw badRequest(
      `The input pandas dataframe column${name === undefined ? '' : ` '${name}'`} contains scalar values, which requires the shape to be ` +
        `(-1,) or (-1, 1), but got tensor spec shape of ${pythonTuple(spec.shape)}.`,
    );
  }
  return enforceTensor(name, values, spec);
}

function enforceTensorSchema(raw: RawInput, tensors: TensorSpec[]): ModelInput {
  const named = tensors.every((spec) => spec.name !== undefined);
  if (named) {
    const names = tensors.map((spec) => spec.name!);
    let values: Record<string, unknown>;
    if (raw.kind === 'tensors') values = raw.values;
    else if (raw.kind === 'frame') values = raw.values;
    else if (names.length === 1) values = { [names[0]!]: raw.value };
    else
      throw badRequest(
        'This model contains a tensor-based model signature with input names, which suggests a dictionary input ' +
          'mapping input name to tensor, or a pandas DataFrame input containing columns mapping input name to ' +
          "flattened list value from tensor, but an input of type <class 'numpy.ndarray'> was found.",
      );
    const given = Object.keys(values);
    const missing = names.filter((name) => !given.includes(name));
    if (missing.length > 0) {
      const extra = given.filter((name) => !names.includes(name));
      throw badRequest(
        `Model is missing inputs ${pythonList(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${pythonList(extra)}` : ''}`,
      );
    }
    const arrays = Object.fromEntries(
      tensors.map((spec) => [
        spec.name!,
        raw.kind === 'frame'
          ? columnToTensor(spec.name, values[spec.name!] as unknown[], spec)
          : enforceTensor(spec.name, values[spec.name!], spec),
      ]),
    );
    return { kind: 'tensors', tensors: arrays };
  }
  const spec = tensors[0]!;
  if (raw.kind === 'tensor') return { kind: 'tensor', tensor: enforceTensor(undefined, raw.value, spec) };
  if (raw.kind === 'tensors')
    throw badRequest(
      'This model contains a tensor-based model signature with no input names, which suggests a numpy array ' +
        "input or a pandas dataframe input with proper column values, but an input of type <class 'dict'> was found.",
    );
  if (raw.rows === 0) throw badRequest('Input DataFrame is empty.');
  if (raw.columns.length === 1)
    return { kind: 'tensor', tensor: columnToTensor(undefined, raw.values[raw.columns[0]!]!, spec) };
  if (spec.shape.length !== 2 || spec.shape[0] !== -1 || spec.shape[1] !== raw.columns.length)
    throw badRequest(
      'This model contains a model signature with an unnamed input. Since the input data is a pandas DataFrame ' +
        'containing multiple columns, the input shape must be of the structure (-1, number_of_dataframe_columns). ' +
        `Instead, the input DataFrame passed had ${raw.columns.length} columns and an input shape of ` +
        `${pythonTuple(spec.shape)} with all values within the DataFrame of scalar type. Please adjust the passed ` +
        'in DataFrame to match the expected structure',
    );
  const rows = Array.from({ length: raw.rows }, (_, row) =>
    raw.columns.map((column) => raw.values[column]![row]),
  );
  return { kind: 'tensor', tensor: enforceTensor(undefined, rows, spec) };
}

/** Types inputs that have no signature as numpy would: each column or tensor by its JSON values. */
function inferInput(raw: RawInput): ModelInput {
  const infer = (name: string | undefined, value: unknown): NdArray => {
    let flat: { shape: number[]; values: unknown[] };
    try {
      flat = flattenNested(value);
    } catch {
      throw badRequest(
        `The input ${name === undefined ? '' : `'${name}' `}is a ragged list; expected a tensor.`,
      );
    }
    const dtype = inferDtype(flat.values);
    if (dtype === undefined)
      throw badRequest(
        `The input ${name === undefined ? '' : `'${name}' `}mixes value types; expected one type.`,
      );
    return fromValues(flat.values, dtype, flat.shape);
  };
  if (raw.kind === 'frame')
    return {
      kind: 'frame',
      frame: typedFrame(
        raw.columns,
        raw.columns.map((column) => infer(column, raw.values[column])),
        raw.rows,
      ),
    };
  if (raw.kind === 'tensors')
    return {
      kind: 'tensors',
      tensors: Object.fromEntries(
        Object.entries(raw.values).map(([name, value]) => [name, infer(name, value)]),
      ),
    };
  return { kind: 'tensor', tensor: infer(undefined, raw.value) };
}

/**
 * Types a request's raw input by the model's input schema (or by inference without one), as
 * `_enforce_schema` does once the request is parsed (and cast by `castBySchema`). Throws MlflowError
 * BAD_REQUEST naming the offending column or input (the server wraps it in MLflow's "Failed to
 * enforce schema" text). An input without rows passes, as in MLflow.
 */
export function enforceInputSchema(raw: RawInput, schema: Schema | undefined): ModelInput {
  return schema === undefined
    ? inferInput(raw)
    : schema.kind === 'columns'
      ? { kind: 'frame', frame: enforceColumnSchema(raw, schema.columns) }
      : enforceTensorSchema(raw, schema.tensors);
}

function paramValueFits(value: unknown, type: DataType): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
    case 'long':
      return Number.isInteger(value);
    case 'float':
    case 'double':
      return typeof value === 'number';
    case 'datetime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    default:
      return typeof value === 'string';
  }
}

/**
 * The params a request passes to the model (`_enforce_params_schema` in `mlflow/models/utils.py`):
 * the declared ones with their defaults, values checked against type and shape; params the
 * signature does not declare are dropped (MLflow warns). Without a params schema nothing is passed
 * and whatever came is ignored, a non-object too. Throws INVALID_PARAMETER_VALUE: "Parameters must
 * be a dictionary. Got type 'int'.", or "Invalid parameters found: {('name', '...')}".
 */
export function enforceParams(
  params: unknown,
  specs: readonly ParamSpec[] | undefined,
): Record<string, unknown> {
  if (specs === undefined) return {};
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params)))
    throw MlflowError.invalidParameter(`Parameters must be a dictionary. Got type '${pyTypeName(params)}'.`);
  const given = (params ?? {}) as Record<string, unknown>;
  const enforced: Record<string, unknown> = {};
  const invalid: string[] = [];
  for (const spec of specs) {
    const value = Object.hasOwn(given, spec.name) ? given[spec.name] : spec.default;
    const fits =
      value === null ||
      (spec.shape === null
        ? paramValueFits(value, spec.type)
        : Array.isArray(value) && value.every((item) => paramValueFits(item, spec.type)));
    if (!fits)
      invalid.push(
        `(${pyStr(spec.name)}, ${pyStr(
          `Failed to validate type and shape for ${pyStr(spec.name)}, error: Failed to convert value ` +
            `${pyRepr(value)} from type ${pyTypeName(value)} to ${spec.type}`,
        )})`,
      );
    enforced[spec.name] = value;
  }
  if (invalid.length > 0)
    throw MlflowError.invalidParameter(`Invalid parameters found: {${invalid.join(', ')}}`);
  return enforced;
}
