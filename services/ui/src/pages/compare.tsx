import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useMemo, useRef } from 'react';
import { Link } from 'react-router-dom';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatValue } from '../format';
import { routes } from '../routes';
import { ViewsMenu } from '../saved-views';
import { useUrlState } from '../url-state';

interface ComparedRun {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  latestMetrics: Array<{ key: string; value: number | string }>;
  params: Array<{ key: string; value: string }>;
}

/** A row of a comparison table: one key's value in each run, and whether they differ. */
interface ComparisonRow {
  key: string;
  values: string[];
  differs: boolean;
}

/** The rows of `pick`'s keys over `runs`, in key order (one lookup table per run: 100 runs × 500 keys stay cheap). */
function comparisonRows(
  runs: readonly ComparedRun[],
  pick: (run: ComparedRun) => Array<{ key: string; value: number | string }>,
): ComparisonRow[] {
  const byRun = runs.map((run) => new Map(pick(run).map((item) => [item.key, item.value])));
  const keys = [...new Set(byRun.flatMap((values) => [...values.keys()]))].sort();
  return keys.map((key) => {
    const values = byRun.map((run) => formatValue(run.get(key)));
    return { key, values, differs: new Set(values).size > 1 };
  });
}

/** A comparison row's height in pixels (one line of text; the virtualiser's estimate). */
const ROW_HEIGHT = 29;

/**
 * A comparison table, virtualised in rows against the page's scroll (ui.md principle 3): 500 keys × 100
 * runs keep only the rows on screen in the DOM, so "only rows that differ" (goal G13) redraws a screenful.
 * `data-rows` is the number of rows the table holds (shown or scrolled off).
 */
