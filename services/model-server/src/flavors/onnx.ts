import { resolve, sep } from 'node:path';
import { type FlavorConfig, MlflowError, type MlModel } from '@mast/common';
import * as ort from 'onnxruntime-node';
import type { Frame, ModelInput } from '../domain/model-input.js';
import {
  allocate,
  ConversionError,
  castArray,
  type DType,
  type NdArray,
  type TensorData,
  type TensorInfo,
} from '../domain/tensor.js';
import type { Flavor, LoadedModel } from './model.js';
import { loadOnnxruntimeSession, type OnnxruntimeSession } from './onnxruntime-session.js';

/**
 * The `onnx` flavor (spec 4.5) on onnxruntime-node's CPU provider. Inputs are fed as MLflow's ONNX
 * pyfunc wrapper (`mlflow/onnx/__init__.py`, `_OnnxModelWrapper.predict`) feeds them: a DataFrame
 * goes whole to a single-input model (as a rows x columns matrix) or column by column to the inputs
 * of the same names; a dict of arrays goes by name; one array only to a single-input model. float64
 * is cast to float32 where the model wants float (MLflow does the same, mlflow#1286); other numeric
 * mismatches are cast too, where MLflow would let onnxruntime fail. An input the model cannot take
 * (a missing column, a wrong shape) is a plain Error, as onnxruntime's or pandas' error is in MLflow:
 * the server answers MLflow's "unexpected error"; only the numpy-array mapping is MLflow's own error.
 */
export const onnxFlavor: Flavor = {
  name: 'onnx',
  async load(modelDir: string, mlmodel: MlModel): Promise<LoadedModel> {
    const config = mlmodel.flavors.onnx ?? {};
    const file = typeof config.data === 'string' ? config.data : 'model.onnx';
    const path = resolve(modelDir, file);
    if (path !== resolve(modelDir) && !path.startsWith(resolve(modelDir) + sep))
      throw new Error(`the onnx flavor's data '${file}' is outside the model directory`);
    return new OnnxModel(modelDir, mlmodel, loadOnnxruntimeSession(path, sessionOptions(config)));
  },
};

const OPTIMIZATION_LEVELS: Record<number, ort.InferenceSession.SessionOptions['graphOptimizationLevel']> = {
  0: 'disabled',
  1: 'basic',
  2: 'extended',
  99: 'all',
};

/** `onnx_session_options` as MLflow writes them (onnxruntime's Python names) in onnxruntime-node's terms. */
function sessionOptions(config: FlavorConfig): ort.InferenceSession.SessionOptions {
  // onnxruntime-node runs a model on the event loop's thread (its thread pool only splits large
  // operators); pool threads that spin between runs take the cores HTTP parsing and the next request
  // need, so they sleep instead (up to 5x the throughput on a busy 2-core machine).
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  const given = config.onnx_session_options;
  if (typeof given !== 'object' || given === null) return options;
  const { intra_op_num_threads, inter_op_num_threads, execution_mode, graph_optimization_level } =
    given as Record<string, unknown>;
  if (typeof intra_op_num_threads === 'number') options.intraOpNumThreads = intra_op_num_threads;
  if (typeof inter_op_num_threads === 'number') options.interOpNumThreads = inter_op_num_threads;
  // MLflow reads 'sequential'/'parallel' (any case); onnxruntime's own names and numbers kept too.
  if (execution_mode === 1 || ['PARALLEL', 'ORT_PARALLEL'].includes(String(execution_mode).toUpperCase()))
    options.executionMode = 'parallel';
  if (typeof graph_optimization_level === 'number' && graph_optimization_level in OPTIMIZATION_LEVELS)
    options.graphOptimizationLevel = OPTIMIZATION_LEVELS[graph_optimization_level];
  return options;
}

function badRequest(message: string): MlflowError {
  return new MlflowError('BAD_REQUEST', message);
}

