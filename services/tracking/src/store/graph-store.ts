import { compareInt64, type Int64, lifecycleStages, MlflowError } from '@mast/common';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { bucketGeometry, CHUNK_STEPS, type Geometry } from '../domain/buckets.js';
import { type DatasetInputRow, selectDatasetInputs } from './dataset-inputs.js';
import { CHUNK_SHIFT } from './migrations/0002-metric-chunks.js';
import type { ExperimentRow, RunsTable, TrackingDatabase } from './schema.js';

const SHIFT = sql.raw(String(CHUNK_SHIFT));
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface KeyValueRow {
  run_uuid: string;
  key: string;
  value: string;
}

export interface LatestMetricRow {
  run_uuid: string;
  key: string;
  value: number;
  timestamp: Int64;
  step: Int64;
}

export type ExperimentOrderField = 'name' | 'creation_time' | 'last_update_time' | 'experiment_id';

export interface ExperimentQuery {
  viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  /** Case-insensitive substring of the name. */
  nameContains?: string;
  /** An SQL LIKE pattern on the name (`%`, `_`), case-sensitive as in MLflow's filters. */
  nameLike?: string;
  /** Only experiments directly in this folder (see `experimentFolders`; '' for those in none). */
  folder?: string;
}

/** A subfolder of an experiment folder, with what it holds (subfolders included). */
export interface ExperimentFolderRow {
  name: string;
  path: string;
  experimentCount: number;
  runCount: number;
  hasSubfolders: boolean;
}

/** One metric of one run summarised over its whole history. */
export interface MetricStatsRow {
  run_uuid: string;
  key: string;
  count: number;
  /** Null when every value is NaN. */
  min: number | null;
  max: number | null;
  /** Null when every value is NaN, or when a chunk predates the sums (migration 0007). */
  mean: number | null;
  last: number;
}

export interface ExperimentPageRequest extends ExperimentQuery {
  orderBy: ExperimentOrderField;
  ascending: boolean;
  /** Keyset position: the sort value and id of the last row of the previous page. */
  after?: { value: string | number; id: number };
  limit: number;
}

/**
 * One metric point of a downsampled series. Steps and timestamps are doubles here (the chunk summaries
 * are float8 arrays): beyond ±2^53 they are approximate. Exact int64 values come from the history
 * readers (`metrics/get-history`, GraphQL `history`), not from downsampling.
 */
export interface Point {
  step: Int64;
  timestamp: Int64;
  value: number;
}

/**
 * The most points one downsampling request reads one by one. Buckets narrower than a chunk can only be
 * computed from the points; past this many (100 runs × 10,000 steps is 10^6), buckets become whole
 * chunks, answered from the chunk summaries: fewer than asked (`maxPoints` is a maximum), min and max
 * still exact, and a zoom into a narrower range gets fine buckets again (ui.md goals G4, G5).
 */
const SCAN_BUDGET_POINTS = 200_000;

/** Points the planned series would be read one by one for: those whose buckets would be narrower than a chunk. */
function scanCost(series: readonly PlannedSeries[], maxPoints: number): number {
  let points = 0;
  for (const { stats } of series) {
    if (stats.points > maxPoints && (stats.hi! - stats.lo! + 1) / maxPoints < CHUNK_STEPS)
      points += stats.points;
  }
  return points;
}

/** A downsampling bucket: the steps it covers and its min, max (NaN excluded) and last point. */
export interface Bucket {
  startStep: Int64;
  endStep: Int64;
  count: number;
  min: Point | null;
  max: Point | null;
  last: Point;
}

export interface SeriesRef {
  runId: string;
  key: string;
}

export interface SeriesRange {
  startStep?: Int64;
  endStep?: Int64;
}

export interface DownsampledSeries extends SeriesRef {
  /** Points in the requested step range. */
  totalPoints: number;
  /** False when every point is returned as is (one bucket per point). */
  downsampled: boolean;
  buckets: Bucket[];
}

/**
 * How a series is read. `auto`: whole when it has no more points than buckets, else bucketed from the
 * chunk summaries wherever buckets are whole chunks of in-range points, scanning points elsewhere.
 * `chunks`: the same, but always bucketed. `scan`: every bucket from its points. `points`: whole.
 * Tests and the benchmark force one; they all give the same buckets.
 */