const ComparisonTable = memo(function ComparisonTable({
  caption,
  runs,
  rows,
  diffOnly,
}: {
  caption: string;
  runs: readonly ComparedRun[];
  rows: readonly ComparisonRow[];
  diffOnly: boolean;
}) {
  const shown = useMemo(() => (diffOnly ? rows.filter((row) => row.differs) : rows), [rows, diffOnly]);
  const tableRef = useRef<HTMLTableElement>(null);
  const virtualizer = useWindowVirtualizer({
    count: shown.length,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    scrollMargin: tableRef.current?.offsetTop ?? 0,
  });
  const items = virtualizer.getVirtualItems();
  const margin = virtualizer.options.scrollMargin;
  const before = items.length > 0 ? items[0]!.start - margin : 0;
  const after = items.length > 0 ? virtualizer.getTotalSize() - (items.at(-1)!.end - margin) : 0;
  return (
    <table ref={tableRef} className="table compare" data-rows={shown.length}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          {runs.map((run) => (
            <th key={run.id} scope="col">
              <Link to={routes.run(run.experimentId, run.id)}>{run.name}</Link>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {before > 0 ? <tr className="spacer" style={{ height: before }} /> : null}
        {items.map((item) => {
          const row = shown[item.index]!;
          return (
            <tr
              key={row.key}
              className={row.differs ? 'differs' : undefined}
              data-differs={row.differs}
              style={{ height: ROW_HEIGHT }}
            >
              <th scope="row">{row.key}</th>
              {row.values.map((value, i) => (
                <td key={runs[i]!.id}>{value}</td>
              ))}
            </tr>
          );
        })}
        {after > 0 ? <tr className="spacer" style={{ height: after }} /> : null}
      </tbody>
    </table>
  );
});

/** One aliased `run(id:)` per run, so runs of different experiments compare in one request. */
function runsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$r${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `r${i}: run(id: $r${i}) { id name experimentId status latestMetrics { key value } params { key value } }`,
  ).join('\n');
  return `query CompareRuns(${variables}) {\n${fields}\n}`;
}

const SERIES_QUERY = `
  query CompareSeries($runIds: [ID!]!, $metricKeys: [String!]!) {
    compareRuns(runIds: $runIds, metricKeys: $metricKeys, maxPoints: 500) {
      buckets { startStep endStep }
      series { runId key last }
    }
  }`;

interface SeriesData {
  compareRuns: {
    buckets: Array<{ startStep: number; endStep: number }>;
    series: Array<{ runId: string; key: string; last: Array<number | string | null> }>;
  };
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

function OverlayChart({ runs, metricKey }: { runs: ComparedRun[]; metricKey: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { data, error } = useQuery<SeriesData>(SERIES_QUERY, {
    runIds: runs.map((r) => r.id),
    metricKeys: [metricKey],
  });
  useEffect(() => {
    const element = box.current;
    if (!element || !data) return;
    const { buckets, series } = data.compareRuns;
    const names = new Map(runs.map((r) => [r.id, r.name]));
    const text = getComputedStyle(document.documentElement).getPropertyValue('--text').trim() || '#111';
    const plot = new uPlot(
      {
        width: element.clientWidth || 800,
        height: 260,
        scales: { x: { time: false } },
        axes: [{ stroke: text, label: 'step' }, { stroke: text }],
        series: [
          { label: 'step' },
          ...series.map((s, i) => ({
            label: names.get(s.runId) ?? s.runId,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
          })),
        ],
      },
      [
        buckets.map((b) => b.endStep),
        ...series.map((s) => s.last.map((v) => (v === null || typeof v === 'string' ? null : v))),
      ],
      element,
    );
    return () => plot.destroy();
  }, [data, runs]);
  return (
    <figure className="chart">
      <figcaption>
        <strong>{metricKey}</strong>
      </figcaption>
      <ErrorMessage error={error} />
      <div
        ref={box}
        className="chart-canvas"
        role="img"
        aria-label={`${metricKey} of the compared runs by step`}
        data-state={data ? 'ready' : 'loading'}
        data-series-count={data?.compareRuns.series.length}
      />
    </figure>
  );
}

/**
 * P7: runs side by side (`?runs=<ids>`): parameters and latest metrics with the rows that differ
 * marked (`?diff=1` shows only those), and one overlay chart per metric in `?metrics=`.
 */
export default function ComparePage() {
  const url = useUrlState();
  const runIds = url.list('runs').slice(0, 100);
  const diffOnly = url.get('diff') === '1';
  const variables = Object.fromEntries(runIds.map((id, i) => [`r${i}`, id]));
  const { data, error, loading } = useQuery<Record<string, ComparedRun | null>>(
    runsQuery(runIds.length),
    variables,
    runIds.length === 0,
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: the runs change only with the answer
  const runs = useMemo(() => (data ? runIds.flatMap((_, i) => data[`r${i}`] ?? []) : []), [data]);
  const paramRows = useMemo(() => comparisonRows(runs, (run) => run.params), [runs]);
  const metricRows = useMemo(() => comparisonRows(runs, (run) => run.latestMetrics), [runs]);
  if (runIds.length === 0) return <p>Choose runs to compare in an experiment's runs table.</p>;
  if (error) return <ErrorMessage error={error} />;
  if (loading || !data) return <Loading what="runs" />;
  const charted = url.list('metrics');
  const metricKeys = [...new Set(runs.flatMap((run) => run.latestMetrics.map((m) => m.key)))].sort();
  return (
    <>
      <PageHeader title={`Compare ${runs.length} runs`}>
        <ViewsMenu />
      </PageHeader>
      <div className="toolbar">
        <label>
          <input
            type="checkbox"
            checked={diffOnly}
            onChange={(event) => url.set({ diff: event.target.checked ? '1' : undefined })}
          />{' '}
          Only rows that differ
        </label>
        <label>
          Chart metric{' '}
          <select
            value=""
            onChange={(event) => event.target.value && url.set({ metrics: [...charted, event.target.value] })}
          >
            <option value="">Add a chart…</option>
            {metricKeys
              .filter((key) => !charted.includes(key))
              .map((key) => (
                <option key={key} value={key}>
                  {key}
                </option>
              ))}
          </select>
        </label>
      </div>
      {charted.map((key) => (
        <OverlayChart key={key} runs={runs} metricKey={key} />
      ))}
      <ComparisonTable caption="Parameters" runs={runs} rows={paramRows} diffOnly={diffOnly} />
      <ComparisonTable caption="Latest metrics" runs={runs} rows={metricRows} diffOnly={diffOnly} />
    </>
  );
}
