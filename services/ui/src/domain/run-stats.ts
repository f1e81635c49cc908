/**
 * Statistics over runs for the chart view's and compare page's cards: box plots (a value grouped by a
 * param) and parameter importance (each numeric param's correlation with a metric). Pure: runs are
 * their values by key (`p:lr`, `m:loss`), as `run-axes.ts` keys them.
 */

/** A run's values by key (`p:<param>`, `m:<metric>`); a run without the key has no entry. */
export interface KeyedRun {
  values: ReadonlyMap<string, number | string>;
}

/** A box plot's numbers for one group of values. */
export interface BoxStats {
  count: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  /** The whiskers' ends: the furthest values within 1.5 × IQR of the box (Tukey's rule, Plotly's default). */
  lowWhisker: number;
  highWhisker: number;
  /** The values beyond the whiskers, ascending. */
  outliers: number[];
}

/** A finite number from a param or metric value (params are strings), or undefined. */
export function finite(value: number | string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * The `p`-quantile (0..1) of ascending `sorted` by linear interpolation between order statistics
 * (numpy.percentile's default, R's type 7); NaN for no values.
 */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * p;
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (position - low) * (sorted[high]! - sorted[low]!);
}

/** The box plot numbers of `values` (at least one), quartiles as `quantile` computes them. */
export function boxStats(values: readonly number[]): BoxStats {
  if (values.length === 0) throw new RangeError('boxStats needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const reach = 1.5 * (q3 - q1);
  const inside = sorted.filter((value) => value >= q1 - reach && value <= q3 + reach);
  return {
    count: sorted.length,
    min: sorted[0]!,
    q1,
    median: quantile(sorted, 0.5),
    q3,
    max: sorted.at(-1)!,
    lowWhisker: inside[0]!,
    highWhisker: inside.at(-1)!,
    outliers: sorted.filter((value) => value < q1 - reach || value > q3 + reach),
  };
}

/** The label of the group of runs without the grouping key. */
export const NO_GROUP = '(none)';

/**
 * One box per value of `groupKey` (all runs in one box, labelled '', without a group key) of the
 * numeric values of `valueKey`; runs without a number for `valueKey` are left out, runs without
 * `groupKey` form the group `NO_GROUP`. Groups are ordered numerically when every label is a number,
 * else alphabetically, `NO_GROUP` last.
 */
export function boxGroups(
  runs: readonly KeyedRun[],
  valueKey: string,
  groupKey?: string,
): Array<{ group: string; stats: BoxStats }> {
  const groups = new Map<string, number[]>();
  for (const run of runs) {
    const value = finite(run.values.get(valueKey));
    if (value === undefined) continue;
    const raw = groupKey === undefined ? '' : run.values.get(groupKey);
    const group = raw === undefined ? NO_GROUP : String(raw);
    groups.set(group, [...(groups.get(group) ?? []), value]);
  }
  const labels = [...groups.keys()].filter((group) => group !== NO_GROUP);
  const numeric = labels.every((label) => finite(label) !== undefined);
  labels.sort((a, b) => (numeric ? Number(a) - Number(b) : a.localeCompare(b)));
  if (groups.has(NO_GROUP)) labels.push(NO_GROUP);
  return labels.map((group) => ({ group, stats: boxStats(groups.get(group)!) }));
}

/**
 * Pearson's correlation coefficient of paired samples (−1..1); undefined with fewer than two pairs or
 * when either side has no variance.
 */
export function pearson(xs: readonly number[], ys: readonly number[]): number | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += xs[i]!;
    meanY += ys[i]!;
  }
  meanX /= n;
  meanY /= n;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - meanX;
    const dy = ys[i]! - meanY;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  if (varianceX === 0 || varianceY === 0) return undefined;
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, covariance / Math.sqrt(varianceX * varianceY)));
}

/** Runs a param needs, with both it and the metric, for its correlation to mean anything (two always give ±1). */
export const MIN_IMPORTANCE_RUNS = 3;

/** A param's importance for a metric: their correlation over `runs` runs. */
export interface ParamImportance {
  key: string;
  correlation: number;
  runs: number;
}

/**
 * Each numeric param's (`p:` key whose every logged value is a number) Pearson correlation with the
 * metric `metricKey` (`m:` key) over the runs having both, strongest first (by |r|, then key). Params
 * with fewer than `MIN_IMPORTANCE_RUNS` such runs, or constant over them, are left out.
 */
export function paramImportance(runs: readonly KeyedRun[], metricKey: string): ParamImportance[] {
  const keys = new Set(runs.flatMap((run) => [...run.values.keys()].filter((key) => key.startsWith('p:'))));
  const result: ParamImportance[] = [];
  for (const key of keys) {
    const xs: number[] = [];
    const ys: number[] = [];
    let numeric = true;
    for (const run of runs) {
      const raw = run.values.get(key);
      if (raw === undefined) continue;
      const x = finite(raw);
      if (x === undefined) {
        numeric = false;
        break;
      }
      const y = finite(run.values.get(metricKey));
      if (y === undefined) continue;
      xs.push(x);
      ys.push(y);
    }
    if (!numeric || xs.length < MIN_IMPORTANCE_RUNS) continue;
    const correlation = pearson(xs, ys);
    if (correlation !== undefined) result.push({ key, correlation, runs: xs.length });
  }
  return result.sort(
    (a, b) => Math.abs(b.correlation) - Math.abs(a.correlation) || a.key.localeCompare(b.key),
  );
}
