/**
 * Model signatures (spec 4.6; `mlflow/types/schema.py`): the input and output schemas and the params
 * schema that an `MLmodel` file stores as JSON strings. A schema is either all columns (`ColSpec`) or
 * all tensors (`TensorSpec`), never a mix.
 */

/** MLflow's scalar column types (`DataType`). */
export const DATA_TYPES = [
  'boolean',
  'integer',
  'long',
  'float',
  'double',
  'string',
  'binary',
  'datetime',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** A column's type: a scalar `DataType`, or one of MLflow 2.10+'s composite types. */
export type ColumnType =
  | DataType
  | { type: 'array'; items: ColumnType }
  | { type: 'object'; properties: Record<string, { type: ColumnType; required: boolean }> }
  | { type: 'map'; values: ColumnType }
  | { type: 'any' }
  | { type: 'sparkml_vector' };

export interface ColumnSpec {
  name?: string;
  type: ColumnType;
  /** Columns are required unless the signature says `"required": false`. */
  required: boolean;
}

export interface TensorSpec {
  name?: string;
  /** A numpy dtype name (`float32`, `int64`, `str`, `object`, ...). */
  dtype: string;
  /** Dimensions; -1 is a variable dimension. */
  shape: number[];
}

export type Schema = { kind: 'columns'; columns: ColumnSpec[] } | { kind: 'tensors'; tensors: TensorSpec[] };

export interface ParamSpec {
  name: string;
  type: DataType;
  default: unknown;
  /** null for a scalar, `[-1]` for a list. */
  shape: number[] | null;
}

export interface ModelSignature {
  inputs?: Schema;
  outputs?: Schema;
  params?: ParamSpec[];
}

/** A malformed MLmodel or signature; the message names the field. */
export class MlModelError extends Error {
  override name = 'MlModelError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseColumnType(value: unknown, where: string): ColumnType {
  if (typeof value === 'string') {
    if ((DATA_TYPES as readonly string[]).includes(value)) return value as DataType;
    throw new MlModelError(`${where}: unsupported type '${value}'`);
  }
  if (!isObject(value)) throw new MlModelError(`${where}: expected a type`);
  switch (value.type) {
    case 'array':
      return { type: 'array', items: parseColumnType(nestedType(value.items), `${where}.items`) };
    case 'map':
      return { type: 'map', values: parseColumnType(nestedType(value.values), `${where}.values`) };
    case 'object': {
      if (!isObject(value.properties)) throw new MlModelError(`${where}: an object type needs 'properties'`);
      const properties: Record<string, { type: ColumnType; required: boolean }> = {};
      for (const [name, property] of Object.entries(value.properties)) {
        if (!isObject(property)) throw new MlModelError(`${where}.properties.${name}: expected an object`);
        properties[name] = {
          type: parseColumnType(nestedType(property), `${where}.properties.${name}`),
          required: property.required !== false,
        };
      }
      return { type: 'object', properties };
    }
    case 'any':
      return { type: 'any' };
    case 'sparkml_vector':
      return { type: 'sparkml_vector' };
    default:
      return parseColumnType(value.type, where);
  }
}

/** A nested type is written `{"type": "string"}` or, for composites, the composite object itself. */
function nestedType(value: unknown): unknown {
  if (
    isObject(value) &&
    typeof value.type === 'string' &&
    (DATA_TYPES as readonly string[]).includes(value.type)
  )
    return value.type;
  return value;
}

function parseSpec(value: unknown, where: string): ColumnSpec | TensorSpec {
  if (!isObject(value)) throw new MlModelError(`${where}: expected an object`);
  const name = value.name;
  if (name !== undefined && name !== null && typeof name !== 'string')
    throw new MlModelError(`${where}: 'name' must be a string`);
  if (value.type === 'tensor') {
    const spec = value['tensor-spec'];
    if (!isObject(spec) || typeof spec.dtype !== 'string' || !Array.isArray(spec.shape))
      throw new MlModelError(`${where}: a tensor needs 'tensor-spec' with 'dtype' and 'shape'`);
    const shape = spec.shape.map((dimension) => {
      if (!Number.isInteger(dimension)) throw new MlModelError(`${where}: shape must be integers`);
      return dimension as number;
    });
    return { ...(typeof name === 'string' ? { name } : {}), dtype: spec.dtype, shape };
  }
  return {
    ...(typeof name === 'string' ? { name } : {}),
    type: parseColumnType(value, where),
    required: value.required !== false,
  };
}

/**
 * Parses a schema JSON string (`signature.inputs` / `signature.outputs`). Throws MlModelError for
 * invalid JSON, unknown types, or a mix of columns and tensors (MLflow refuses that combination).
 */
export function parseSchema(json: string, field = 'schema'): Schema {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new MlModelError(`${field}: not valid JSON`);
  }
  if (!Array.isArray(value)) throw new MlModelError(`${field}: expected a JSON list of specs`);
  const specs = value.map((spec, index) => parseSpec(spec, `${field}[${index}]`));
  const tensors = specs.filter((spec): spec is TensorSpec => 'dtype' in spec);
  if (tensors.length === specs.length && specs.length > 0) return { kind: 'tensors', tensors };
  if (tensors.length > 0)
    throw new MlModelError(`${field}: a schema cannot combine column specs and tensor specs`);
  const columns = specs as ColumnSpec[];
  const named = columns.filter((column) => column.name !== undefined).length;
  if (named !== 0 && named !== columns.length)
    throw new MlModelError(`${field}: either all columns are named or none is`);
  return { kind: 'columns', columns };
}

/** Parses `signature.params` (a JSON list of `{name, type, default, shape}`). */
export function parseParamSchema(json: string, field = 'params'): ParamSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new MlModelError(`${field}: not valid JSON`);
  }
  if (!Array.isArray(value)) throw new MlModelError(`${field}: expected a JSON list of param specs`);
  return value.map((spec, index) => {
    const where = `${field}[${index}]`;
    if (!isObject(spec) || typeof spec.name !== 'string') throw new MlModelError(`${where}: needs a 'name'`);
    if (typeof spec.type !== 'string' || !(DATA_TYPES as readonly string[]).includes(spec.type))
      throw new MlModelError(`${where}: unsupported type '${String(spec.type)}'`);
    const shape = spec.shape === undefined || spec.shape === null ? null : spec.shape;
    if (shape !== null && !(Array.isArray(shape) && shape.every(Number.isInteger)))
      throw new MlModelError(`${where}: shape must be null or a list of integers`);
    return { name: spec.name, type: spec.type as DataType, default: spec.default ?? null, shape };
  });
}
