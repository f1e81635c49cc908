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

/**
 * Whether point `a` supersedes `b` as a run's latest value of a metric: the larger by (step, timestamp,
 * value), NaN above any number (PostgreSQL's float ordering, which the `latest_metrics` upsert applies
 * to points already stored). MLflow's SQL store keeps the same maximum.
 */
export function supersedes(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value || (Number.isNaN(a.value) && !Number.isNaN(b.value));
}

/** The point per key that a batch would make the latest value (each key once, in first-seen order). */
export function latestPerKey(points: readonly MetricPoint[]): MetricPoint[] {
  const latest = new Map<string, MetricPoint>();
  for (const point of points) {
    const current = latest.get(point.key);
    if (!current || supersedes(point, current)) latest.set(point.key, point);
  }
  return [...latest.values()];
}
