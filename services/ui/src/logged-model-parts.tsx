/** What the logged-model pages (P12) read of a model's metrics: each value with where it was measured. */
export interface LoggedModelMetric {
  key: string;
  value: number | string;
  step: number;
  timestamp: number;
  datasetName: string | null;
}

/** A logged model as the list shows it. */
export interface LoggedModelSummary {
  id: string;
  name: string;
  status: string;
  modelType: string | null;
  creationTime: number;
  sourceRun: { id: string; name: string; experimentId: string } | null;
  params: Array<{ key: string; value: string }>;
  tags: Array<{ key: string; value: string }>;
  metrics: LoggedModelMetric[];
}

/** The latest value of each metric key (by timestamp, then step), as MLflow's models table shows. */
export function latestMetrics(metrics: readonly LoggedModelMetric[]): Map<string, LoggedModelMetric> {
  const latest = new Map<string, LoggedModelMetric>();
  for (const metric of metrics) {
    const seen = latest.get(metric.key);
    if (
      !seen ||
      metric.timestamp > seen.timestamp ||
      (metric.timestamp === seen.timestamp && metric.step >= seen.step)
    )
      latest.set(metric.key, metric);
  }
  return latest;
}

/** READY, PENDING, UPLOAD_FAILED as a badge. */
export function LoggedModelStatusBadge({ status }: { status: string }) {
  const kind = status === 'READY' ? 'finished' : status === 'UPLOAD_FAILED' ? 'failed' : 'running';
  return <span className={`badge status-${kind}`}>{status}</span>;
}
