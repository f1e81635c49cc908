import type { Schema } from '@mast/common';
import type { ModelInput } from './model-input.js';
import { datatypeOf, InferenceRequestError, type InferRequest, requestedOutputs } from './oip.js';
import { frameColumns } from './predictions.js';
import type { RawInput } from './scoring-request.js';
import { type NdArray, toFlatList, toNested } from './tensor.js';

/**
 * Open Inference Protocol requests as MLServer's MLflow runtime reads them (`mlserver-mlflow`,
 * `runtimes/mlflow/mlserver_mlflow/`, and `mlserver/codecs/`): inputs named by the MLflow signature,
 * decoded by content type into what pyfunc's `predict` takes (a DataFrame for `pd`, a dict of arrays
 * for `dict`, one array for `np`/`str`), and the predictions encoded back by MLServer's codecs.
 */

/** The request-level content types (MLServer's request codecs) this server decodes. */
const REQUEST_CONTENT_TYPES = ['pd', 'dict', 'np', 'str'];
/**
 * The input-level content types whose decoded values the server holds as they come: numbers for
 * `np`, text for `str`, `base64` (binary columns are held as base64 text) and `datetime` (ISO text).
 */
const INPUT_CONTENT_TYPES = ['np', 'str', 'base64', 'datetime'];

/** How an `/infer` request is read: by the ONNX graph's tensors, or by the MLflow signature. */
export type InferStyle = 'tensors' | 'signature';

/**
 * The input names MLServer's metadata gives a signature (`to_metadata_tensors`): each column's or
 * tensor's name, `input-{i}` for an unnamed one. Empty without a signature.
 */
export function signatureInputNames(schema: Schema | undefined): string[] {
  if (schema === undefined) return [];
  const specs = schema.kind === 'columns' ? schema.columns : schema.tensors;
  return specs.map((spec, index) => spec.name ?? `input-${index}`);
}

/**
 * Which way an `/infer` request is read. A request or input with `parameters.content_type` is
 * MLServer's (`signature`); otherwise inputs all named as the ONNX graph's are tensors fed as they
 * are (`tensors`, Triton's way; it wins where the signature's columns bear the same names), and
 * inputs all named by the signature are MLServer's. Throws InferenceRequestError for names that
 * are neither, or a mix of both.
 */
export function inferStyle(
  request: InferRequest,
  graphInputs: readonly string[],
  schema: Schema | undefined,
): InferStyle {
  if (request.contentType !== undefined || request.inputContentTypes !== undefined) return 'signature';
  const names = Object.keys(request.inputs);
  if (names.every((name) => graphInputs.includes(name))) return 'tensors';
  const columns = signatureInputNames(schema);
  if (schema !== undefined && names.every((name) => columns.includes(name))) return 'signature';
  const quoted = (list: readonly string[]) => list.map((name) => `'${name}'`).join(', ');
  const choices =
    `name them by the ONNX graph (${quoted(graphInputs)})` +
    (schema === undefined ? '' : ` or by the signature (${quoted(columns)})`);
  const unknown = names.filter((name) => !graphInputs.includes(name) && !columns.includes(name));
  throw new InferenceRequestError(
    unknown.length > 0
      ? `The model has no input named ${quoted(unknown)}; ${choices}.`
      : `The inputs mix the ONNX graph's names and the signature's; ${choices}.`,
  );
}

/**
 * The content type MLServer's MLflow runtime sets for a model from its signature
 * (`to_model_content_type`): `pd` for columns, `dict` for named tensors, `np` for an unnamed one.
 * Without a signature `pd`, the DataFrame MLflow's scoring server reads by default.
 */
function modelContentType(schema: Schema | undefined): string {
  if (schema === undefined || schema.kind === 'columns') return 'pd';
  return schema.tensors.every((tensor) => tensor.name !== undefined) ? 'dict' : 'np';
}

/**
 * A signature-style request decoded as MLServer decodes it (`decode_inference_request`): by the
 * request's content type, else the model's. `pd` (`PandasCodec.decode_request`): each input one
 * column of one value per row (shape `[n]` or `[n, 1]`); `dict` (`TensorDictCodec`): each input an
 * array of its shape; `np` / `str` (`NumpyRequestCodec`, `StringRequestCodec`): the one input as an
 * array (nested by its shape) or a list. The values are the request's, typed by its datatypes; the
 * result goes through signature typing and enforcement as an `/invocations` request's does. Throws
 * InferenceRequestError for a content type not decoded here, several inputs for `np`/`str`, or
 * columns that are not one value per row or differ in length.
 */
