import type { NdArray } from './tensor.js';

/**
 * What a scoring request carries after parsing, before a flavor sees it: MLflow's pyfunc input kinds.
 * A `frame` is a pandas DataFrame (dataframe_split, dataframe_records, CSV, column-based signatures);
 * `tensors` a dict of named arrays (`inputs`/`instances` as a dict, Open Inference Protocol);
 * `tensor` one unnamed array (`inputs`/`instances` as a list).
 */
export type ModelInput =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'tensors'; tensors: Record<string, NdArray> }
  | { kind: 'tensor'; tensor: NdArray };

/** A DataFrame: named 1-d columns of one length, in order. */
export interface Frame {
  columns: string[];
  data: Record<string, NdArray>;
  rows: number;
}
