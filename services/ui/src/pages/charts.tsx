import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useQuery } from '../api';
import { AddedCards, type CardRun, formatCard, parseCard } from '../chart-cards';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { ExperimentTabs } from '../experiment-tabs';
import { routes } from '../routes';
import { type ChartRun, PALETTE, RunsMetricChart, type XAxis } from '../runs-chart';
import { useUrlState } from '../url-state';
import './charts.css';

/** What the legend, relative time and the added cards (params, latest metrics) need of a run. */
const RUN_FIELDS = 'id name startTime params { key value } latestMetrics { key value }';

const HEADER_QUERY = `
  query ChartsHeader($id: ID!, $first: Int!) {
    experiment(id: $id) { id name runs(first: $first) { nodes { ${RUN_FIELDS} } } }
    experimentKeys(experimentId: $id) { metrics }
  }`;

interface HeaderData {
  experiment: { id: string; name: string; runs: { nodes: RunSummary[] } } | null;
  experimentKeys: { metrics: string[] };
}

interface RunSummary {
  id: string;
  name: string;
  startTime: number;
  params: Array<{ key: string; value: string }>;
  latestMetrics: Array<{ key: string; value: number }>;
}

/** One aliased `run(id:)` per chosen run: names and start times for the legend and relative time. */
function chosenRunsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$r${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `r${i}: run(id: $r${i}) { ${RUN_FIELDS} }`).join(
    '\n',
  );
  return `query ChartRuns(${variables}) {\n${fields}\n}`;
}

/** Charted runs at most (`?runs=`); without a choice the experiment's newest `DEFAULT_RUNS`, as MLflow's "first 10". */
const MAX_RUNS = 50;
const DEFAULT_RUNS = 10;
const X_AXES: Record<XAxis, string> = { step: 'Step', wall: 'Wall time', relative: 'Relative time' };
/** A card row's height (card and gap) and the section header's, in pixels. */
const CARD_ROW = 320;
const SECTION_ROW = 44;
const CARD_GAP = 16;
const CHART_HEIGHT = 250;

/** MLflow's sections: `system/...` keys are system metrics, `a/b` keys go under `a`, the rest are model metrics. */
const SYSTEM_SECTION = 'System metrics';
const MODEL_SECTION = 'Model metrics';
function sectionOf(key: string): string {
  if (key.startsWith('system/')) return SYSTEM_SECTION;
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : MODEL_SECTION;
}

/** `?q=`: a substring (any case), or `/regex/` (invalid ones match nothing). */
function keyMatcher(text: string): (key: string) => boolean {
  const regex = /^\/(.*)\/$/.exec(text);
  if (regex) {
    try {
      const pattern = new RegExp(regex[1]!, 'i');
      return (key) => pattern.test(key);
    } catch {
      return () => false;
    }
  }
  const needle = text.toLowerCase();
  return (key) => key.toLowerCase().includes(needle);
}

type GridRow =
  | { kind: 'section'; name: string; count: number; collapsed: boolean }
  | { kind: 'cards'; keys: string[] };

/** Sections (model metrics first, system metrics last), each followed by its rows of `columns` cards. */
function gridRows(keys: readonly string[], columns: number, collapsed: ReadonlySet<string>): GridRow[] {
  const sections = new Map<string, string[]>();
  for (const key of keys) {
    const name = sectionOf(key);
    sections.set(name, [...(sections.get(name) ?? []), key]);
  }
  const rank = (name: string) => (name === MODEL_SECTION ? 0 : name === SYSTEM_SECTION ? 2 : 1);
  const names = [...sections.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.flatMap((name): GridRow[] => {
    const sectionKeys = sections.get(name)!;
    const header: GridRow = {
      kind: 'section',
      name,
      count: sectionKeys.length,
      collapsed: collapsed.has(name),
    };
    if (collapsed.has(name)) return [header];
    const rows: GridRow[] = [];
    for (let i = 0; i < sectionKeys.length; i += columns)
      rows.push({ kind: 'cards', keys: sectionKeys.slice(i, i + columns) });
    return [header, ...rows];
  });
}

/** The grid's width, followed as the window resizes. */
function useWidth(element: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const target = element.current;
    if (!target) return;
    const observer = new ResizeObserver(() => setWidth(target.clientWidth));
    observer.observe(target);
    setWidth(target.clientWidth);
    return () => observer.disconnect();
  }, [element]);
  return width;
}

