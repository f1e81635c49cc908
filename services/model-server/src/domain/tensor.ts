/**
 * N-dimensional arrays as the model server passes them between the wire formats and a flavor: a
 * flat, row-major typed array with a dtype and a shape. Element types follow numpy's names (as
 * MLflow's tensor specs do); `bool` is stored one byte per element, `string` as a JS array.
 */

/** The element types the server handles: onnxruntime's tensor types but float16. */
const DTYPES = [
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'string',
] as const;
export type DType = (typeof DTYPES)[number];

export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Array<string | null>;

export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** A model input or output as the model declares it; -1 marks a variable dimension. */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

/** A value that cannot become an element of the wanted dtype; the caller names the input. */
export class ConversionError extends Error {
  override name = 'ConversionError';
}

const INTEGER_RANGES: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/** Whether a dtype is a floating-point type. */
function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** numpy's dtype names for MLflow tensor specs (`str`, `object`, `bytes` hold strings). */
export function dtypeFromNumpy(name: string): DType | undefined {
  if ((DTYPES as readonly string[]).includes(name)) return name as DType;
  if (name === 'str' || name === 'object' || name === 'bytes' || name.startsWith('<U')) return 'string';
  if (name === 'bool_' || name === 'boolean') return 'bool';
  if (name === 'double') return 'float64';
  if (name === 'float') return 'float32';
  return undefined;
}

/** The number of elements of an array of this shape (1 for a 0-d array). */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dimension) => count * dimension, 1);
}

/** Allocates the flat storage for `length` elements of `dtype`. */
export function allocate(dtype: DType, length: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'uint64':
      return new BigUint64Array(length);
    case 'string':
      return new Array<string>(length).fill('');
  }
}

/**
 * Converts one JSON value to an element of `dtype` with numpy's safe rules: numbers (and null as NaN)
 * into floats; integral numbers within range into integers; booleans into bool; strings into string.
 * Throws ConversionError otherwise (a string into a number, 1.5 into an integer, ...).
 */
function toElement(value: unknown, dtype: DType): number | bigint | string {
  switch (dtype) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'bool':
      if (typeof value === 'boolean') return value ? 1 : 0;
      break;
    case 'float32':
    case 'float64':
      if (typeof value === 'number') return value;
      if (value === null) return Number.NaN;
      break;
    case 'int64':
    case 'uint64':
      if (typeof value === 'number' && Number.isSafeInteger(value) && (dtype === 'int64' || value >= 0))
        return BigInt(value);
      break;
    default: {
      const [min, max] = INTEGER_RANGES[dtype]!;
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    }
  }
  throw new ConversionError(`cannot convert ${JSON.stringify(value) ?? String(value)} to ${dtype}`);
}

/** Builds an array of `dtype` and `shape` from flat JSON values (see `toElement` for the rules). */
export function fromValues(values: readonly unknown[], dtype: DType, shape: number[]): NdArray {
  const data = allocate(dtype, values.length);
  for (let index = 0; index < values.length; index++)
    (data as unknown as Array<unknown>)[index] = toElement(values[index], dtype);
  return { dtype, shape, data };
}

/** The shape of a nested JSON list and its elements in row-major order; ragged lists throw. */
export function flattenNested(value: unknown): { shape: number[]; values: unknown[] } {
  const shape: number[] = [];
  let probe = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: unknown[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw new ConversionError('the nested lists are ragged');
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth])
      throw new ConversionError('the nested lists are ragged');
    for (const item of node) walk(item, depth + 1);
  };
  walk(value, 0);
  return { shape, values };
}

/** The dtype numpy infers for JSON values: bool, int64, float64 or string; undefined for a mix. */
export function inferDtype(values: readonly unknown[]): DType | undefined {
  let dtype: DType | undefined;
  for (const value of values) {
    const kind: DType =
      typeof value === 'boolean'
        ? 'bool'
        : typeof value === 'number'
          ? Number.isInteger(value)
            ? 'int64'
            : 'float64'
          : value === null
            ? 'float64'
            : typeof value === 'string'
              ? 'string'
              : 'float64';
    if (typeof value === 'object' && value !== null) return undefined;
    if (dtype === undefined || dtype === kind) dtype = kind;
    else if (isFloat(dtype) && kind === 'int64') dtype = 'float64';
    else if (dtype === 'int64' && kind === 'float64') dtype = 'float64';
    else return undefined;
  }
  return dtype ?? 'float64';
}

