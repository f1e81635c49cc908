import type { Int64 } from '@mast/common';

/** One logged metric point as tracking stores it. */
export interface MetricPoint {
  key: string;
  value: number;
  /** Milliseconds since the epoch; int64 (a bigint only beyond 2^53). */
  timestamp: Int64;
  /** int64 (a bigint only beyond 2^53; one value always has one representation, so `!==` compares). */
  step: Int64;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}