/**
 * The virtualised card grid: only the rows on screen and one screen above and below are mounted
 * (ui.md goal G7), each card a chart of one metric key over the charted runs.
 */
function CardGrid({
  keys,
  runs,
  xAxis,
  smoothing,
  collapsed,
  onToggleSection,
}: {
  keys: string[];
  runs: ChartRun[];
  xAxis: XAxis;
  smoothing: number;
  collapsed: ReadonlySet<string>;
  onToggleSection(name: string): void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const width = useWidth(container);
  const columns = width >= 1200 ? 3 : width >= 700 ? 2 : 1;
  const cardWidth = Math.floor((width - CARD_GAP * (columns - 1)) / columns);
  const rows = useMemo(() => gridRows(keys, columns, collapsed), [keys, columns, collapsed]);
  const [scrollMargin, setScrollMargin] = useState(0);
  useLayoutEffect(() => setScrollMargin(container.current?.offsetTop ?? 0), []);
  const virtualizer = useWindowVirtualizer({
    count: rows.length,
    estimateSize: (index) => (rows[index]!.kind === 'section' ? SECTION_ROW : CARD_ROW),
    // One screen of card rows above and below what is visible.
    overscan: Math.max(1, Math.floor(window.innerHeight / CARD_ROW)),
    scrollMargin,
  });
  // Rows change height when sections collapse or the column count changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-measure when the rows change
  useEffect(() => virtualizer.measure(), [rows, virtualizer]);
  return (
    <div ref={container} className="card-grid" style={{ height: virtualizer.getTotalSize() }}>
      {width > 0
        ? virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            const style = { transform: `translateY(${item.start - scrollMargin}px)`, height: item.size };
            if (row.kind === 'section')
              return (
                <div key={`s:${row.name}`} className="chart-grid-row section-row" style={style}>
                  <h2>
                    <button
                      type="button"
                      className="link"
                      aria-expanded={!row.collapsed}
                      onClick={() => onToggleSection(row.name)}
                    >
                      {row.collapsed ? '▸' : '▾'} {row.name}
                    </button>{' '}
                    <span className="muted">({row.count})</span>
                  </h2>
                </div>
              );
            return (
              <div key={`c:${row.keys[0]}`} className="chart-grid-row cards-row" style={style}>
                {row.keys.map((key) => (
                  <article key={key} className="chart-card" data-card={key} style={{ width: cardWidth }}>
                    <h3 title={key}>{key}</h3>
                    <RunsMetricChart
                      metricKey={key}
                      runs={runs}
                      xAxis={xAxis}
                      smoothing={smoothing}
                      width={cardWidth - 24}
                      height={CHART_HEIGHT}
                    />
                  </article>
                ))}
              </div>
            );
          })
        : null}
    </div>
  );
}

/**
 * P4: an experiment's chart view (MLflow's "Chart view" of the runs tab): one line chart per metric key
 * (all keys from `experimentKeys`), grouped into sections by key prefix, for the runs in `?runs=` or
 * else the experiment's newest 10. The URL holds the key filter (`?q=`, substring or `/regex/`), the
 * x-axis (`?x=step|wall|relative`), the smoothing (`?smooth=0..0.95`), the runs and the collapsed
 * sections (`?collapsed=`), and the cards added besides the line charts (`?cards=`: bar, scatter,
 * parallel coordinates, difference table, box plot, contour, parameter importance, image grid; see
 * `chart-cards.tsx`). The card grid is virtualised, and a card asks for its series only once
 * it stays on screen.
 */
