import { describe, expect, test } from '@jest/globals';
import type { Schema } from '@mast/common';
import type { ModelInput } from './model-input.js';
import { InferenceRequestError, parseInferRequest } from './oip.js';
import {
  decodeSignatureRequest,
  inferStyle,
  signatureInferResponse,
  signatureInputNames,
} from './oip-codecs.js';
import { fromValues } from './tensor.js';

const COLUMNS: Schema = {
  kind: 'columns',
  columns: [
    { name: 'a', type: 'double', required: true },
    { name: 'b', type: 'long', required: true },
    { name: 'c', type: 'string', required: false },
  ],
};
const NAMED_TENSORS: Schema = { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 2] }] };
const UNNAMED_TENSOR: Schema = { kind: 'tensors', tensors: [{ dtype: 'float32', shape: [-1, 2] }] };

function request(body: object) {
  return parseInferRequest(body);
}

const a = { name: 'a', datatype: 'FP64', shape: [2, 1], data: [1.5, Number.NaN] };
const b = { name: 'b', datatype: 'INT64', shape: [2], data: [1, 2] };

describe("MLServer's codecs for the MLflow runtime", () => {
  test('parameters.content_type read on the request and its inputs', () => {
    const parsed = request({
      parameters: { content_type: 'pd', other: 1 },
      inputs: [{ ...b, parameters: { content_type: 'np' } }, a],
    });
    expect(parsed.contentType).toBe('pd');
    expect(parsed.inputContentTypes).toEqual({ b: 'np' });
    expect(request({ inputs: [a] }).contentType).toBeUndefined();
    expect(() => request({ parameters: { content_type: 3 }, inputs: [a] })).toThrow(
      /'parameters.content_type' of the request must be a string/,
    );
    expect(() => request({ inputs: [{ ...a, parameters: [] }] })).toThrow(
      /'parameters' of the input 'a' must be an object/,
    );
  });

  test('signature input names as MLServer metadata gives them (input-{i} when unnamed)', () => {
    expect(signatureInputNames(COLUMNS)).toEqual(['a', 'b', 'c']);
    expect(signatureInputNames(UNNAMED_TENSOR)).toEqual(['input-0']);
    expect(signatureInputNames(undefined)).toEqual([]);
  });

  test('style: content types or signature names are MLServer style; graph names win otherwise', () => {
    expect(inferStyle(request({ inputs: [a, b] }), ['a', 'b'], COLUMNS)).toBe('tensors');
    expect(inferStyle(request({ inputs: [a, { ...b, name: 'c' }] }), ['a', 'b'], COLUMNS)).toBe('signature');
    expect(inferStyle(request({ parameters: { content_type: 'pd' }, inputs: [a] }), ['a'], COLUMNS)).toBe(
      'signature',
    );
    expect(
      inferStyle(request({ inputs: [{ ...a, parameters: { content_type: 'np' } }] }), ['a'], undefined),
    ).toBe('signature');
    expect(() => inferStyle(request({ inputs: [{ ...a, name: 'z' }] }), ['x'], undefined)).toThrow(
      "The model has no input named 'z'; name them by the ONNX graph ('x').",
    );
    expect(() => inferStyle(request({ inputs: [a, { ...b, name: 'x' }] }), ['x'], COLUMNS)).toThrow(
      /mix the ONNX graph's names and the signature's/,
    );
  });

  test('pd: one column per input; rows checked', () => {
    expect(decodeSignatureRequest(request({ inputs: [a, b] }), COLUMNS)).toEqual({
      kind: 'frame',
      columns: ['a', 'b'],
      values: { a: [1.5, Number.NaN], b: [1, 2] },
      rows: 2,
    });
    expect(() =>
      decodeSignatureRequest(request({ inputs: [a, { ...b, shape: [1], data: [1] }] }), COLUMNS),
    ).toThrow("The input 'b' has 1 rows where the others have 2; a DataFrame's columns have one length.");
    expect(() => decodeSignatureRequest(request({ inputs: [{ ...a, shape: [1, 2] }] }), COLUMNS)).toThrow(
      /shape \[1, 2\]; a DataFrame column takes one value per row/,
    );
    // An input named `__proto__` is a column like the others.
    const named = decodeSignatureRequest(request({ inputs: [{ ...b, name: '__proto__' }] }), COLUMNS);
    expect(named.kind === 'frame' && Object.entries(named.values)).toEqual([['__proto__', [1, 2]]]);
  });

  test('dict, np and str by the request or the signature; unsupported content types refused', () => {
    const x = { name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] };
    expect(decodeSignatureRequest(request({ inputs: [x] }), NAMED_TENSORS)).toEqual({
      kind: 'tensors',
      values: { x: [[1, 2]] },
    });
    expect(decodeSignatureRequest(request({ inputs: [x] }), UNNAMED_TENSOR)).toEqual({
      kind: 'tensor',
      value: [[1, 2]],
    });
    const s = { name: 's', datatype: 'BYTES', shape: [2], data: ['p', 'q'] };
    expect(
      decodeSignatureRequest(request({ parameters: { content_type: 'str' }, inputs: [s] }), COLUMNS),
    ).toEqual({
      kind: 'tensor',
      value: ['p', 'q'],
    });
    expect(() =>
      decodeSignatureRequest(request({ parameters: { content_type: 'np' }, inputs: [a, b] }), COLUMNS),
    ).toThrow("The 'np' codec only supports a single input tensor (2 were received)");
    expect(() =>
      decodeSignatureRequest(request({ parameters: { content_type: 'hf' }, inputs: [a] }), COLUMNS),
    ).toThrow(InferenceRequestError);
    expect(() =>
      decodeSignatureRequest(request({ inputs: [{ ...a, parameters: { content_type: 'pil' } }] }), COLUMNS),
    ).toThrow(/The input 'a' has content type 'pil'/);
  });

  test('a DataFrame prediction encoded as PandasCodec does; a dict as TensorDictCodec', () => {
    const outputs = {
      p: fromValues([0.25, Number.NaN], 'float32', [2]),
      s: fromValues(['u', 'v'], 'string', [2, 1]),
    };
    const frame: ModelInput = { kind: 'frame', frame: { columns: [], data: {}, rows: 2 } };
    expect(signatureInferResponse('m', { inputs: {}, id: 'r' }, frame, outputs, '3')).toEqual({
      model_name: 'm',
      model_version: '3',
      id: 'r',
      parameters: { content_type: 'pd' },
      outputs: [
        { name: 'p', datatype: 'FP32', shape: [2, 1], data: [0.25, null] },
        {
          name: 's',
          datatype: 'BYTES',
          shape: [2, 1],
          data: ['u', 'v'],
          parameters: { content_type: 'str' },
        },
      ],
    });
    const tensors: ModelInput = { kind: 'tensors', tensors: {} };
    expect(signatureInferResponse('m', { inputs: {}, outputs: ['s'] }, tensors, outputs)).toEqual({
      model_name: 'm',
      parameters: { content_type: 'dict' },
      outputs: [
        { name: 's', datatype: 'BYTES', shape: [2, 1], data: ['u', 'v'], parameters: { content_type: 'np' } },
      ],
    });
    expect(() => signatureInferResponse('m', { inputs: {}, outputs: ['w'] }, tensors, outputs)).toThrow(
      /no output named 'w'/,
    );
    // Outputs of different lengths form no DataFrame: MLflow's unexpected error.
    const ragged = { p: fromValues([1], 'float32', [1]), q: fromValues([1, 2], 'float32', [2]) };
    expect(() => signatureInferResponse('m', { inputs: {} }, frame, ragged)).toThrow(/unexpected error/);
  });
});
