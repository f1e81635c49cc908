/** A timestamp (milliseconds since the epoch) as local date and time; empty when absent. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A duration between two timestamps in the largest sensible unit (`1.5 s`, `3.2 min`, `2.0 h`). */
export function formatDuration(start: number, end: number | null | undefined): string {
  if (end === null || end === undefined) return '';
  const seconds = (end - start) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A metric value: at most 6 significant digits; NaN and the infinities as GraphQL writes them. */
export function formatValue(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}
