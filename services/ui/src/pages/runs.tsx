// biome-ignore-all lint/a11y/useSemanticElements: rows and cells are absolutely positioned by the virtualisers, which table elements cannot be; ARIA table roles keep the semantics.
// biome-ignore-all lint/a11y/useFocusableInteractive: a read-only table; its links, checkboxes and sort buttons are the focusable parts.
import { useVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { type GraphQLRequestError, gql, useQuery } from '../api';
import { ColumnPicker, type MetricStat, parseColumnId } from '../column-picker';
import { ErrorMessage, Loading, PageHeader, StatusBadge } from '../components';
import { ExperimentTabs } from '../experiment-tabs';
import { FilterInput } from '../filter-input';
import { formatDuration, formatTime, formatValue } from '../format';
import { routes } from '../routes';
import { ViewsMenu } from '../saved-views';
import { useUrlState } from '../url-state';

const HEADER_QUERY = `
  query RunsHeader($id: ID!) {
    experiment(id: $id) { id name runCount description }
    experimentKeys(experimentId: $id) { metrics params tags }
  }`;

const RUNS_QUERY = `
  query Runs($experimentIds: [ID!]!, $filter: String, $orderBy: [String!], $first: Int!, $after: String,
             $metricKeys: [String!], $paramKeys: [String!], $tagKeys: [String!],
             $statKeys: [String!]!, $withStats: Boolean!) {
    runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      nodes {
        id name status startTime endTime userId
        latestMetrics(keys: $metricKeys) { key value }
        params(keys: $paramKeys) { key value }
        tags(keys: $tagKeys) { key value }
        metricStats(keys: $statKeys) @include(if: $withStats) { key min max mean count }
      }
      pageInfo { hasNextPage endCursor }
    }
  }`;

interface HeaderData {
  experiment: { id: string; name: string; runCount: number; description: string | null } | null;
  experimentKeys: { metrics: string[]; params: string[]; tags: string[] };
}

interface RunRow {
  id: string;
  name: string;
  status: string;
  startTime: number;
  endTime: number | null;
  userId: string;
  latestMetrics: Array<{ key: string; value: number | string }>;
  params: Array<{ key: string; value: string }>;
  tags: Array<{ key: string; value: string }>;
  /** Present when a min/max/mean/count column is shown. */
  metricStats?: Array<{ key: string } & Record<MetricStat, number | string | null>>;
}

interface RunsData {
  runs: { nodes: RunRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** A column of the table: an attribute, or a metric (`m:`), param (`p:`) or tag (`t:`) key. */
interface Column {
  id: string;
  label: string;
  group: 'Attributes' | 'Metrics' | 'Parameters' | 'Tags';
  /** MLflow's order_by key, e.g. metrics.`loss`; null when order_by cannot sort by it. */
  sortKey: string | null;
  width: number;
  cell(run: RunRow): string;
}

const PAGE_SIZE = 100;
const ROW_HEIGHT = 32;
const HEADER_HEIGHT = 36;
const STICKY_WIDTH = 260;
/** Columns shown per kind while the URL names none. */
const DEFAULT_KEY_COLUMNS = 20;

const quote = (key: string) => `\`${key.replaceAll('`', '``')}\``;

const ATTRIBUTE_COLUMNS: Column[] = [
  {
    id: 'a:status',
    label: 'Status',
    group: 'Attributes',
    sortKey: 'attributes.status',
    width: 110,
    cell: (r) => r.status,
  },
  {
    id: 'a:start_time',
    label: 'Created',
    group: 'Attributes',
    sortKey: 'attributes.start_time',
    width: 180,
    cell: (r) => formatTime(r.startTime),
  },
  {
    id: 'a:duration',
    label: 'Duration',
    group: 'Attributes',
    sortKey: 'attributes.end_time',
    width: 100,
    cell: (r) => formatDuration(r.startTime, r.endTime),
  },
  {
    id: 'a:user_id',
    label: 'User',
    group: 'Attributes',
    sortKey: 'attributes.user_id',
    width: 120,
    cell: (r) => r.userId,
  },
];

/** Why a min/max/mean/count column has no sort (its header's tooltip). */
const UNSORTABLE = "not sortable: MLflow's order_by sorts metrics by their latest value only";

function keyColumn(id: string): Column | undefined {
  const { kind, key, stat } = parseColumnId(id);
  if (kind === 'm:' && stat)
    return {
      id,
      label: `${key} (${stat})`,
      group: 'Metrics',
      sortKey: null,
      width: 130,
      cell: (r) => formatValue(r.metricStats?.find((m) => m.key === key)?.[stat] ?? undefined),
    };
  if (kind === 'm:')
    return {
      id,
      label: key,
      group: 'Metrics',
      sortKey: `metrics.${quote(key)}`,
      width: 130,
      cell: (r) => formatValue(r.latestMetrics.find((m) => m.key === key)?.value),
    };
  if (kind === 'p:')
    return {
      id,
      label: key,
      group: 'Parameters',
      sortKey: `params.${quote(key)}`,
      width: 130,
      cell: (r) => r.params.find((p) => p.key === key)?.value ?? '',
    };
  if (kind === 't:')
    return {
      id,
      label: key,
      group: 'Tags',
      sortKey: `tags.${quote(key)}`,
      width: 160,
      cell: (r) => r.tags.find((t) => t.key === key)?.value ?? '',
    };
  return undefined;
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The server's CSV export of every run the filter matches (`GET …/mast/runs/export-csv`, streamed; goal
 * G12), in the table's order, with the table's metric, param and tag columns; resolved under `<base href>`.
 */
function exportAllUrl(
  experimentId: string,
  filter: string,
  sort: string,
  columnIds: readonly string[],
): string {
  const query = new URLSearchParams({ experiment_ids: experimentId });
  if (filter) query.set('filter', filter);
  if (sort) query.set('order_by', sort);
  const kinds = { 'm:': 'metrics', 'p:': 'params', 't:': 'tags' } as const;
  for (const id of columnIds) {
    const { kind, key, stat } = parseColumnId(id);
    // The export holds latest metric values only.
    if (kind && !stat) query.append(kinds[kind], key);
  }
  return new URL(`ajax-api/2.0/mast/runs/export-csv?${query}`, document.baseURI).toString();
}

/**
 * Saves the loaded runs with the shown columns as CSV (MLflow's "Download CSV" of the runs loaded);
 * built in the browser, so it holds what was scrolled through, not every matching run.
 */
function downloadCsv(name: string, columns: Column[], rows: RunRow[]): void {
  const header = [
    'Run ID',
    'Run name',
    ...columns.map((c) => (c.group === 'Attributes' ? c.label : `${c.group}: ${c.label}`)),
  ];
  const lines = [header, ...rows.map((run) => [run.id, run.name, ...columns.map((c) => c.cell(run))])];
  const blob = new Blob([`${lines.map((line) => line.map(csvField).join(',')).join('\r\n')}\r\n`], {
    type: 'text/csv',
  });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${name}-runs.csv`;
  link.click();
  // Revoked once the download has taken the blob.
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

/** The sort after clicking a column: descending first, then ascending, then none. */
function nextSort(current: string, sortKey: string): string {
  if (current === `${sortKey} DESC`) return `${sortKey} ASC`;
  if (current === `${sortKey} ASC`) return '';
  return `${sortKey} DESC`;
}

/**
 * P3: an experiment's runs in a table virtualised in rows and columns. The URL holds the filter
 * (MLflow's grammar, passed to the server as is), the sort (`sort=metrics.\`loss\` DESC`), the columns
 * (`cols=m:loss,m:loss@min,p:lr`: a metric's latest value or a summary of its history), the picker's
 * switches (`vary=1`, `nonempty=1`) and the selection (`sel=<run ids>`); pages of 100 load as the
 * table scrolls.
 */
export function RunsPage() {
  const { experimentId } = useParams();
  const id = experimentId!;
  const url = useUrlState();
  const filter = url.get('filter');
  const sort = url.get('sort');
  const selected = url.list('sel');
  const header = useQuery<HeaderData>(HEADER_QUERY, { id });
  const keys = header.data?.experimentKeys;

  const colsParam = url.get('cols');
  const columnIds = useMemo(() => {
    const chosen = colsParam.split(',').filter((c) => c !== '');
    if (chosen.length > 0 || !keys) return chosen;
    return [
      ...keys.metrics.slice(0, DEFAULT_KEY_COLUMNS).map((k) => `m:${k}`),
      ...keys.params.slice(0, DEFAULT_KEY_COLUMNS).map((k) => `p:${k}`),
    ];
  }, [colsParam, keys]);
  const chosenColumns = useMemo(
    () => [...ATTRIBUTE_COLUMNS, ...columnIds.flatMap((c) => keyColumn(c) ?? [])],
    [columnIds],
  );
  const keyLists = useMemo(() => {
    const parsed = columnIds.map(parseColumnId);
    const of = (kind: string, stats: boolean) => [
      ...new Set(parsed.filter((c) => c.kind === kind && Boolean(c.stat) === stats).map((c) => c.key)),
    ];
    const statKeys = of('m:', true);
    return {
      metricKeys: of('m:', false),
      paramKeys: of('p:', false),
      tagKeys: of('t:', false),
      statKeys,
      withStats: statKeys.length > 0,
    };
  }, [columnIds]);

  const [rows, setRows] = useState<RunRow[]>([]);
  const [page, setPage] = useState<{ hasNextPage: boolean; endCursor: string | null }>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<GraphQLRequestError>();
  const request = useRef(0);
  const variables = useMemo(
    () => ({
      experimentIds: [id],
      filter: filter || null,
      orderBy: sort ? [sort] : null,
      first: PAGE_SIZE,
      ...keyLists,
    }),
    [id, filter, sort, keyLists],
  );

  const load = useCallback(
    async (after: string | null) => {
      const mine = ++request.current;
      setLoading(true);
      try {
        const data = await gql<RunsData>(RUNS_QUERY, { ...variables, after });
        if (mine !== request.current) return;
        // Keyset cursors: a next page holds no run already shown, even when runs were created meanwhile.
        setRows((previous) => (after === null ? data.runs.nodes : [...previous, ...data.runs.nodes]));
        setPage(data.runs.pageInfo);
        setError(undefined);
      } catch (failure) {
        if (mine === request.current) setError(failure as GraphQLRequestError);
      } finally {
        if (mine === request.current) setLoading(false);
      }
    },
    [variables],
  );

  useEffect(() => {
    if (!keys) return;
    setRows([]);
    setPage(undefined);
    void load(null);
  }, [load, keys]);

  // "Only columns that vary" and "hide empty columns" judge the chosen key columns by the loaded runs.
  const onlyVarying = url.get('vary') === '1';
  const hideEmpty = url.get('nonempty') === '1';
  const columns = useMemo(() => {
    if (!onlyVarying && !hideEmpty) return chosenColumns;
    return chosenColumns.filter((column) => {
      if (column.group === 'Attributes') return true;
      const values = new Set(rows.map((run) => column.cell(run)));
      if (hideEmpty && values.size === 1 && values.has('')) return false;
      return !onlyVarying || values.size > 1;
    });
  }, [chosenColumns, rows, onlyVarying, hideEmpty]);
  const hiddenColumns = chosenColumns.length - columns.length;

  const scrollRef = useRef<HTMLDivElement>(null);
  const rowVirtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const columnVirtualizer = useVirtualizer({
    horizontal: true,
    count: columns.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => columns[index]!.width,
    // A new key function when the columns change makes the virtualiser measure them again.
    getItemKey: useCallback((index: number) => columns[index]!.id, [columns]),
    overscan: 3,
  });
  const virtualRows = rowVirtualizer.getVirtualItems();
  const virtualColumns = columnVirtualizer.getVirtualItems();

  // Infinite scroll: the next page is asked for when the last loaded rows come into view.
  const lastVisible = virtualRows.at(-1)?.index ?? -1;
  useEffect(() => {
    if (page?.hasNextPage && !loading && lastVisible >= rows.length - 20) void load(page.endCursor);
  }, [lastVisible, rows.length, page, loading, load]);

  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);
  function applyFilter(event: FormEvent) {
    event.preventDefault();
    url.set({ filter: draft.trim() });
  }
  function toggleSelected(runId: string) {
    url.set({ sel: selected.includes(runId) ? selected.filter((s) => s !== runId) : [...selected, runId] });
  }

  if (header.error) return <ErrorMessage error={header.error} />;
  if (!header.data) return <Loading what="experiment" />;
  const experiment = header.data.experiment!;
  const totalWidth = STICKY_WIDTH + columnVirtualizer.getTotalSize();
  return (
    <>
      <PageHeader title={experiment.name}>
        <p className="muted">
          Experiment {experiment.id} · {experiment.runCount} runs
          {experiment.description ? ` · ${experiment.description}` : ''}
        </p>
        <ViewsMenu />
      </PageHeader>
      <ExperimentTabs experimentId={id} chartRuns={selected} />
      <form className="toolbar" aria-label="Filter runs" onSubmit={applyFilter}>
        <label htmlFor="runs-filter">Filter</label>
        <FilterInput id="runs-filter" value={draft} onChange={setDraft} keys={keys!} />
        <button type="submit">Apply</button>
        <ColumnPicker
          keys={keys!}
          chosen={columnIds}
          onChange={(cols) => url.set({ cols })}
          onlyVarying={onlyVarying}
          hideEmpty={hideEmpty}
          onOptions={(options) =>
            url.set({
              vary: options.onlyVarying ? '1' : undefined,
              nonempty: options.hideEmpty ? '1' : undefined,
            })
          }
        />
        {selected.length > 0 ? (
          <Link className="button" to={routes.compare(selected)}>
            Compare {selected.length} selected
          </Link>
        ) : null}
        <button
          type="button"
          disabled={rows.length === 0}
          onClick={() => downloadCsv(experiment.name, columns, rows)}
        >
          Download CSV
        </button>
        <a className="button" href={exportAllUrl(id, filter, sort, columnIds)} download>
          Export all runs (CSV)
        </a>
      </form>
      <ErrorMessage error={error} />
      <p className="muted" role="status">
        {rows.length} runs loaded{page?.hasNextPage ? ', more on scroll' : ''}
        {sort ? ` · sorted by ${sort}` : ''}
        {hiddenColumns > 0 ? ` · ${hiddenColumns} columns hidden by the picker's switches` : ''}
      </p>
      <div
        ref={scrollRef}
        className="grid-scroll"
        role="table"
        aria-label="Runs"
        aria-rowcount={page?.hasNextPage ? -1 : rows.length + 1}
        aria-colcount={columns.length + 1}
        data-testid="runs-grid"
      >
        <div
          style={{ width: totalWidth, height: HEADER_HEIGHT + rowVirtualizer.getTotalSize() }}
          className="grid-inner"
        >
          <div
            role="row"
            aria-rowindex={1}
            className="grid-header"
            style={{ width: totalWidth, height: HEADER_HEIGHT }}
          >
            <div role="columnheader" className="grid-sticky" style={{ width: STICKY_WIDTH }}>
              Run
            </div>
            {virtualColumns.map((virtual) => {
              const column = columns[virtual.index]!;
              const { sortKey } = column;
              const direction =
                sort === `${sortKey} DESC` ? 'descending' : sort === `${sortKey} ASC` ? 'ascending' : 'none';
              return (
                <div
                  key={column.id}
                  role="columnheader"
                  aria-sort={sortKey ? direction : undefined}
                  aria-colindex={virtual.index + 2}
                  className={`grid-cell group-${column.group.toLowerCase()}`}
                  style={{ left: STICKY_WIDTH + virtual.start, width: virtual.size }}
                  title={`${column.group}: ${column.label}${sortKey ? '' : ` (${UNSORTABLE})`}`}
                >
                  {sortKey ? (
                    <button
                      type="button"
                      className="link"
                      onClick={() => url.set({ sort: nextSort(sort, sortKey) })}
                    >
                      {column.label}
                      {direction === 'descending' ? ' ↓' : direction === 'ascending' ? ' ↑' : ''}
                    </button>
                  ) : (
                    column.label
                  )}
                </div>
              );
            })}
          </div>
          {virtualRows.map((virtualRow) => {
            const run = rows[virtualRow.index]!;
            return (
              <div
                key={run.id}
                role="row"
                aria-rowindex={virtualRow.index + 2}
                className={selected.includes(run.id) ? 'grid-row selected' : 'grid-row'}
                style={{ top: HEADER_HEIGHT + virtualRow.start, width: totalWidth, height: ROW_HEIGHT }}
              >
                <div role="rowheader" className="grid-sticky" style={{ width: STICKY_WIDTH }}>
                  <input
                    type="checkbox"
                    aria-label={`Select ${run.name}`}
                    checked={selected.includes(run.id)}
                    onChange={() => toggleSelected(run.id)}
                  />
                  <Link to={routes.run(id, run.id)}>{run.name}</Link>
                </div>
                {virtualColumns.map((virtual) => {
                  const column = columns[virtual.index]!;
                  return (
                    <div
                      key={column.id}
                      role="cell"
                      aria-colindex={virtual.index + 2}
                      className="grid-cell"
                      style={{ left: STICKY_WIDTH + virtual.start, width: virtual.size }}
                    >
                      {column.id === 'a:status' ? <StatusBadge status={run.status} /> : column.cell(run)}
                    </div>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
      {page?.hasNextPage ? (
        <button type="button" disabled={loading} onClick={() => void load(page.endCursor)}>
          Load more
        </button>
      ) : null}
      {loading ? <Loading what="runs" /> : null}
    </>
  );
}