export type DownsampleStrategy = 'auto' | 'points' | 'scan' | 'chunks';

interface SeriesStats {
  /** First and last step in the requested range (undefined: no point there). */
  lo: number | undefined;
  hi: number | undefined;
  /** The same, exactly (int64: a bigint beyond 2^53), for SQL parameters. */
  loExact: Int64 | undefined;
  hiExact: Int64 | undefined;
  /** First and last step of the whole series. */
  min: number | undefined;
  max: number | undefined;
  /** Points in the chunks overlapping the range: exact when the range covers the series. */
  points: number;
}

type PlannedSeries = { index: number; ref: SeriesRef; stats: SeriesStats; geometry: Geometry | undefined };

/**
 * The SQL the GraphQL subgraph needs beyond the REST stores: lookups batched by id for DataLoaders,
 * keyset pages of experiments, and metric downsampling. Every method runs one statement per call
 * (downsampling: one for statistics, at most one per strategy), whatever the number of ids.
 */
export class GraphStore {
  constructor(private readonly db: Kysely<TrackingDatabase>) {}

  async runsByIds(ids: readonly string[]): Promise<RunsTable[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('tracking.runs')
      .selectAll()
      .where('run_uuid', 'in', [...ids])
      .execute();
  }

  async experimentsByIds(ids: readonly number[]): Promise<ExperimentRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('tracking.experiments')
      .selectAll()
      .where('experiment_id', 'in', [...ids])
      .execute();
  }

  async experimentTags(ids: readonly number[]): Promise<Array<{ experiment_id: number } & KeyValue>> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('tracking.experiment_tags')
      .select(['experiment_id', 'key', 'value'])
      .where('experiment_id', 'in', [...ids])
      .orderBy('key')
      .execute();
  }

  async latestMetrics(runIds: readonly string[]): Promise<LatestMetricRow[]> {
    if (runIds.length === 0) return [];
    return this.db
      .selectFrom('tracking.latest_metrics')
      .select(['run_uuid', 'key', 'value', 'timestamp', 'step'])
      .where('run_uuid', 'in', [...runIds])
      .orderBy('key')
      .execute();
  }

  async params(runIds: readonly string[]): Promise<KeyValueRow[]> {
    if (runIds.length === 0) return [];
    return this.db
      .selectFrom('tracking.params')
      .select(['run_uuid', 'key', 'value'])
      .where('run_uuid', 'in', [...runIds])
      .orderBy('key')
      .execute();
  }

  async tags(runIds: readonly string[]): Promise<KeyValueRow[]> {
    if (runIds.length === 0) return [];
    return this.db
      .selectFrom('tracking.tags')
      .select(['run_uuid', 'key', 'value'])
      .where('run_uuid', 'in', [...runIds])
      .orderBy('key')
      .execute();
  }

  async datasetInputs(runIds: readonly string[]): Promise<DatasetInputRow[]> {
    return runIds.length === 0 ? [] : selectDatasetInputs(this.db, runIds);
  }

  /** Runs per experiment in the given lifecycle stages (experiments without runs are absent). */
  async runCounts(
    experimentIds: readonly number[],
    viewType: ExperimentQuery['viewType'],
  ): Promise<Map<number, number>> {
    if (experimentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('tracking.runs')
      .select(['experiment_id', (eb) => eb.fn.countAll().as('runs')])
      .where('experiment_id', 'in', [...experimentIds])
      .where('lifecycle_stage', 'in', lifecycleStages(viewType))
      .groupBy('experiment_id')
      .execute();
    return new Map(rows.map((row) => [Number(row.experiment_id), Number(row.runs)]));
  }

  /** One keyset page of experiments: `limit` rows after the cursor position, in the requested order. */
  async experimentPage(request: ExperimentPageRequest): Promise<ExperimentRow[]> {
    const direction = request.ascending ? 'asc' : 'desc';
    let query = this.db
      .selectFrom('tracking.experiments as e')
      .selectAll()
      .where(experimentConditions(request));
    if (request.after) {
      const comparator = sql.raw(request.ascending ? '>' : '<');
      const column = sql.ref(`e.${request.orderBy}`);
      query = query.where(
        request.orderBy === 'experiment_id'
          ? sql<boolean>`e.experiment_id ${comparator} ${request.after.id}`
          : sql<boolean>`(${column}, e.experiment_id) ${comparator} (${request.after.value}, ${request.after.id})`,
      );
    }
    if (request.orderBy !== 'experiment_id') query = query.orderBy(`e.${request.orderBy}`, direction);
    return query.orderBy('e.experiment_id', direction).limit(request.limit).execute();
  }

  async experimentCount(request: ExperimentQuery): Promise<number> {
    const row = await this.db
      .selectFrom('tracking.experiments as e')
      .select((eb) => eb.fn.countAll().as('count'))
      .where(experimentConditions(request))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /**
   * The subfolders of folder `parent` ('' for the top) with their experiment and active-run counts,
   * sorted by name. Folders are the `/`-separated prefixes of experiment names, leading slashes
   * ignored (`team/nlp/bert`, Databricks' `/Users/me/bert`); computed in one statement over the
   * experiments whose name starts with the folder's path.
   */
  async experimentFolders(
    parent: string,
    viewType: ExperimentQuery['viewType'],
  ): Promise<ExperimentFolderRow[]> {
    const prefix = folderPrefix(parent);
    const rows = await sql<{ name: string; experiments: string; runs: string; deeper: boolean }>`
      select split_part(rest, '/', 1) as name, count(*) as experiments, coalesce(sum(runs), 0) as runs,
        bool_or(position('/' in substr(rest, position('/' in rest) + 1)) > 0) as deeper
      from (
        select substr(ltrim(e.name, '/'), char_length(${prefix}::text) + 1) as rest,
          (select count(*) from tracking.runs r
            where r.experiment_id = e.experiment_id and r.lifecycle_stage = 'active') as runs
        from tracking.experiments e
        where e.lifecycle_stage in (${sql.join(lifecycleStages(viewType))})
          and ltrim(e.name, '/') like ${`${escapeLike(prefix)}%`}
      ) f
      where position('/' in rest) > 1
      group by 1
      order by split_part(rest, '/', 1) collate "C"`.execute(this.db);
    return rows.rows.map((row) => ({
      name: row.name,
      path: `${prefix}${row.name}`,
      experimentCount: Number(row.experiments),
      runCount: Number(row.runs),
      hasSubfolders: row.deeper,
    }));
  }

  /**
   * Count, min, max, mean (NaN skipped) and last value of each (run, key) over the whole history, read
   * from the chunk summaries (one row per 256 steps), not from the points.
   */
  async metricStats(runIds: readonly string[], keys: readonly string[]): Promise<MetricStatsRow[]> {
    if (runIds.length === 0 || keys.length === 0) return [];
    const rows = await sql<MetricStatsRow>`
      select run_uuid, key, sum(points) as count, min(min_point[1]) as min, max(max_point[1]) as max,
        case when bool_and(value_sum is not null) and sum(value_count) > 0
          then sum(value_sum) / sum(value_count) end as mean,
        (array_agg(last_value order by chunk desc))[1] as last
      from tracking.metric_chunks
      where run_uuid in (${sql.join([...runIds])}) and key in (${sql.join([...keys])})
      group by run_uuid, key
      order by key`.execute(this.db);
    return rows.rows.map((row) => ({
      ...row,
      count: Number(row.count),
      min: row.min === null ? null : Number(row.min),
      max: row.max === null ? null : Number(row.max),
      mean: row.mean === null ? null : Number(row.mean),
      last: Number(row.last),
    }));
  }

  /**
   * Downsamples metric series into at most `maxPoints` buckets each, keeping every bucket's min, max and
   * last point, so spikes survive. A series with no more points than `maxPoints` comes back whole.
   * Buckets are step ranges of equal width; when they span at least a chunk, they are aligned to chunks
   * so the chunk summaries answer without reading the points (the answer is the same either way).
   *
   * `shared`: every series gets the same buckets (spanning all of them) and is always bucketed, so
   * charts can align them by bucket index.
   */
  async downsample(
    series: readonly SeriesRef[],
    options: { maxPoints: number; range?: SeriesRange; shared?: boolean; strategy?: DownsampleStrategy },
  ): Promise<DownsampledSeries[]> {
    if (series.length === 0) return [];
    const range = options.range ?? {};
    const strategy = options.strategy ?? 'auto';
    const stats = await this.seriesStats(series, range);
    const planned: PlannedSeries[] = series.map((ref, index) => ({
      index,
      ref,
      stats: stats[index]!,
      geometry: undefined,
    }));
    const present = planned.filter((p) => p.stats.lo !== undefined);
    // Bucket arithmetic is done in doubles and int8: steps beyond ±2^53 would round and the bucket
    // edges could overflow int8, so such series are not downsampled (every point in range is returned).
    const extreme = present.some(
      ({ stats }) => !Number.isSafeInteger(stats.min) || !Number.isSafeInteger(stats.max),
    );
    const asPoints: PlannedSeries[] = [];
    const byScan: BucketRange[] = [];
    const byChunks: BucketRange[] = [];
    const chunksOnly = strategy === 'auto' && scanCost(present, options.maxPoints) > SCAN_BUDGET_POINTS;
    const geometry = (lo: number, hi: number) => bucketGeometry(lo, hi, options.maxPoints, { chunksOnly });
    const sharedGeometry =
      options.shared && present.length > 0
        ? geometry(Math.min(...present.map((p) => p.stats.lo!)), Math.max(...present.map((p) => p.stats.hi!)))
        : undefined;
    for (const p of present) {
      const { stats } = p;
      if (
        extreme ||
        strategy === 'points' ||
        (strategy === 'auto' && !options.shared && stats.points <= options.maxPoints)
      ) {
        asPoints.push(p);
        continue;
      }
      const g = sharedGeometry ?? geometry(stats.lo!, stats.hi!);
      p.geometry = g;
      const first = Math.floor((stats.lo! - g.base) / g.width);
      const last = Math.floor((stats.hi! - g.base) / g.width);
      const chunkAligned = g.width % CHUNK_STEPS === 0 && g.base % CHUNK_STEPS === 0;
      if (strategy === 'scan' || !chunkAligned) {
        byScan.push({ p, from: first, to: last });
      } else if (stats.lo === stats.min && stats.hi === stats.max) {
        // The whole series: every chunk it has lies in the requested range.
        byChunks.push({ p, from: first, to: last });
      } else {
        // A step range cuts the series: buckets strictly inside it are whole chunks of in-range points;
        // the first and last may hold points outside it, so those two are read point by point.
        byScan.push({ p, from: first, to: first });
        if (last > first) byScan.push({ p, from: last, to: last });
        if (last - first > 1) byChunks.push({ p, from: first + 1, to: last - 1 });
      }
    }
    const [points, scanned, chunked] = await Promise.all([
      this.readPoints(asPoints),
      this.bucketsByScan(byScan),
      this.bucketsByChunks(byChunks),
    ]);
    return planned.map((p): DownsampledSeries => {
      const buckets =
        points.get(p.index) ??
        [...(scanned.get(p.index) ?? []), ...(chunked.get(p.index) ?? [])].sort((a, b) =>
          compareInt64(a.startStep, b.startStep),
        );
      return {
        runId: p.ref.runId,
        key: p.ref.key,
        totalPoints: buckets.reduce((sum, bucket) => sum + bucket.count, 0),
        downsampled: p.geometry !== undefined,
        buckets,
      };
    });
  }

  /** First and last step per series (index probes) and a point count from the chunk summaries. */
  private async seriesStats(series: readonly SeriesRef[], range: SeriesRange): Promise<SeriesStats[]> {
    const start: Int64 = range.startStep ?? INT64_MIN;
    const end: Int64 = range.endStep ?? INT64_MAX;
    const values = sql.join(
      series.map((s, i) => sql`(${i}::int, ${s.runId}::text, ${s.key}::text)`),
      sql`, `,
    );
    const inSeries = sql`m.run_uuid = g.run_uuid and m.key = g.key`;
    const { rows } = await sql<{
      i: number;
      lo: Int64 | null;
      hi: Int64 | null;
      min: Int64 | null;
      max: Int64 | null;
      points: number | string | null;
    }>`
      select g.i,
        (select m.step from tracking.metrics m where ${inSeries} and m.step >= ${start}::int8
           order by m.step asc limit 1) as lo,
        (select m.step from tracking.metrics m where ${inSeries} and m.step <= ${end}::int8
           order by m.step desc limit 1) as hi,
        (select m.step from tracking.metrics m where ${inSeries} order by m.step asc limit 1) as min,
        (select m.step from tracking.metrics m where ${inSeries} order by m.step desc limit 1) as max,
        (select sum(c.points) from tracking.metric_chunks c
          where c.run_uuid = g.run_uuid and c.key = g.key
            and c.chunk >= (${start}::int8 >> ${SHIFT}) and c.chunk <= (${end}::int8 >> ${SHIFT})) as points
      from (values ${values}) as g (i, run_uuid, key)
      order by g.i
    `.execute(this.db);
    return rows.map((row) => {
      const lo = row.lo === null ? undefined : Number(row.lo);
      const hi = row.hi === null ? undefined : Number(row.hi);
      const empty = lo === undefined || hi === undefined || lo > hi;
      return {
        lo: empty ? undefined : lo,
        hi: empty ? undefined : hi,
        loExact: empty ? undefined : row.lo!,
        hiExact: empty ? undefined : row.hi!,
        min: row.min === null ? undefined : Number(row.min),
        max: row.max === null ? undefined : Number(row.max),
        points: Number(row.points ?? 0),
      };
    });
  }

  private async readPoints(series: PlannedSeries[]): Promise<Map<number, Bucket[]>> {
    const result = new Map<number, Bucket[]>();
    if (series.length === 0) return result;
    const values = sql.join(
      series.map(
        (p) =>
          sql`(${p.index}::int, ${p.ref.runId}::text, ${p.ref.key}::text, ${p.stats.loExact!}::int8, ${p.stats.hiExact!}::int8)`,
      ),
      sql`, `,
    );
    const { rows } = await sql<{ i: number; step: Int64; timestamp: Int64; value: number }>`
      select g.i, m.step, m.timestamp, m.value
      from (values ${values}) as g (i, run_uuid, key, lo, hi)
      join tracking.metrics m on m.run_uuid = g.run_uuid and m.key = g.key and m.step between g.lo and g.hi
      order by g.i, m.step, m.timestamp, m.value
    `.execute(this.db);
    for (const row of rows) {
      // Whole series: the points exactly as stored (int64 steps and timestamps stay exact).
      const point = { step: row.step, timestamp: row.timestamp, value: Number(row.value) };
      const finite = Number.isNaN(point.value) ? null : point;
      push(result, row.i, {
        startStep: point.step,
        endStep: point.step,
        count: 1,
        min: finite,
        max: finite,
        last: point,
      });
    }
    return result;
  }

  /**
   * Buckets aggregated from the points: per bucket, one aggregate over its index range (an index-only
   * scan). Unlike a GROUP BY over the whole series, the plan never sorts or spills, whatever the
   * planner guesses about the number of buckets.
   */
  private async bucketsByScan(ranges: BucketRange[]): Promise<Map<number, Bucket[]>> {
    if (ranges.length === 0) return new Map();
    const { rows } = await sql<BucketRow>`
      select g.i, b.bucket, x.count, x.min_point, x.max_point, x.last_point
      from (values ${rangeValues(ranges)}) as g (i, run_uuid, key, lo, hi, base, width, first, last)
      cross join lateral generate_series(g.first, g.last) as b (bucket)
      cross join lateral (
        select count(*) as count,
          min(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as min_point,
          max(array[m.value, m.step, m.timestamp]) filter (where m.value <> 'NaN'::float8) as max_point,
          max(array[m.step, m.timestamp, m.value]) as last_point
        from tracking.metrics m
        where m.run_uuid = g.run_uuid and m.key = g.key
          and m.step >= greatest(g.lo, g.base + b.bucket * g.width)
          and m.step <= least(g.hi, g.base + (b.bucket + 1) * g.width - 1)
      ) x
      where x.count > 0
      order by 1, 2
    `.execute(this.db);
    return toBuckets(rows, ranges);
  }

  /** Buckets merged from chunk summaries (bucket edges are chunk edges, so no point is read). */
  private async bucketsByChunks(ranges: BucketRange[]): Promise<Map<number, Bucket[]>> {
    if (ranges.length === 0) return new Map();
    const { rows } = await sql<BucketRow>`
      select g.i, ((c.chunk << ${SHIFT}) - g.base) / g.width as bucket, sum(c.points) as count,
        min(c.min_point) as min_point, max(c.max_point) as max_point, max(c.last_point) as last_point
      from (values ${rangeValues(ranges)}) as g (i, run_uuid, key, lo, hi, base, width, first, last)
      join tracking.metric_chunks c on c.run_uuid = g.run_uuid and c.key = g.key
        and c.chunk >= ((g.base + g.first * g.width) >> ${SHIFT})
        and c.chunk < ((g.base + (g.last + 1) * g.width) >> ${SHIFT})
      group by 1, 2
      order by 1, 2
    `.execute(this.db);
    return toBuckets(rows, ranges);
  }
}

interface KeyValue {
  key: string;
  value: string;
}

interface BucketRow {
  i: number;
  bucket: number | string;
  count: number | string;
  min_point: number[] | null;
  max_point: number[] | null;
  last_point: number[];
}

/** Buckets `from`..`to` (indexes in the series' geometry) of one series, read one way. */
interface BucketRange {
  p: PlannedSeries;
  from: number;
  to: number;
}

function rangeValues(ranges: BucketRange[]): RawBuilder<unknown> {
  return sql.join(
    ranges.map(({ p, from, to }) => {
      const g = p.geometry!;
      return sql`(${p.index}::int, ${p.ref.runId}::text, ${p.ref.key}::text, ${g.lo}::int8, ${g.hi}::int8, ${g.base}::int8, ${g.width}::int8, ${from}::int8, ${to}::int8)`;
    }),
    sql`, `,
  );
}

function toBuckets(rows: BucketRow[], ranges: BucketRange[]): Map<number, Bucket[]> {
  const geometries = new Map(ranges.map(({ p }) => [p.index, p.geometry!]));
  const result = new Map<number, Bucket[]>();
  for (const row of rows) {
    const g = geometries.get(row.i)!;
    const bucket = Number(row.bucket);
    const start = g.base + bucket * g.width;
    push(result, row.i, {
      startStep: Math.max(start, g.lo),
      endStep: Math.min(start + g.width - 1, g.hi),
      count: Number(row.count),
      min: valueFirst(row.min_point),
      max: valueFirst(row.max_point),
      last: {
        step: Number(row.last_point[0]),
        timestamp: Number(row.last_point[1]),
        value: Number(row.last_point[2]),
      },
    });
  }
  return result;
}

function valueFirst(point: number[] | null): Point | null {
  if (!point) return null;
  return { value: Number(point[0]), step: Number(point[1]), timestamp: Number(point[2]) };
}

function push<T>(map: Map<number, T[]>, key: number, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** A folder's path as a name prefix: `a/b` → `a/b/`, '' → '' (slashes around the path ignored). */
function folderPrefix(folder: string): string {
  const path = folder.replace(/^\/+|\/+$/g, '');
  return path === '' ? '' : `${path}/`;
}

function experimentConditions(request: ExperimentQuery): RawBuilder<boolean> {
  const conditions: RawBuilder<boolean>[] = [
    sql<boolean>`e.lifecycle_stage in (${sql.join(lifecycleStages(request.viewType))})`,
  ];
  if (request.nameContains !== undefined)
    conditions.push(sql<boolean>`e.name ilike ${`%${escapeLike(request.nameContains)}%`}`);
  if (request.nameLike !== undefined) conditions.push(sql<boolean>`e.name like ${request.nameLike}`);
  if (request.folder !== undefined) {
    // In the folder, not in a subfolder: no `/` after the folder's path.
    const prefix = folderPrefix(request.folder);
    conditions.push(
      sql<boolean>`ltrim(e.name, '/') like ${`${escapeLike(prefix)}%`}
        and position('/' in substr(ltrim(e.name, '/'), char_length(${prefix}::text) + 1)) = 0`,
    );
  }
  return sql<boolean>`(${sql.join(conditions, sql` and `)})`;
}

/** Experiment cursors: the sort value and id of a row, opaque to clients. */
export function encodeExperimentCursor(value: string | number, id: number): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeExperimentCursor(
  cursor: string,
  orderBy: ExperimentOrderField,
): { value: string | number; id: number } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[1])) {
      const [value, id] = parsed as [unknown, number];
      const expected = orderBy === 'name' ? 'string' : 'number';
      if (typeof value === expected) return { value: value as string | number, id };
    }
  } catch {
    // reported below
  }
  throw MlflowError.invalidParameter(`Invalid cursor '${cursor}' (it must come from this query's pageInfo).`);
}
