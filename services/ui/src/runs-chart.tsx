import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useQuery } from './api';
import { ErrorMessage } from './components';
import { cssVariable, plottable } from './metric-chart';

/** Line colours of the runs, in order (distinct in both themes). */
export const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#be185d',
  '#4d7c0f',
];

/** A run drawn on a chart: its line colour and its start (the origin of relative time). */
export interface ChartRun {
  id: string;
  name: string;
  startTime: number;
  color: string;
}

/** What a chart's x-axis shows (MLflow's `step`, `time`, `time-relative`). */
export type XAxis = 'step' | 'wall' | 'relative';

const X_LABELS: Record<XAxis, string> = {
  step: 'step',
  wall: 'time',
  relative: 'seconds since the run started',
};

type Double = number | string;

interface SeriesData {
  id: string;
  metricHistory: {
    totalPoints: number;
    buckets: Array<{
      last: { step: number; timestamp: number; value: Double };
      max: { value: Double } | null;
    }>;
  };
}

/** One aliased `run { metricHistory }` per run: the run page's bucketed series, for several runs at once. */
function seriesQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$r${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `r${i}: run(id: $r${i}) { id metricHistory(key: $key, maxPoints: $maxPoints) { totalPoints buckets { last { step timestamp value } max { value } } } }`,
  ).join('\n');
  return `query CardSeries($key: String!, $maxPoints: Int!, ${variables}) {\n${fields}\n}`;
}

/**
 * Exponential moving average with TensorBoard's debiasing (the first points are not pulled towards 0);
 * gaps stay gaps. `weight` 0 leaves the values as they are.
 */
export function smooth(
  values: ReadonlyArray<number | null | undefined>,
  weight: number,
): Array<number | null> {
  let average = 0;
  let seen = 0;
  return values.map((value) => {
    if (value === null || value === undefined) return null;
    seen += 1;
    average = average * weight + (1 - weight) * value;
    return average / (1 - weight ** seen);
  });
}

/** True once the component has stayed mounted for `ms`: cards scrolled past quickly never fetch. */
function useSettled(ms: number): boolean {
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(true), ms);
    return () => clearTimeout(timer);
  }, [ms]);
  return settled;
}

/**
 * One metric of several runs on one uPlot canvas, from the server's buckets (`Run.metricHistory`, one
 * bucket per pixel): each run's last value per bucket, against step, wall time or time since the run
 * started, optionally smoothed (the raw line then stays, faint). The container exposes what was drawn
 * (`data-state`, `data-series-count`, `data-max`: the largest bucket max) for tests (ui.md goal G16).
 */
export function RunsMetricChart({
  metricKey,
  runs,
  xAxis,
  smoothing,
  width,
  height,
}: {
  metricKey: string;
  runs: readonly ChartRun[];
  xAxis: XAxis;
  smoothing: number;
  width: number;
  height: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const settled = useSettled(150);
  const query = useMemo(() => seriesQuery(runs.length), [runs.length]);
  const variables = {
    key: metricKey,
    maxPoints: Math.max(50, Math.round(width)),
    ...Object.fromEntries(runs.map((run, i) => [`r${i}`, run.id])),
  };
  const { data, error, loading } = useQuery<Record<string, SeriesData | null>>(
    query,
    variables,
    !settled || runs.length === 0,
  );

  // Per run: x and last value per bucket, sorted by x (wall times of bucket ends may tie or cross).
  const tables = useMemo(() => {
    if (!data) return undefined;
    return runs.map((run, i) => {
      const buckets = data[`r${i}`]?.metricHistory.buckets ?? [];
      const xOf = (point: { step: number; timestamp: number }) =>
        xAxis === 'step'
          ? point.step
          : xAxis === 'wall'
            ? point.timestamp / 1000
            : (point.timestamp - run.startTime) / 1000;
      const points = new Map<number, number | null>();
      for (const bucket of buckets) points.set(xOf(bucket.last), plottable(bucket.last.value));
      const xs = [...points.keys()].sort((a, b) => a - b);
      return { xs, ys: xs.map((x) => points.get(x) ?? null) };
    });
  }, [data, runs, xAxis]);
  const drawn = tables?.filter((table) => table.xs.length > 0).length ?? 0;
  const maxValue = data
    ? Math.max(
        ...runs.flatMap((_, i) =>
          (data[`r${i}`]?.metricHistory.buckets ?? []).map(
            (b) => plottable(b.max?.value) ?? Number.NEGATIVE_INFINITY,
          ),
        ),
      )
    : undefined;

  useEffect(() => {
    const element = box.current;
    if (!element || !tables || drawn === 0) return;
    const withPoints = runs.flatMap((run, i) =>
      tables[i]!.xs.length > 0 ? [{ run, table: tables[i]! }] : [],
    );
    const joined = uPlot.join(withPoints.map(({ table }) => [table.xs, table.ys] as uPlot.AlignedData));
    const text = cssVariable('--text') || '#111';
    const grid = cssVariable('--border') || '#ddd';
    const axis = { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid } };
    const series: uPlot.Series[] = [{ label: X_LABELS[xAxis] }];
    const columns: Array<ArrayLike<number | null | undefined>> = [joined[0]];
    withPoints.forEach(({ run }, i) => {
      const values = joined[i + 1]!;
      if (smoothing > 0) {
        series.push({ label: `${run.name} (raw)`, stroke: `${run.color}40`, width: 1, spanGaps: true });
        columns.push(values);
        series.push({ label: run.name, stroke: run.color, width: 2, spanGaps: true });
        columns.push(smooth(Array.from(values), smoothing));
      } else {
        series.push({ label: run.name, stroke: run.color, width: 2, spanGaps: true });
        columns.push(values);
      }
    });
    const plot = new uPlot(
      {
        width,
        height,
        legend: { show: false },
        scales: { x: { time: xAxis === 'wall' } },
        axes: [{ ...axis, label: X_LABELS[xAxis] }, axis],
        series,
      },
      columns as uPlot.AlignedData,
      element,
    );
    return () => plot.destroy();
  }, [tables, drawn, runs, xAxis, smoothing, width, height]);

  const state = !settled || loading ? 'loading' : drawn > 0 ? 'ready' : 'empty';
  return (
    <>
      <ErrorMessage error={error} />
      <div
        ref={box}
        className="chart-canvas"
        style={{ minHeight: height }}
        role="img"
        aria-label={`${metricKey} of ${runs.length} runs by ${X_LABELS[xAxis]}`}
        data-state={state}
        data-series-count={data ? drawn : undefined}
        data-max={drawn > 0 ? maxValue : undefined}
      >
        {state === 'empty' ? <p className="muted">No values for these runs.</p> : null}
      </div>
    </>
  );
}