export function decodeSignatureRequest(request: InferRequest, schema: Schema | undefined): RawInput {
  for (const [name, type] of Object.entries(request.inputContentTypes ?? {}))
    if (!INPUT_CONTENT_TYPES.includes(type))
      throw new InferenceRequestError(
        `The input '${name}' has content type '${type}'; inputs are decoded for ${INPUT_CONTENT_TYPES.map((t) => `'${t}'`).join(', ')}.`,
      );
  const contentType = request.contentType ?? modelContentType(schema);
  const entries = Object.entries(request.inputs);
  if (contentType === 'pd') return frameOf(entries);
  if (contentType === 'dict')
    return {
      kind: 'tensors',
      values: Object.fromEntries(entries.map(([name, array]) => [name, toNested(array, true)])),
    };
  if (contentType === 'np' || contentType === 'str') {
    // MLServer's CodecError text (SingleInputRequestCodec).
    if (entries.length !== 1)
      throw new InferenceRequestError(
        `The '${contentType}' codec only supports a single input tensor (${entries.length} were received)`,
      );
    const array = entries[0]![1];
    return { kind: 'tensor', value: contentType === 'np' ? toNested(array, true) : toFlatList(array, true) };
  }
  throw new InferenceRequestError(
    `The request has content type '${contentType}'; requests are decoded for ${REQUEST_CONTENT_TYPES.map((t) => `'${t}'`).join(', ')}.`,
  );
}

/** The inputs as DataFrame columns (`PandasCodec`: a Series per input, reshaped to its rows). */
function frameOf(entries: ReadonlyArray<readonly [string, NdArray]>): RawInput {
  let rows: number | undefined;
  for (const [name, array] of entries) {
    const length = array.shape[0];
    if (length === undefined || array.data.length !== length)
      throw new InferenceRequestError(
        `The input '${name}' has shape [${array.shape.join(', ')}]; a DataFrame column takes one value per row (shape [n] or [n, 1]).`,
      );
    if (rows !== undefined && length !== rows)
      throw new InferenceRequestError(
        `The input '${name}' has ${length} rows where the others have ${rows}; a DataFrame's columns have one length.`,
      );
    rows = length;
  }
  const values = Object.fromEntries(entries.map(([name, array]) => [name, toFlatList(array, true)]));
  return { kind: 'frame', columns: entries.map(([name]) => name), values, rows: rows ?? 0 };
}

interface ResponseOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: { content_type: string };
}

/**
 * The `/infer` answer to a signature-style request, as MLServer's MLflow runtime encodes the
 * predictions (`encode_response`, by the payload's type). MLflow's ONNX wrapper returns a DataFrame
 * for a DataFrame input: `PandasCodec`, one output per column, named as it, the column's datatype,
 * shape `[n, 1]`, text columns with `content_type` `str`, the response's `content_type` `pd`.
 * Otherwise a dict of arrays: `TensorDictCodec`, each array by `NumpyCodec` (its shape, a 1-d one as
 * `[n, 1]`; `content_type` `np`), the response's `dict`. NaN and infinities are null (`convert_nan`).
 * `model_name`, `model_version` (when known) and the request's `id` as in every answer; requested
 * outputs only, when named.
 */
export function signatureInferResponse(
  modelName: string,
  request: InferRequest,
  input: ModelInput,
  outputs: Record<string, NdArray>,
  modelVersion?: string,
): Record<string, unknown> {
  let encoded: ResponseOutput[];
  let contentType: string;
  if (input.kind === 'frame') {
    contentType = 'pd';
    encoded = frameColumns(outputs).map(([name, data]) => {
      const datatype = datatypeOf(outputs[name]!.dtype);
      return {
        name,
        datatype,
        shape: [data.length, 1],
        data,
        ...(datatype === 'BYTES' ? { parameters: { content_type: 'str' } } : {}),
      };
    });
  } else {
    contentType = 'dict';
    encoded = Object.entries(outputs).map(([name, array]) => ({
      name,
      datatype: datatypeOf(array.dtype),
      shape: array.shape.length > 1 ? array.shape : [...array.shape, 1],
      data: toFlatList(array),
      parameters: { content_type: 'np' },
    }));
  }
  const names = requestedOutputs(
    request,
    encoded.map((output) => output.name),
  );
  return {
    model_name: modelName,
    ...(modelVersion === undefined ? {} : { model_version: modelVersion }),
    ...(request.id === undefined ? {} : { id: request.id }),
    parameters: { content_type: contentType },
    outputs: names.map((name) => encoded.find((output) => output.name === name)!),
  };
}
