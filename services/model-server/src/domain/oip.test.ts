import { describe, expect, test } from '@jest/globals';
import { InferenceRequestError, inferResponse, modelMetadata, parseInferRequest } from './oip.js';
import { fromValues } from './tensor.js';

describe('Open Inference Protocol v2 messages', () => {
  test('a request: flat or nested data, every datatype name, requested outputs', () => {
    const request = parseInferRequest({
      id: 'a',
      inputs: [
        {
          name: 'x',
          shape: [2, 2],
          datatype: 'FP32',
          data: [
            [1, 2],
            [3, 4],
          ],
        },
        { name: 'k', shape: [2], datatype: 'INT64', data: [5, 6] },
        { name: 'b', shape: [1], datatype: 'BOOL', data: [true] },
        { name: 's', shape: [1], datatype: 'BYTES', data: ['text'] },
      ],
      outputs: [{ name: 'y' }],
    });
    expect(request.id).toBe('a');
    expect(request.outputs).toEqual(['y']);
    expect(request.inputs.x).toEqual({
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.from([1, 2, 3, 4]),
    });
    expect(request.inputs.k!.data).toEqual(BigInt64Array.from([5n, 6n]));
    expect(request.inputs.b!.dtype).toBe('bool');
    expect(request.inputs.s!.data).toEqual(['text']);
  });

  test.each([
    [[], /request body must be a JSON object/],
    [{ inputs: {} }, /'inputs' must be a non-empty list/],
    [{ inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] }, /must be an object with a 'name'/],
    [
      { inputs: [{ name: 'x', shape: [-1], datatype: 'FP32', data: [1] }] },
      /'shape' of non-negative integers/,
    ],
    [
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP16', data: [1] }] },
      /datatype "FP16"; supported: BOOL/,
    ],
    [
      { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2] }] },
      /has 2 elements in 'data' but shape \[3\] needs 3/,
    ],
    [{ inputs: [{ name: 'x', shape: [1], datatype: 'INT8', data: [300] }] }, /data that is not INT8/],
    [
      {
        inputs: [
          { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
        ],
      },
      /given twice/,
    ],
    [
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: ['y'] },
      /'outputs' must be a list of objects/,
    ],
  ])('refuses %j', (body, message) => {
    expect(() => parseInferRequest(body)).toThrow(InferenceRequestError);
    expect(() => parseInferRequest(body)).toThrow(message);
  });

  test('a response: flat data with the protocol datatype; unknown requested outputs refused', () => {
    const outputs = { y: fromValues([1, 2], 'int64', [2, 1]), z: fromValues([0.5], 'float64', [1]) };
    expect(inferResponse('m', { inputs: {}, id: 'r' }, outputs)).toEqual({
      model_name: 'm',
      id: 'r',
      outputs: [
        { name: 'y', datatype: 'INT64', shape: [2, 1], data: [1, 2] },
        { name: 'z', datatype: 'FP64', shape: [1], data: [0.5] },
      ],
    });
    expect(() => inferResponse('m', { inputs: {}, outputs: ['w'] }, outputs)).toThrow(/no output named 'w'/);
  });

  test("names Object.prototype holds: a datatype is refused (not a 500), an input name is the client's", () => {
    expect(() =>
      parseInferRequest({ inputs: [{ name: 'x', shape: [1], datatype: 'toString', data: [1] }] }),
    ).toThrow(
      new InferenceRequestError(
        'The input \'x\' has datatype "toString"; supported: BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP32, FP64, BYTES.',
      ),
    );
    const request = parseInferRequest({
      inputs: [
        { name: 'toString', shape: [1], datatype: 'FP32', data: [1], parameters: { content_type: 'np' } },
        { name: '__proto__', shape: [1], datatype: 'FP32', data: [2] },
      ],
    });
    expect(Object.keys(request.inputs)).toEqual(['toString', '__proto__']);
    expect(Object.getPrototypeOf(request.inputs)).toBe(Object.prototype);
    expect(request.inputContentTypes).toEqual({ toString: 'np' });
  });

  test('metadata lists inputs and outputs with protocol datatypes', () => {
    expect(
      modelMetadata(
        'm',
        ['3'],
        'onnxruntime_onnx',
        [{ name: 'x', dtype: 'float32', shape: [-1, 4] }],
        [{ name: 'y', dtype: 'string', shape: [-1] }],
      ),
    ).toEqual({
      name: 'm',
      versions: ['3'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'BYTES', shape: [-1] }],
    });
  });
});