class OnnxModel implements LoadedModel {
  readonly flavor = 'onnx';
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];

  constructor(
    readonly modelDir: string,
    readonly mlmodel: MlModel,
    private readonly session: OnnxruntimeSession,
  ) {
    this.inputs = session.inputs;
    this.outputs = session.outputs;
  }

  toFeeds(input: ModelInput): Record<string, NdArray> {
    if (input.kind === 'frame') {
      if (this.inputs.length === 1)
        return { [this.inputs[0]!.name]: this.fit(this.inputs[0]!, matrix(input.frame)) };
      return Object.fromEntries(
        this.inputs.map((info) => {
          const column = input.frame.data[info.name];
          if (column === undefined)
            throw new Error(`The model's input '${info.name}' is missing from the input data.`);
          return [info.name, this.fit(info, column)];
        }),
      );
    }
    if (input.kind === 'tensor') {
      if (this.inputs.length !== 1)
        throw badRequest(
          'Unable to map numpy array input to the expected model input. Numpy arrays can only be used as input for ' +
            `MLflow ONNX models that have a single input. This model requires ${this.inputs.length} inputs. Please ` +
            'pass in data as either a dictionary or a DataFrame with the following tensors: ' +
            `[${this.inputs.map((info) => `'${info.name}'`).join(', ')}].`,
        );
      return { [this.inputs[0]!.name]: this.fit(this.inputs[0]!, input.tensor) };
    }
    const feeds: Record<string, NdArray> = {};
    for (const info of this.inputs) {
      const tensor = input.tensors[info.name];
      if (tensor === undefined)
        throw new Error(`The model's input '${info.name}' is missing from the input data.`);
      feeds[info.name] = this.fit(info, tensor);
    }
    return feeds;
  }

  /** The array in the input's dtype, a 1-d column reshaped to `[n, 1]` where the input wants that. */
  private fit(info: TensorInfo, array: NdArray): NdArray {
    let fitted = array;
    if (fitted.dtype !== info.dtype) {
      try {
        fitted = castArray(fitted, info.dtype);
      } catch (error) {
        if (!(error instanceof ConversionError)) throw error;
        throw new Error(
          `The model's input '${info.name}' is of type ${info.dtype}; got ${array.dtype} values.`,
        );
      }
    }
    // A string column may hold missing values (MLflow keeps None); an ONNX string tensor cannot.
    if (fitted.dtype === 'string' && (fitted.data as Array<string | null>).includes(null))
      throw badRequest(
        `The model's input '${info.name}' has missing values, which an ONNX string tensor cannot hold.`,
      );
    if (info.shape.length === 2 && info.shape[1] === 1 && fitted.shape.length === 1)
      fitted = { ...fitted, shape: [fitted.shape[0]!, 1] };
    if (info.shape.length > 0 && fitted.shape.length !== info.shape.length)
      throw new Error(
        `The model's input '${info.name}' has shape [${info.shape.join(', ')}]; got [${fitted.shape.join(', ')}].`,
      );
    for (const [index, dimension] of info.shape.entries())
      if (dimension !== -1 && fitted.shape[index] !== dimension)
        throw new Error(
          `The model's input '${info.name}' has shape [${info.shape.join(', ')}]; got [${fitted.shape.join(', ')}].`,
        );
    return fitted;
  }

  run(feeds: Record<string, NdArray>): Record<string, NdArray> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, array] of Object.entries(feeds))
      tensors[name] = new ort.Tensor(array.dtype, array.data as ort.Tensor.DataType, array.shape);
    const results = this.session.run(tensors);
    const outputs: Record<string, NdArray> = {};
    for (const info of this.outputs) {
      const value = results[info.name]!;
      outputs[info.name] = { dtype: info.dtype, shape: [...value.dims], data: value.data as TensorData };
    }
    return outputs;
  }

  async close(): Promise<void> {
    this.session.release();
  }
}

/**
 * A DataFrame as one rows x columns matrix (pandas' `DataFrame.values`): the common dtype of its
 * columns (float64 when numeric dtypes mix; strings only with strings).
 */
function matrix(frame: Frame): NdArray {
  const columns = frame.columns.map((name) => frame.data[name]!);
  const dtypes = new Set(columns.map((column) => column.dtype));
  if (dtypes.size > 1 && (dtypes.has('string') || dtypes.has('bool')))
    throw new Error(`The input's columns (${[...dtypes].join(', ')}) do not form one matrix for the model.`);
  const dtype: DType = dtypes.size === 1 ? columns[0]!.dtype : 'float64';
  const typed = columns.map((column) => castArray(column, dtype));
  const width = typed.length;
  const data = allocate(dtype, frame.rows * width) as unknown as unknown[];
  for (let column = 0; column < width; column++) {
    const values = typed[column]!.data;
    for (let row = 0; row < frame.rows; row++) data[row * width + column] = values[row];
  }
  return { dtype, shape: [frame.rows, width], data: data as unknown as TensorData };
}
