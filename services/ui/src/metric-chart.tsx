import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useQuery } from './api';
import { ErrorMessage } from './components';

const HISTORY_QUERY = `
  query MetricHistory($runId: ID!, $key: String!, $maxPoints: Int!, $startStep: Long, $endStep: Long) {
    run(id: $runId) {
      id
      metricHistory(key: $key, maxPoints: $maxPoints, startStep: $startStep, endStep: $endStep) {
        totalPoints downsampled
        buckets { startStep endStep count min { step value } max { step value } last { step value } }
      }
    }
  }`;

type Double = number | string;

interface HistoryData {
  run: {
    metricHistory: {
      totalPoints: number;
      downsampled: boolean;
      buckets: Array<{
        startStep: number;
        endStep: number;
        count: number;
        min: { step: number; value: Double } | null;
        max: { step: number; value: Double } | null;
        last: { step: number; value: Double };
      }>;
    };
  } | null;
}

/** A Double as GraphQL writes it ("NaN", "Infinity" as strings) to a plottable number or a gap. */
export function plottable(value: Double | undefined): number | null {
  if (value === undefined) return null;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : null;
}

/** What a chart drew, per series: its buckets' step ranges and values (ui.md goal G16). */
export interface DrawnChart {
  /** How many times the chart was drawn with new data (a zoom that re-buckets adds one). */
  draws: number;
  /** From its data's arrival to the end of the drawing, in ms (goal G4). */
  renderMs: number;
  /** The step range asked for (undefined: the whole series). */
  range: { from: number; to: number } | undefined;
  series: Array<{
    runId: string;
    startStep: number[];
    endStep: number[];
    min: Array<number | null>;
    max: Array<number | null>;
    last: Array<number | null>;
  }>;
}

declare global {
  interface Window {
    /** Filled only when a test created it (`page.addInitScript`): charts by id (G16's hook). */
    __mastCharts?: Record<string, DrawnChart>;
  }
}

/**
 * Records that chart `id` drew data that arrived at `arrived` (`performance.now()`; call it from uPlot's
 * `ready` hook, which follows the first drawing): a `mast-chart-render` performance measure, and the
 * test hook's entry when a test asked for it.
 */
export function chartDrawn(id: string, arrived: number, drawn: Omit<DrawnChart, 'draws' | 'renderMs'>): void {
  const end = performance.now();
  performance.measure('mast-chart-render', { start: arrived, end, detail: id });
  const charts = window.__mastCharts;
  if (charts) charts[id] = { ...drawn, draws: (charts[id]?.draws ?? 0) + 1, renderMs: end - arrived };
}

export function cssVariable(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * One metric of one run drawn with uPlot (Canvas 2D) from the server's buckets (`Run.metricHistory`):
 * the last value per bucket as the line and the bucket's min-max as a shaded band, so a one-step spike
 * stays visible at any zoom. Selecting a step range re-buckets it on the server (`range` is the
 * caller's, kept in the URL). The container exposes what was drawn (`data-state`, `data-bucket-count`,
 * `data-total-points`, `data-max`) so tests assert data rather than pixels (ui.md goal G16).
 */
export function MetricChart({
  runId,
  metricKey,
  range,
  onZoom,
}: {
  runId: string;
  metricKey: string;
  range: { from: number; to: number } | undefined;
  onZoom(range: { from: number; to: number } | undefined): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  // One bucket per horizontal pixel (ui.md §5.1): measured before the first request.
  const [width, setWidth] = useState<number>();
  useLayoutEffect(() => setWidth(Math.max(300, Math.min(1200, box.current?.clientWidth ?? 800))), []);
  const history = useQuery<HistoryData>(
    HISTORY_QUERY,
    { runId, key: metricKey, maxPoints: width, startStep: range?.from ?? null, endStep: range?.to ?? null },
    width === undefined,
  );
  const series = history.data?.run?.metricHistory;
  // When the buckets arrived (this render follows their arrival): the start of the render time.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new answer is a new arrival
  const arrived = useMemo(() => performance.now(), [series]);
  // The range the current buckets answer (the effect below runs when they arrive, not when it changes).
  const rangeRef = useRef(range);
  rangeRef.current = range;
  const onZoomRef = useRef(onZoom);
  onZoomRef.current = onZoom;

  useEffect(() => {
    const element = box.current;
    if (!element || !series || width === undefined) return;
    const steps = series.buckets.map((b) => b.last.step);
    const last = series.buckets.map((b) => plottable(b.last.value));
    const min = series.buckets.map((b) => plottable(b.min?.value));
    const max = series.buckets.map((b) => plottable(b.max?.value));
    const line = cssVariable('--accent') || '#2563eb';
    const band = cssVariable('--band') || 'rgba(37, 99, 235, 0.2)';
    const text = cssVariable('--text') || '#111';
    const grid = cssVariable('--border') || '#ddd';
    const axis = { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid } };
    const plot = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false } },
        axes: [{ ...axis, label: 'step' }, axis],
        series: [
          { label: 'step' },
          { label: `${metricKey} (last)`, stroke: line, width: 2 },
          { label: 'min', stroke: band, width: 1 },
          { label: 'max', stroke: band, width: 1 },
        ],
        bands: [{ series: [3, 2], fill: band }],
        cursor: { drag: { x: true, y: false } },
        hooks: {
          ready: [
            () =>
              chartDrawn(`metric:${runId}:${metricKey}`, arrived, {
                range: rangeRef.current,
                series: [
                  {
                    runId,
                    startStep: series.buckets.map((b) => b.startStep),
                    endStep: series.buckets.map((b) => b.endStep),
                    min,
                    max,
                    last,
                  },
                ],
              }),
          ],
          setSelect: [
            (u) => {
              if (u.select.width < 2) return;
              const from = Math.floor(u.posToVal(u.select.left, 'x'));
              const to = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
              onZoomRef.current({ from, to });
            },
          ],
        },
      },
      [steps, last, min, max],
      element,
    );
    return () => plot.destroy();
  }, [series, metricKey, width, runId, arrived]);

  const maxValue = series
    ? Math.max(...series.buckets.map((b) => plottable(b.max?.value) ?? Number.NEGATIVE_INFINITY))
    : undefined;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{metricKey}</strong>{' '}
        {series ? (
          <span className="muted">
            {series.totalPoints} points
            {series.downsampled ? `, ${series.buckets.length} buckets (min–max band)` : ''}
            {range ? ` · steps ${range.from}–${range.to}` : ''}
          </span>
        ) : null}{' '}
        {range ? (
          <button type="button" className="link" onClick={() => onZoom(undefined)}>
            Reset zoom
          </button>
        ) : null}
      </figcaption>
      <ErrorMessage error={history.error} />
      <div
        ref={box}
        className="chart-canvas"
        role="img"
        aria-label={`Chart of ${metricKey} by step`}
        data-testid={`chart-${metricKey}`}
        data-state={history.loading ? 'loading' : series ? 'ready' : 'empty'}
        data-bucket-count={series?.buckets.length}
        data-total-points={series?.totalPoints}
        data-max={maxValue}
      />
    </figure>
  );
}
