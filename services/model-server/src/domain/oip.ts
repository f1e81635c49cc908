import { MAX_DIMENSIONS, nestsDeeperThan } from './errors.js';
import {
  ConversionError,
  type DType,
  flattenNested,
  fromValues,
  type NdArray,
  type TensorInfo,
  toFlatList,
} from './tensor.js';

/**
 * The Open Inference Protocol v2 REST messages (KServe's "V2 inference protocol", which Triton and
 * MLServer speak): tensors as `{name, shape, datatype, data}` with flat row-major `data` (nested
 * lists are accepted too), errors as `{"error": "..."}`.
 */

const DATATYPES: Record<string, DType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

/** The protocol's datatype of a dtype (`float32` is `FP32`, strings are `BYTES`). */
export function datatypeOf(dtype: DType): string {
  return Object.entries(DATATYPES).find(([, candidate]) => candidate === dtype)![0];
}

/** A request the protocol refuses: answered 400 with `{"error": message}`. */
export class InferenceRequestError extends Error {
  override name = 'InferenceRequestError';
}

export interface InferRequest {
  id?: string;
  inputs: Record<string, NdArray>;
  /** The outputs asked for by name; every output when absent. */
  outputs?: string[];
  /** MLServer's request-level `parameters.content_type` (`pd`, `np`, `dict`, `str`), when given. */
  contentType?: string;
  /** MLServer's input-level `parameters.content_type` by input name, where given. */
  inputContentTypes?: Record<string, string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses an `/infer` body: `inputs` is a non-empty list of tensors with a name, a shape of
 * non-negative integers, a known datatype, and data whose element count matches the shape; the
 * request's and each input's `parameters.content_type` (MLServer's codecs, see oip-codecs.ts) are
 * kept. Throws InferenceRequestError naming the tensor.
 */
export function parseInferRequest(body: unknown): InferRequest {
  if (!isObject(body)) throw new InferenceRequestError('The request body must be a JSON object.');
  const { id, inputs, outputs } = body;
  if (id !== undefined && typeof id !== 'string') throw new InferenceRequestError("'id' must be a string.");
  const contentType = contentTypeOf(body.parameters, 'the request');
  // Tensor names are the client's: kept in Maps, `toString` or `__proto__` are names like any other.
  const inputContentTypes = new Map<string, string>();
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new InferenceRequestError("'inputs' must be a non-empty list of tensors.");
  const tensors = new Map<string, NdArray>();
  for (const [index, tensor] of inputs.entries()) {
    if (!isObject(tensor) || typeof tensor.name !== 'string')
      throw new InferenceRequestError(`inputs[${index}] must be an object with a 'name'.`);
    const { name, shape, datatype, data } = tensor;
    if (tensors.has(name)) throw new InferenceRequestError(`The input '${name}' is given twice.`);
    const inputContentType = contentTypeOf(tensor.parameters, `the input '${name}'`);
    if (inputContentType !== undefined) inputContentTypes.set(name, inputContentType);
    if (!Array.isArray(shape) || !shape.every((dimension) => Number.isInteger(dimension) && dimension >= 0))
      throw new InferenceRequestError(`The input '${name}' needs a 'shape' of non-negative integers.`);
    // Tensors are built and printed by walks over their dimensions: numpy's bound keeps them shallow.
    if (shape.length > MAX_DIMENSIONS || nestsDeeperThan(data, MAX_DIMENSIONS))
      throw new InferenceRequestError(
        `The input '${name}' has more than ${MAX_DIMENSIONS} dimensions (numpy's most).`,
      );
    const dtype =
      typeof datatype === 'string' && Object.hasOwn(DATATYPES, datatype) ? DATATYPES[datatype] : undefined;
    if (dtype === undefined)
      throw new InferenceRequestError(
        `The input '${name}' has datatype ${JSON.stringify(datatype)}; supported: ${Object.keys(DATATYPES).join(', ')}.`,
      );
    let values: unknown[];
    try {
      values = flattenNested(data).values;
    } catch {
      throw new InferenceRequestError(`The input '${name}' has ragged 'data'.`);
    }
    const count = (shape as number[]).reduce((product, dimension) => product * dimension, 1);
    if (values.length !== count)
      throw new InferenceRequestError(
        `The input '${name}' has ${values.length} elements in 'data' but shape [${shape.join(', ')}] needs ${count}.`,
      );
    try {
      tensors.set(name, fromValues(values, dtype, shape as number[]));
    } catch (error) {
      if (!(error instanceof ConversionError)) throw error;
      throw new InferenceRequestError(
        `The input '${name}' has data that is not ${datatype}: ${error.message}.`,
      );
    }
  }
  let requested: string[] | undefined;
  if (outputs !== undefined) {
    if (
      !Array.isArray(outputs) ||
      !outputs.every((output) => isObject(output) && typeof output.name === 'string')
    )
      throw new InferenceRequestError("'outputs' must be a list of objects with a 'name'.");
    requested = outputs.map((output) => (output as { name: string }).name);
  }
  return {
    ...(id === undefined ? {} : { id }),
    inputs: Object.fromEntries(tensors),
    ...(requested ? { outputs: requested } : {}),
    ...(contentType === undefined ? {} : { contentType }),
    ...(inputContentTypes.size === 0 ? {} : { inputContentTypes: Object.fromEntries(inputContentTypes) }),
  };
}

/** `parameters.content_type` of a request or an input (MLServer's codec selector), when given. */
function contentTypeOf(parameters: unknown, owner: string): string | undefined {
  if (parameters === undefined || parameters === null) return undefined;
  if (!isObject(parameters))
    throw new InferenceRequestError(`The 'parameters' of ${owner} must be an object.`);
  const { content_type: contentType } = parameters;
  if (contentType === undefined || contentType === null) return undefined;
  if (typeof contentType !== 'string')
    throw new InferenceRequestError(`The 'parameters.content_type' of ${owner} must be a string.`);
  return contentType;
}

/** The `/infer` response: the requested outputs (all by default) with flat data. */
export function inferResponse(
  modelName: string,
  request: InferRequest,
  outputs: Record<string, NdArray>,
  /** The registered version served, when known: the response's optional `model_version`. */
  modelVersion?: string,
): Record<string, unknown> {
  const names = requestedOutputs(request, Object.keys(outputs));
  return {
    model_name: modelName,
    ...(modelVersion === undefined ? {} : { model_version: modelVersion }),
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs: names.map((name) => {
      const array = outputs[name]!;
      return { name, datatype: datatypeOf(array.dtype), shape: array.shape, data: toFlatList(array) };
    }),
  };
}

/** The outputs a request asks for (all by default); an unknown name is refused. */
export function requestedOutputs(request: InferRequest, available: readonly string[]): string[] {
  const names = request.outputs ?? [...available];
  const unknown = names.filter((name) => !available.includes(name));
  if (unknown.length > 0)
    throw new InferenceRequestError(
      `The model has no output named ${unknown.map((name) => `'${name}'`).join(', ')}.`,
    );
  return names;
}

/**
 * `GET /v2/models/{name}`: the model's versions (the registered version served, if known) and its
 * inputs and outputs as the ONNX graph declares them.
 */
export function modelMetadata(
  modelName: string,
  versions: readonly string[],
  platform: string,
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
): Record<string, unknown> {
  const describe = (info: TensorInfo) => ({
    name: info.name,
    datatype: datatypeOf(info.dtype),
    shape: info.shape,
  });
  return {
    name: modelName,
    versions,
    platform,
    inputs: inputs.map(describe),
    outputs: outputs.map(describe),
  };
}