export default function ChartsPage() {
  const { experimentId } = useParams() as { experimentId: string };
  const url = useUrlState();
  const listed = url.list('runs');
  const chosen = listed.slice(0, MAX_RUNS);
  const filter = url.get('q');
  const xAxis: XAxis = (Object.keys(X_AXES) as XAxis[]).find((x) => x === url.get('x')) ?? 'step';
  const smoothing = Math.min(0.95, Math.max(0, Number(url.get('smooth', '0')) || 0));
  const collapsedText = url.get('collapsed');
  const collapsed = useMemo(
    () => new Set(collapsedText.split(',').filter((name) => name !== '')),
    [collapsedText],
  );

  const header = useQuery<HeaderData>(HEADER_QUERY, { id: experimentId, first: DEFAULT_RUNS });
  const chosenRuns = useQuery<Record<string, RunSummary | null>>(
    chosenRunsQuery(chosen.length),
    Object.fromEntries(chosen.map((id, i) => [`r${i}`, id])),
    chosen.length === 0,
  );
  const runSummaries =
    chosen.length > 0
      ? chosen.flatMap((_, i) => chosenRuns.data?.[`r${i}`] ?? [])
      : (header.data?.experiment?.runs.nodes ?? []);
  const runsKey = runSummaries.map((run) => run.id).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the ids stand for the runs
  const runs: ChartRun[] = useMemo(
    () => runSummaries.map((run, i) => ({ ...run, color: PALETTE[i % PALETTE.length]! })),
    [runsKey],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: the ids stand for the runs
  const cardRuns: CardRun[] = useMemo(
    () =>
      runSummaries.map((run, i) => ({
        id: run.id,
        name: run.name,
        color: PALETTE[i % PALETTE.length]!,
        values: new Map<string, number | string>([
          ...run.params.map((param) => [`p:${param.key}`, param.value] as const),
          ...run.latestMetrics.map((metric) => [`m:${metric.key}`, metric.value] as const),
        ]),
      })),
    [runsKey],
  );
  const cards = url.list('cards').flatMap((text) => parseCard(text) ?? []);
  const allKeys = header.data?.experimentKeys.metrics;
  const keys = useMemo(() => (allKeys ?? []).filter(keyMatcher(filter)), [allKeys, filter]);

  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);
  function applyFilter(event: FormEvent) {
    event.preventDefault();
    url.set({ q: draft.trim() });
  }
  function toggleSection(name: string) {
    const names = [...collapsed];
    url.set({ collapsed: collapsed.has(name) ? names.filter((s) => s !== name) : [...names, name] });
  }

  if (header.error) return <ErrorMessage error={header.error} />;
  if (!header.data || (chosen.length > 0 && !chosenRuns.data && !chosenRuns.error))
    return <Loading what="experiment" />;
  const experiment = header.data.experiment!;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.experiments()}>Experiments</Link> / {experiment.name}
      </nav>
      <PageHeader title={experiment.name} />
      <ExperimentTabs experimentId={experimentId} chartRuns={chosen} />
      <form className="toolbar" aria-label="Chart settings" onSubmit={applyFilter}>
        <label>
          Metrics{' '}
          <input
            value={draft}
            placeholder="loss, or /^val\//"
            aria-describedby="charts-status"
            onChange={(event) => setDraft(event.target.value)}
          />
        </label>
        <button type="submit">Filter</button>
        <label>
          X-axis{' '}
          <select
            value={xAxis}
            onChange={(event) =>
              url.set({ x: event.target.value === 'step' ? undefined : event.target.value })
            }
          >
            {Object.entries(X_AXES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Smoothing{' '}
          <input
            type="range"
            min={0}
            max={0.95}
            step={0.05}
            value={smoothing}
            onChange={(event) =>
              url.set({ smooth: event.target.value === '0' ? undefined : event.target.value })
            }
          />{' '}
          <output>{smoothing.toFixed(2)}</output>
        </label>
      </form>
      <ErrorMessage error={chosenRuns.error} />
      <p id="charts-status" className="muted" role="status">
        {keys.length} of {allKeys?.length ?? 0} metrics · {runs.length} runs
        {chosen.length === 0 ? ` (the newest ${DEFAULT_RUNS}; select runs in the runs table to choose)` : ''}
        {listed.length > MAX_RUNS
          ? ` (the first ${MAX_RUNS} of the ${listed.length} chosen: charts draw ${MAX_RUNS} runs at most)`
          : ''}
      </p>
      <ul className="run-legend" aria-label="Charted runs">
        {runs.map((run) => (
          <li key={run.id}>
            <span className="swatch" style={{ background: run.color }} />
            <Link to={routes.run(experimentId, run.id)}>{run.name}</Link>
          </li>
        ))}
      </ul>
      <AddedCards
        cards={cards}
        runs={cardRuns}
        onChange={(next) => url.set({ cards: next.map(formatCard) })}
      />
      {keys.length === 0 ? (
        <p className="muted">{allKeys?.length ? 'No metric matches the filter.' : 'No metric logged yet.'}</p>
      ) : (
        <CardGrid
          keys={keys}
          runs={runs}
          xAxis={xAxis}
          smoothing={smoothing}
          collapsed={collapsed}
          onToggleSection={toggleSection}
        />
      )}
    </>
  );
}