/**
 * One element as a JSON value: bigints as numbers, bools as booleans; NaN and infinities as null
 * unless `keepNonFinite` (for a writer that prints them as Python does, see `pythonJsonDumps`).
 */
function jsonElement(data: TensorData, index: number, dtype: DType, keepNonFinite: boolean): unknown {
  const value = data[index]!;
  if (dtype === 'bool') return value === 1;
  if (typeof value === 'bigint') return Number(value);
  if (!keepNonFinite && typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Whether a float array holds NaN or an infinity. */
export function hasNonFinite(array: NdArray): boolean {
  if (!isFloat(array.dtype)) return false;
  const data = array.data as Float32Array | Float64Array;
  for (let index = 0; index < data.length; index++) if (!Number.isFinite(data[index]!)) return true;
  return false;
}

/** The array as nested JSON lists (as numpy's `tolist()`); a 0-d array is its element. */
export function toNested(array: NdArray, keepNonFinite = false): unknown {
  const { data, shape, dtype } = array;
  if (shape.length === 0) return jsonElement(data, 0, dtype, keepNonFinite);
  let offset = 0;
  const build = (depth: number): unknown[] => {
    const length = shape[depth]!;
    const out = new Array<unknown>(length);
    for (let index = 0; index < length; index++) {
      if (depth === shape.length - 1) out[index] = jsonElement(data, offset++, dtype, keepNonFinite);
      else out[index] = build(depth + 1);
    }
    return out;
  };
  return build(0);
}

/** The flat elements as JSON values (numpy's `reshape(-1).tolist()`). */
export function toFlatList(array: NdArray, keepNonFinite = false): unknown[] {
  const out = new Array<unknown>(array.data.length);
  for (let index = 0; index < array.data.length; index++)
    out[index] = jsonElement(array.data, index, array.dtype, keepNonFinite);
  return out;
}

/**
 * Converts every element to another numeric dtype where the value survives (numpy's `astype` with a
 * check): integers to any dtype that holds them, floats to floats, integral floats to integers.
 * Throws ConversionError otherwise, and for strings or booleans to or from anything else.
 */
export function castArray(array: NdArray, dtype: DType): NdArray {
  if (array.dtype === dtype) return array;
  if ([array.dtype, dtype].some((kind) => kind === 'string' || kind === 'bool'))
    throw new ConversionError(`cannot convert ${array.dtype} to ${dtype}`);
  const data = allocate(dtype, array.data.length);
  for (let index = 0; index < array.data.length; index++) {
    const value = Number(array.data[index]);
    (data as unknown as Array<unknown>)[index] = isFloat(dtype) ? value : toElement(value, dtype);
  }
  return { dtype, shape: array.shape, data };
}

/** Rows `[start, end)` along the first dimension (a view, no copy, except for strings). */
export function sliceRows(array: NdArray, start: number, end: number): NdArray {
  const rowSize = elementCount(array.shape.slice(1));
  const data = Array.isArray(array.data)
    ? array.data.slice(start * rowSize, end * rowSize)
    : array.data.subarray(start * rowSize, end * rowSize);
  return { dtype: array.dtype, shape: [end - start, ...array.shape.slice(1)], data };
}

/** Stacks arrays of the same dtype and trailing dimensions along the first dimension. */
export function concatRows(arrays: readonly NdArray[]): NdArray {
  if (arrays.length === 1) return arrays[0]!;
  const first = arrays[0]!;
  const rows = arrays.reduce((sum, array) => sum + array.shape[0]!, 0);
  const length = arrays.reduce((sum, array) => sum + array.data.length, 0);
  const data = allocate(first.dtype, length);
  let offset = 0;
  for (const array of arrays) {
    if (Array.isArray(data)) for (const value of array.data as string[]) data[offset++] = value;
    else {
      (data as Float64Array).set(array.data as Float64Array, offset);
      offset += array.data.length;
    }
  }
  return { dtype: first.dtype, shape: [rows, ...first.shape.slice(1)], data };
}

/** Whether arrays can be stacked: same dtype, same rank and the same dimensions after the first. */
export function sameRowShape(a: NdArray, b: NdArray): boolean {
  return (
    a.dtype === b.dtype &&
    a.shape.length === b.shape.length &&
    a.shape.length > 0 &&
    a.shape.every((dimension, index) => index === 0 || dimension === b.shape[index])
  );
}
