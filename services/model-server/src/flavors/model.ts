import type { MlModel } from '@mast/common';
import type { ModelInput } from '../domain/model-input.js';
import type { NdArray, TensorInfo } from '../domain/tensor.js';

/**
 * A model loaded by one flavor, ready to score. The server turns every request format into a
 * `ModelInput`, the flavor maps it to its feeds (`toFeeds`, by the rules of its MLflow pyfunc
 * wrapper), and `run` executes a batch of feeds; the adaptive batcher stacks several requests'
 * feeds along the first dimension between the two.
 */
export interface LoadedModel {
  /** The flavor that runs the model (`onnx`). */
  readonly flavor: string;
  /** The model directory it was loaded from. */
  readonly modelDir: string;
  readonly mlmodel: MlModel;
  /** The inputs and outputs the model itself declares (the ONNX graph's), in order. */
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /**
   * The model's feeds for an input, one array per model input. Throws MlflowError BAD_REQUEST where
   * the flavor's MLflow wrapper raises an MlflowException (several inputs for one unnamed array), and
   * a plain Error where the runtime would fail (a missing input, an unconvertible dtype, a wrong
   * shape): the server answers MLflow's "unexpected error" for those.
   */
  toFeeds(input: ModelInput): Record<string, NdArray>;
  /**
   * Runs the model on feeds (one request's or one batch's rows); every output by name. A runtime on
   * this thread (onnx) answers synchronously, sparing each request a promise hop; the server awaits a
   * promise within its time limit. Throws (or rejects with) the runtime's error when the model fails.
   */
  run(feeds: Record<string, NdArray>): Record<string, NdArray> | Promise<Record<string, NdArray>>;
  close(): Promise<void>;
}

/** A flavor: the name in `MLmodel`'s `flavors` it runs and how it loads a model directory. */
export interface Flavor {
  readonly name: string;
  load(modelDir: string, mlmodel: MlModel): Promise<LoadedModel>;
}
