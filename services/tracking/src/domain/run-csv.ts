import type { RunRecord } from './records.js';

/**
 * Runs as CSV (the UI's "export all runs", ui.md §5.3 and goal G12): one row per run, columns named as
 * `mlflow.search_runs()` names its DataFrame's (`run_id`, …, `metrics.<key>`, `params.<key>`,
 * `tags.<key>`), RFC 4180 quoting. No I/O.
 */

/** The keys whose values become columns, each list in column order. */
export interface RunCsvColumns {
  metrics: readonly string[];
  params: readonly string[];
  tags: readonly string[];
}

const ATTRIBUTES = [
  'run_id',
  'run_name',
  'experiment_id',
  'status',
  'user_id',
  'start_time',
  'end_time',
  'artifact_uri',
] as const;

/** A field as RFC 4180 writes it: quoted when it holds a comma, a quote, CR or LF (quotes doubled). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** The header line (CRLF-terminated, as RFC 4180). */
export function runCsvHeader(columns: RunCsvColumns): string {
  return csvLine([
    ...ATTRIBUTES,
    ...columns.metrics.map((key) => `metrics.${key}`),
    ...columns.params.map((key) => `params.${key}`),
    ...columns.tags.map((key) => `tags.${key}`),
  ]);
}

/** Milliseconds since the epoch as ISO 8601 UTC; '' when unset. */
function isoTime(ms: number | null): string {
  return ms === null || ms === 0 ? '' : new Date(ms).toISOString();
}

/**
 * One run's line: its attributes, then its latest value of each metric (NaN and infinities as MLflow's
 * JSON writes them: `NaN`, `Infinity`, `-Infinity`), param and tag of `columns`; '' where it has none.
 */
export function runCsvLine(run: RunRecord, columns: RunCsvColumns): string {
  const metrics = new Map(run.latestMetrics.map((metric) => [metric.key, String(metric.value)]));
  const params = new Map(run.params.map((param) => [param.key, param.value]));
  const tags = new Map(run.tags.map((tag) => [tag.key, tag.value]));
  const { info } = run;
  return csvLine([
    info.runId,
    info.name,
    String(info.experimentId),
    info.status,
    info.userId,
    isoTime(info.startTime),
    isoTime(info.endTime),
    info.artifactUri,
    ...columns.metrics.map((key) => metrics.get(key) ?? ''),
    ...columns.params.map((key) => params.get(key) ?? ''),
    ...columns.tags.map((key) => tags.get(key) ?? ''),
  ]);
}
