import { parse as parseYaml } from 'yaml';
import { MlModelError, type ModelSignature, parseParamSchema, parseSchema } from './signature.js';

/**
 * The `MLmodel` file of an MLflow model directory (spec 4.2; `mlflow/models/model.py`): YAML whose
 * field names are kept as MLflow writes them. Only metadata is read; nothing here loads model data.
 */

/** One flavor's configuration (`flavors.onnx`, `flavors.python_function`, ...), as written. */
export type FlavorConfig = Record<string, unknown>;

/** `saved_input_example_info`: where the input example is stored and in which form. */
export interface InputExampleInfo {
  /** The example's file in the model directory (`input_example.json`). */
  artifact_path: string;
  /** `dataframe`, `ndarray`, `json_object`, a sparse-matrix kind, ... */
  type: string;
  /** `split` or `records` for `dataframe` examples. */
  pandas_orient?: string;
  /** The example as an `/invocations` request body (`serving_input_example.json`). */
  serving_input_path?: string;
  [key: string]: unknown;
}

export interface MlModel {
  artifact_path?: string;
  flavors: Record<string, FlavorConfig>;
  run_id?: string;
  model_uuid?: string | null;
  model_id?: string;
  utc_time_created?: string;
  mlflow_version?: string | null;
  signature?: ModelSignature;
  is_signature_from_type_hint?: boolean;
  type_hint_from_example?: boolean;
  saved_input_example_info?: InputExampleInfo;
  databricks_runtime?: string;
  metadata?: Record<string, unknown>;
  model_size_bytes?: number;
  resources?: Record<string, unknown>;
  auth_policy?: Record<string, unknown>;
  env_vars?: string[];
  prompts?: string[];
  /** Top-level keys Mast does not know, kept as read (MLflow's `Model(**kwargs)` keeps them too). */
  extra: Record<string, unknown>;
}

const KNOWN_KEYS = new Set([
  'artifact_path',
  'flavors',
  'run_id',
  'model_uuid',
  'model_id',
  'utc_time_created',
  'mlflow_version',
  'signature',
  'is_signature_from_type_hint',
  'type_hint_from_example',
  'saved_input_example_info',
  'databricks_runtime',
  'metadata',
  'model_size_bytes',
  'resources',
  'auth_policy',
  'env_vars',
  'prompts',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optional<T>(
  document: Record<string, unknown>,
  key: string,
  check: (value: unknown) => boolean,
  expected: string,
): T | undefined {
  const value = document[key];
  if (value === undefined || value === null) return undefined;
  if (!check(value)) throw new MlModelError(`MLmodel: '${key}' must be ${expected}`);
  return value as T;
}

const isString = (value: unknown) => typeof value === 'string';
const isStringList = (value: unknown) => Array.isArray(value) && value.every(isString);

/** MLflow writes `utc_time_created` as `str(datetime)`; YAML may also read a timestamp as a Date. */
function timeCreated(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
  if (typeof value === 'string') return value;
  throw new MlModelError("MLmodel: 'utc_time_created' must be a string");
}

function parseSignature(value: unknown): ModelSignature | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new MlModelError("MLmodel: 'signature' must be a mapping");
  const signature: ModelSignature = {};
  for (const key of ['inputs', 'outputs', 'params'] as const) {
    const json = value[key];
    if (json === undefined || json === null) continue;
    if (typeof json !== 'string') throw new MlModelError(`MLmodel: 'signature.${key}' must be a JSON string`);
    if (key === 'params') signature.params = parseParamSchema(json, 'signature.params');
    else signature[key] = parseSchema(json, `signature.${key}`);
  }
  return signature;
}

/**
 * Parses and validates an `MLmodel` document. Returns its fields (signature schemas parsed from their
 * JSON strings, spec 4.6) and keeps unknown top-level keys in `extra`. Throws MlModelError naming the
 * field for invalid YAML, a missing or empty `flavors` mapping, or a field of the wrong type.
 */
export function parseMlModel(text: string): MlModel {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new MlModelError(`MLmodel: invalid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (!isObject(document)) throw new MlModelError('MLmodel: expected a YAML mapping');
  const flavors = document.flavors;
  if (!isObject(flavors) || Object.keys(flavors).length === 0)
    throw new MlModelError("MLmodel: 'flavors' must be a non-empty mapping");
  for (const [name, config] of Object.entries(flavors))
    if (config !== null && !isObject(config))
      throw new MlModelError(`MLmodel: flavor '${name}' must be a mapping`);

  const inputExample = optional<InputExampleInfo>(
    document,
    'saved_input_example_info',
    (value) => isObject(value) && typeof value.artifact_path === 'string',
    "a mapping with 'artifact_path'",
  );
  const model: MlModel = {
    artifact_path: optional(document, 'artifact_path', isString, 'a string'),
    flavors: Object.fromEntries(
      Object.entries(flavors).map(([name, config]) => [name, config ?? {}]),
    ) as Record<string, FlavorConfig>,
    run_id: optional(document, 'run_id', isString, 'a string'),
    model_uuid: optional(document, 'model_uuid', isString, 'a string') ?? null,
    model_id: optional(document, 'model_id', isString, 'a string'),
    utc_time_created: timeCreated(document.utc_time_created),
    mlflow_version: optional<string>(document, 'mlflow_version', isString, 'a string') ?? null,
    signature: parseSignature(document.signature),
    is_signature_from_type_hint: optional(
      document,
      'is_signature_from_type_hint',
      isBoolean,
      'true or false',
    ),
    type_hint_from_example: optional(document, 'type_hint_from_example', isBoolean, 'true or false'),
    saved_input_example_info: inputExample,
    databricks_runtime: optional(document, 'databricks_runtime', isString, 'a string'),
    metadata: optional(document, 'metadata', isObject, 'a mapping'),
    model_size_bytes: optional(document, 'model_size_bytes', Number.isInteger, 'an integer'),
    resources: optional(document, 'resources', isObject, 'a mapping'),
    auth_policy: optional(document, 'auth_policy', isObject, 'a mapping'),
    env_vars: optional(document, 'env_vars', isStringList, 'a list of strings'),
    prompts: optional(document, 'prompts', isStringList, 'a list of strings'),
    extra: Object.fromEntries(Object.entries(document).filter(([key]) => !KNOWN_KEYS.has(key))),
  };
  for (const key of Object.keys(model) as Array<keyof MlModel>)
    if (model[key] === undefined) delete model[key];
  return model;
}

const isBoolean = (value: unknown) => typeof value === 'boolean';
