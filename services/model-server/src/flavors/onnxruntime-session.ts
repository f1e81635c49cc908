import type * as ort from 'onnxruntime-node';
import { binding, initOrt } from 'onnxruntime-node/dist/binding.js';
import type { DType, TensorInfo } from '../domain/tensor.js';

/**
 * An onnxruntime session run synchronously on the calling thread. onnxruntime-node's public
 * `InferenceSession.run` calls the same native `run`, but from a `setImmediate` behind two promise
 * layers and its argument checks: about 10 µs per call, a quarter of a one-row request's cost. The
 * native session object (`onnxruntime-node/dist/binding.js`, the package's own typed module) is
 * used directly instead; the package version is pinned exactly in package.json for that reason.
 */
export interface OnnxruntimeSession {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  /** Runs the model; every output by name. Throws onnxruntime's error (a plain Error) on failure. */
  run(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor>;
  release(): void;
}

/**
 * ONNX's `TensorProto.DataType` numbers (onnx.proto) that the model server handles, as the native
 * session reports an input's element type; float16 (10) and the 4-bit types are not among them.
 */
const ONNX_ELEMENT_TYPES: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

function tensorInfo(metadata: {
  name: string;
  isTensor: boolean;
  type: number;
  shape: number[];
}): TensorInfo {
  if (!metadata.isTensor) throw new Error(`the ONNX value '${metadata.name}' is not a tensor`);
  const dtype = ONNX_ELEMENT_TYPES[metadata.type];
  if (dtype === undefined)
    throw new Error(
      `the ONNX value '${metadata.name}' has element type ${metadata.type}, which the model server does not support`,
    );
  // Symbolic and unknown dimensions are -1 in the native metadata already.
  return { name: metadata.name, dtype, shape: metadata.shape.map((dimension) => Math.max(dimension, -1)) };
}

/**
 * Loads an `.onnx` file (synchronously, as onnxruntime-node does behind its promise). `options` are
 * onnxruntime-node's session options. Throws onnxruntime's error for a file it cannot load, and an
 * Error naming the value for an input or output that is not a tensor of a supported type.
 */
export function loadOnnxruntimeSession(
  path: string,
  options: ort.InferenceSession.SessionOptions,
): OnnxruntimeSession {
  initOrt();
  const session = new binding.InferenceSession();
  session.loadModel(path, options);
  try {
    const inputs = session.inputMetadata.map(tensorInfo);
    const outputs = session.outputMetadata.map(tensorInfo);
    // Every output, every run: a fresh object each time (the native run fills it in).
    const outputNames = outputs.map((output) => output.name);
    const noRunOptions = {};
    return {
      inputs,
      outputs,
      run(feeds) {
        const fetches: Record<string, null> = {};
        for (const name of outputNames) fetches[name] = null;
        return session.run(feeds, fetches, noRunOptions) as Record<string, ort.Tensor>;
      },
      release() {
        session.dispose();
      },
    };
  } catch (error) {
    session.dispose();
    throw error;
  }
}
