import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, type ReactNode, useEffect, useMemo, useRef } from 'react';
import { Link } from 'react-router-dom';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useQuery } from '../api';
import { BoxPlot } from '../box-plot';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { ContourPlot } from '../contour-plot';
import { formatValue } from '../format';
import { chartDrawn, plottable } from '../metric-chart';
import { ParallelCoordinates } from '../parallel-coordinates';
import { routes } from '../routes';
import {
  type Brushes,
  buildAxis,
  formatBrushes,
  type PlottedRun,
  parseBrushes,
  runsInside,
} from '../run-axes';
import { ViewsMenu } from '../saved-views';
import { ScatterPlot } from '../scatter-plot';
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

/** The fields of a compared run, as both ways of choosing runs ask for them. */
const RUN_FIELDS = 'id name experimentId status latestMetrics { key value } params { key value }';

/** One aliased `run(id:)` per run, so runs of different experiments compare in one request. */
function runsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$r${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `r${i}: run(id: $r${i}) { ${RUN_FIELDS} }`).join(
    '\n',
  );
  return `query CompareRuns(${variables}) {\n${fields}\n}`;
}

/** Runs chosen by experiment and MLflow filter: one page of the runs connection, newest first. */
const SEARCH_QUERY = `
  query CompareSearch($experimentIds: [ID!]!, $filter: String, $first: Int!) {
    runs(experimentIds: $experimentIds, filter: $filter, first: $first) {
      nodes { ${RUN_FIELDS} }
      pageInfo { hasNextPage }
    }
  }`;

/** Most runs the tables and overlay charts show (`compareRuns` takes 100). */
const MAX_LISTED_RUNS = 100;
/** Most runs the plots compare (the runs connection's largest page). */
const MAX_PLOTTED_RUNS = 1000;
/** Axes the parallel coordinates get when the URL chooses none: params that differ, then metrics. */
const DEFAULT_AXES = 12;

/** A compared run's params (`p:`) and latest metrics (`m:`) by axis key. */
function plottedRun(run: ComparedRun): PlottedRun {
  const values = new Map<string, number | string>();
  for (const param of run.params) values.set(`p:${param.key}`, param.value);
  for (const metric of run.latestMetrics) values.set(`m:${metric.key}`, metric.value);
  return { id: run.id, name: run.name, values };
}

/**
 * The compared runs' parallel coordinates (`?axes=p:lr,m:loss`, brushes in `?brush=`), scatter plot
 * (`?sx=`, `?sy=`), box plot (`?bv=`, `?bg=`) and contour plot (`?cx=`, `?cy=`, `?cz=`), with pickers
 * for their keys; the scatter plot highlights the brushed runs too.
 */
