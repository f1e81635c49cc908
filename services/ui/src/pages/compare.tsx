import { useEffect, useRef } from 'react';
import { Link } from 'react-router-dom';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatValue } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

interface ComparedRun {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  latestMetrics: Array<{ key: string; value: number | string }>;
  params: Array<{ key: string; value: string }>;
}

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
  if (runIds.length === 0) return <p>Choose runs to compare in an experiment's runs table.</p>;
  if (error) return <ErrorMessage error={error} />;
  if (loading || !data) return <Loading what="runs" />;
  const runs = runIds.flatMap((_, i) => data[`r${i}`] ?? []);
  const rowsOf = (pick: (run: ComparedRun) => Array<{ key: string; value: number | string }>) => {
    const keys = [...new Set(runs.flatMap((run) => pick(run).map((item) => item.key)))].sort();
    return keys
      .map((key) => {
        const values = runs.map((run) => formatValue(pick(run).find((item) => item.key === key)?.value));
        return { key, values, differs: new Set(values).size > 1 };
      })
      .filter((row) => !diffOnly || row.differs);
  };
  const charted = url.list('metrics');
  const metricKeys = [...new Set(runs.flatMap((run) => run.latestMetrics.map((m) => m.key)))].sort();
  const table = (caption: string, rows: ReturnType<typeof rowsOf>) => (
    <table className="table compare">
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
        {rows.map((row) => (
          <tr key={row.key} className={row.differs ? 'differs' : undefined} data-differs={row.differs}>
            <th scope="row">{row.key}</th>
            {row.values.map((value, i) => (
              <td key={runs[i]!.id}>{value}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <>
      <PageHeader title={`Compare ${runs.length} runs`} />
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
      {table(
        'Parameters',
        rowsOf((run) => run.params),
      )}
      {table(
        'Latest metrics',
        rowsOf((run) => run.latestMetrics),
      )}
    </>
  );
}