function RunPlots({
  runs,
  paramRows,
  metricRows,
}: {
  runs: readonly ComparedRun[];
  paramRows: readonly ComparisonRow[];
  metricRows: readonly ComparisonRow[];
}) {
  const url = useUrlState();
  const plotted = useMemo(() => runs.map(plottedRun), [runs]);
  const keys = useMemo(
    () => [...paramRows.map((row) => `p:${row.key}`), ...metricRows.map((row) => `m:${row.key}`)],
    [paramRows, metricRows],
  );
  const chosen = url.list('axes').filter((key) => keys.includes(key));
  const axisKeys =
    url.get('axes') !== ''
      ? chosen
      : [
          ...paramRows.filter((row) => row.differs).map((row) => `p:${row.key}`),
          ...metricRows.map((row) => `m:${row.key}`),
        ].slice(0, DEFAULT_AXES);
  const axesKey = axisKeys.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: axesKey stands for axisKeys
  const axes = useMemo(() => axisKeys.map((key) => buildAxis(key, plotted)), [axesKey, plotted]);
  const brushText = url.get('brush');
  const brushes = useMemo(() => parseBrushes(brushText), [brushText]);
  const highlighted = useMemo(() => runsInside(plotted, axes, brushes), [plotted, axes, brushes]);
  const scatterX = url.get('sx', axisKeys[0] ?? keys[0] ?? '');
  const scatterY = url.get('sy', axisKeys.at(-1) ?? keys.at(-1) ?? '');
  // No axes at all is written `axes=none`: an absent `axes` means the default ones.
  const setAxes = (next: string[]) =>
    url.set({
      axes: next.length > 0 ? next : ['none'],
      brush: formatBrushes(new Map([...brushes].filter(([key]) => next.includes(key)))),
    });
  const onBrushesChange = (next: Brushes) => url.set({ brush: formatBrushes(next) });
  const paramKeys = keys.filter((key) => key.startsWith('p:'));
  const metricKeys = keys.filter((key) => key.startsWith('m:'));
  // Box plot (`?bv=` value, `?bg=` the param grouping it, `?bg=none` for one box) and contour (`?cx=`,
  // `?cy=`, `?cz=` the metric): by default the first metric grouped by the first param that differs.
  const boxValue = url.get('bv', metricKeys[0] ?? keys[0] ?? '');
  const differing = paramRows.find((row) => row.differs);
  const boxGroup = url.get('bg', differing ? `p:${differing.key}` : 'none');
  const contourX = url.get('cx', paramKeys[0] ?? keys[0] ?? '');
  const contourY = url.get('cy', paramKeys[1] ?? keys[1] ?? '');
  const contourZ = url.get('cz', metricKeys[0] ?? '');
  const keyOptions = (exclude: readonly string[], list: readonly string[] = keys) =>
    list
      .filter((key) => !exclude.includes(key))
      .map((key) => (
        <option key={key} value={key}>
          {key.startsWith('p:') ? 'param' : 'metric'} {key.slice(2)}
        </option>
      ));
  /** A toolbar's select of a plot's key, labelled `caption` (`label` for assistive technology); the choice goes to the URL's `param`. */
  const keySelect = (caption: string, label: string, param: string, value: string, options: ReactNode) => (
    <label key={param}>
      {caption}{' '}
      <select aria-label={label} value={value} onChange={(event) => url.set({ [param]: event.target.value })}>
        {options}
      </select>
    </label>
  );
  if (keys.length === 0) return null;
  return (
    <section aria-label="Plots">
      <div className="toolbar">
        <span>Axes:</span>
        {axisKeys.map((key) => (
          <button
            key={key}
            type="button"
            aria-label={`Remove axis ${key.slice(2)}`}
            onClick={() => setAxes(axisKeys.filter((k) => k !== key))}
          >
            {key.slice(2)} ✕
          </button>
        ))}
        <select
          aria-label="Add an axis"
          value=""
          onChange={(event) => event.target.value && setAxes([...axisKeys, event.target.value])}
        >
          <option value="">Add an axis…</option>
          {keyOptions(axisKeys)}
        </select>
        {brushes.size > 0 ? (
          <button type="button" className="link" onClick={() => url.set({ brush: undefined })}>
            Clear brushes
          </button>
        ) : null}
      </div>
      {axes.length > 0 ? (
        <ParallelCoordinates runs={plotted} axes={axes} brushes={brushes} onBrushesChange={onBrushesChange} />
      ) : null}
      <div className="toolbar">
        {keySelect('Scatter x', 'Scatter plot x axis', 'sx', scatterX, keyOptions([]))}
        {keySelect('y', 'Scatter plot y axis', 'sy', scatterY, keyOptions([]))}
      </div>
      {keys.includes(scatterX) && keys.includes(scatterY) ? (
        <ScatterPlot
          runs={plotted}
          x={buildAxis(scatterX, plotted)}
          y={buildAxis(scatterY, plotted)}
          highlighted={highlighted}
        />
      ) : null}
      <div className="toolbar">
        {keySelect('Box plot of', 'Box plot value', 'bv', boxValue, keyOptions([]))}
        {keySelect(
          'grouped by',
          'Box plot group',
          'bg',
          boxGroup,
          <>
            <option value="none">(no grouping)</option>
            {keyOptions([], paramKeys)}
          </>,
        )}
      </div>
      {keys.includes(boxValue) ? (
        <BoxPlot
          runs={plotted}
          valueKey={boxValue}
          groupKey={paramKeys.includes(boxGroup) ? boxGroup : undefined}
        />
      ) : null}
      <div className="toolbar">
        {(
          [
            ['cx', 'Contour x', contourX, keys],
            ['cy', 'Contour y', contourY, keys],
            ['cz', 'Contour z (metric)', contourZ, metricKeys],
          ] as const
        ).map(([name, label, value, list]) => keySelect(label, label, name, value, keyOptions([], list)))}
      </div>
      {keys.includes(contourX) && keys.includes(contourY) && metricKeys.includes(contourZ) ? (
        <ContourPlot
          runs={plotted}
          x={buildAxis(contourX, plotted)}
          y={buildAxis(contourY, plotted)}
          zKey={contourZ}
        />
      ) : null}
    </section>
  );
}

const SERIES_QUERY = `
  query CompareSeries($runIds: [ID!]!, $metricKeys: [String!]!) {
    compareRuns(runIds: $runIds, metricKeys: $metricKeys, maxPoints: 500) {
      buckets { startStep endStep }
      series { runId key min max last }
    }
  }`;

interface SeriesData {
  compareRuns: {
    buckets: Array<{ startStep: number; endStep: number }>;
    series: Array<
      { runId: string; key: string } & Record<'min' | 'max' | 'last', Array<number | string | null>>
    >;
  };
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f'];

function OverlayChart({ runs, metricKey }: { runs: ComparedRun[]; metricKey: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { data, error } = useQuery<SeriesData>(SERIES_QUERY, {
    runIds: runs.map((r) => r.id),
    metricKeys: [metricKey],
  });
  // When the series arrived (this render follows their arrival): the start of the render time (G4).
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new answer is a new arrival
  const arrived = useMemo(() => performance.now(), [data]);
  useEffect(() => {
    const element = box.current;
    if (!element || !data) return;
    const { buckets, series } = data.compareRuns;
    const values = (list: Array<number | string | null>) => list.map((v) => plottable(v ?? undefined));
    const names = new Map(runs.map((r) => [r.id, r.name]));
    const text = getComputedStyle(document.documentElement).getPropertyValue('--text').trim() || '#111';
    const plot = new uPlot(
      {
        width: element.clientWidth || 800,
        height: 260,
        scales: { x: { time: false } },
        axes: [{ stroke: text, label: 'step' }, { stroke: text }],
        hooks: {
          ready: [
            () =>
              chartDrawn(`compare:${metricKey}`, arrived, {
                range: undefined,
                series: series.map((s) => ({
                  runId: s.runId,
                  startStep: buckets.map((b) => b.startStep),
                  endStep: buckets.map((b) => b.endStep),
                  min: values(s.min),
                  max: values(s.max),
                  last: values(s.last),
                })),
              }),
          ],
        },
        series: [
          { label: 'step' },
          ...series.map((s, i) => ({
            label: names.get(s.runId) ?? s.runId,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
          })),
        ],
      },
      [buckets.map((b) => b.endStep), ...series.map((s) => values(s.last))],
      element,
    );
    return () => plot.destroy();
  }, [data, runs, metricKey, arrived]);
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
 * P7: runs side by side, chosen by id (`?runs=<ids>`, as MLflow's compare page; past ~50 ids the URL
 * state becomes a `?view=<id>` link) or, as MLflow's runs search does, by experiment and filter
 * (`?experiments=<ids>&filter=<MLflow filter>`, one page of the runs connection); 1,000 runs at most
 * either way. Parameters and latest metrics with the rows that differ marked (`?diff=1` shows only those),
 * one overlay chart per metric in `?metrics=` (both for the first 100 runs), and parallel coordinates,
 * a scatter plot, a box plot and a contour plot of every run.
 */
export default function ComparePage() {
  const url = useUrlState();
  const runIds = url.list('runs').slice(0, MAX_PLOTTED_RUNS);
  const experimentIds = url.list('experiments');
  const filter = url.get('filter');
  const searched = runIds.length === 0 && experimentIds.length > 0;
  const diffOnly = url.get('diff') === '1';
  const variables = Object.fromEntries(runIds.map((id, i) => [`r${i}`, id]));
  const byIds = useQuery<Record<string, ComparedRun | null>>(
    runsQuery(runIds.length),
    variables,
    runIds.length === 0,
  );
  const search = useQuery<{ runs: { nodes: ComparedRun[]; pageInfo: { hasNextPage: boolean } } }>(
    SEARCH_QUERY,
    { experimentIds, filter: filter || null, first: MAX_PLOTTED_RUNS },
    !searched,
  );
  const { data, error, loading } = searched ? search : byIds;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the runs change only with the answers
  const runs = useMemo(
    () =>
      search.data && searched
        ? search.data.runs.nodes
        : byIds.data
          ? runIds.flatMap((_, i) => byIds.data![`r${i}`] ?? [])
          : [],
    [byIds.data, search.data, searched],
  );
  const listed = useMemo(() => runs.slice(0, MAX_LISTED_RUNS), [runs]);
  const paramRows = useMemo(() => comparisonRows(listed, (run) => run.params), [listed]);
  const metricRows = useMemo(() => comparisonRows(listed, (run) => run.latestMetrics), [listed]);
  // The plots' keys come from every run, not only the listed ones.
  const plotParamRows = useMemo(
    () => (runs.length > listed.length ? comparisonRows(runs, (run) => run.params) : paramRows),
    [runs, listed, paramRows],
  );
  const plotMetricRows = useMemo(
    () => (runs.length > listed.length ? comparisonRows(runs, (run) => run.latestMetrics) : metricRows),
    [runs, listed, metricRows],
  );
  if (runIds.length === 0 && !searched) return <p>Choose runs to compare in an experiment's runs table.</p>;
  if (error) return <ErrorMessage error={error} />;
  if (loading || !data) return <Loading what="runs" />;
  const charted = url.list('metrics');
  const metricKeys = metricRows.map((row) => row.key);
  const more = searched && search.data?.runs.pageInfo.hasNextPage;
  return (
    <>
      <PageHeader title={`Compare ${runs.length}${more ? '+' : ''} runs`}>
        <ViewsMenu />
      </PageHeader>
      {more ? (
        <p className="muted">
          The newest {MAX_PLOTTED_RUNS} runs matching the filter are compared; narrow the filter to see
          others.
        </p>
      ) : null}
      <RunPlots runs={runs} paramRows={plotParamRows} metricRows={plotMetricRows} />
      {runs.length > listed.length ? (
        <p className="muted">The tables and metric charts show the first {MAX_LISTED_RUNS} runs.</p>
      ) : null}
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
        <OverlayChart key={key} runs={listed} metricKey={key} />
      ))}
      <ComparisonTable caption="Parameters" runs={listed} rows={paramRows} diffOnly={diffOnly} />
      <ComparisonTable caption="Latest metrics" runs={listed} rows={metricRows} diffOnly={diffOnly} />
    </>
  );
}
