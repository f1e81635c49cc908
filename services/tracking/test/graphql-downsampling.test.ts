import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Database } from '@mast/common';
import { BACKENDS, openTestDatabase } from '@mast/test-support';
import { sql } from 'kysely';
import { bucketGeometry, CHUNK_STEPS } from '../src/domain/buckets.js';
import { prepareTrackingDatabase } from '../src/plugin.js';
import { type Bucket, type DownsampleStrategy, GraphStore, type Point } from '../src/store/graph-store.js';
import { insertRun, writeLogBatch } from '../src/store/run-store.js';
import type { TrackingDatabase } from '../src/store/schema.js';

const T0 = 1_700_000_000_000;

/** A deterministic pseudo-random generator (tests must not flake). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The buckets the store must return, computed from the points in memory. */
function reference(
  points: Point[],
  lo: number,
  hi: number,
  maxPoints: number,
  options: { chunksOnly?: boolean } = {},
): Bucket[] {
  const g = bucketGeometry(lo, hi, maxPoints, options);
  const buckets = new Map<number, Bucket>();
  const before = (a: Point, b: Point) =>
    a.value !== b.value ? a.value < b.value : a.step !== b.step ? a.step < b.step : a.timestamp < b.timestamp;
  const later = (a: Point, b: Point) =>
    a.step !== b.step
      ? a.step > b.step
      : a.timestamp !== b.timestamp
        ? a.timestamp > b.timestamp
        : a.value > b.value || (Number.isNaN(a.value) && !Number.isNaN(b.value));
  for (const p of points) {
    if (p.step < lo || p.step > hi) continue;
    const index = Math.floor((Number(p.step) - g.base) / g.width);
    const start = g.base + index * g.width;
    const bucket = buckets.get(index) ?? {
      startStep: Math.max(start, lo),
      endStep: Math.min(start + g.width - 1, hi),
      count: 0,
      min: null,
      max: null,
      last: p,
    };
    bucket.count += 1;
    if (!Number.isNaN(p.value)) {
      if (!bucket.min || before(p, bucket.min)) bucket.min = p;
      if (!bucket.max || before(bucket.max, p)) bucket.max = p;
    }
    if (later(p, bucket.last)) bucket.last = p;
    buckets.set(index, bucket);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, bucket]) => bucket);
}

describe.each(BACKENDS)('metric downsampling in SQL (%s)', (backend) => {
  let database: Database<TrackingDatabase>;
  let graph: GraphStore;
  let runId: string;
  const series: Point[] = [];

  async function log(id: string, key: string, points: Point[]) {
    for (let i = 0; i < points.length; i += 1000) {
      const metrics = points.slice(i, i + 1000).map((p) => ({ key, ...p }));
      await writeLogBatch(database.db, id, { metrics, params: [], tags: [] });
    }
  }

  async function newRun(): Promise<string> {
    const id = `run${Math.random().toString(16).slice(2)}`;
    await insertRun(database.db, {
      runId: id,
      experimentId: 0,
      userId: '',
      runName: id,
      startTime: T0,
      tags: [],
    });
    return id;
  }

  beforeAll(async () => {
    database = await openTestDatabase<TrackingDatabase>(backend);
    await prepareTrackingDatabase({ db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/' });
    graph = new GraphStore(database.db);
    runId = await newRun();
    const next = random(42);
    let level = 0;
    for (let step = 0; step < 20_000; step++) {
      level += next() - 0.5;
      series.push({ step, timestamp: T0 + step, value: level });
    }
    series[7_777]!.value = 1e6; // a one-point spike up
    series[12_345]!.value = -1e6; // and down
    series[3]!.value = NaN;
    await log(runId, 'loss', series);
  });
  afterAll(async () => database?.close());

  test.each<DownsampleStrategy>(['auto', 'scan', 'chunks'])(
    'strategy %s: at most maxPoints buckets, exact min/max/last per bucket, spikes kept',
    async (strategy) => {
      for (const maxPoints of [100, 50]) {
        const [result] = await graph.downsample([{ runId, key: 'loss' }], { maxPoints, strategy });
        expect(result!.buckets.length).toBeLessThanOrEqual(maxPoints);
        expect(result!.buckets).toEqual(reference(series, 0, 19_999, maxPoints));
      }
      // 50 buckets of 400 steps become 40 of 512 (two chunks): the chunk summaries can answer.
      expect(bucketGeometry(0, 19_999, 50)).toEqual({ lo: 0, hi: 19_999, base: 0, width: 512 });
      const [result] = await graph.downsample([{ runId, key: 'loss' }], { maxPoints: 50, strategy });
      expect(result!.downsampled).toBe(true);
      expect(result!.totalPoints).toBe(20_000);
      const maxima = result!.buckets.map((b) => b.max!.value);
      const minima = result!.buckets.map((b) => b.min!.value);
      expect(Math.max(...maxima)).toBe(1e6);
      expect(Math.min(...minima)).toBe(-1e6);
      expect(result!.buckets.at(-1)!.last).toEqual(series.at(-1));
    },
  );

  test('past 200,000 points to read one by one, auto buckets become whole chunks: fewer, still exact', async () => {
    // 11 × 20,000 points in buckets of 20 steps would be read point by point: 220,000 > the budget.
    const refs = Array.from({ length: 11 }, () => ({ runId, key: 'loss' }));
    const coarse = await graph.downsample(refs, { maxPoints: 1000 });
    const expected = reference(series, 0, 19_999, 1000, { chunksOnly: true });
    expect(expected).toHaveLength(Math.ceil(20_000 / CHUNK_STEPS));
    for (const result of coarse) expect(result.buckets).toEqual(expected);
    expect(Math.max(...coarse[0]!.buckets.map((b) => b.max!.value))).toBe(1e6);
    // Within the budget (or with a strategy forced) the same request gets every bucket it asked for.
    const [fine] = await graph.downsample(refs.slice(0, 10), { maxPoints: 1000 });
    expect(fine!.buckets).toEqual(reference(series, 0, 19_999, 1000));
    expect(fine!.buckets).toHaveLength(1000);
  });

  test('a series no longer than maxPoints comes back whole, NaN included', async () => {
    const id = await newRun();
    const points = [
      { step: 0, timestamp: T0, value: 1 },
      { step: 1, timestamp: T0 + 1, value: NaN },
      { step: 1, timestamp: T0 + 2, value: 3 },
      { step: 5, timestamp: T0 + 3, value: Infinity },
    ];
    await log(id, 'acc', points);
    const [result] = await graph.downsample([{ runId: id, key: 'acc' }], { maxPoints: 10 });
    expect(result!.downsampled).toBe(false);
    expect(result!.buckets.map((b) => b.last)).toEqual(points);
    expect(result!.buckets[1]!.min).toBeNull();
    // Fewer buckets than points: the NaN bucket keeps its last point, min/max skip NaN.
    const [bucketed] = await graph.downsample([{ runId: id, key: 'acc' }], { maxPoints: 2 });
    expect(bucketed!.buckets).toEqual(reference(points, 0, 5, 2));
  });

  test('a step range is honoured, with the same buckets whichever strategy reads it', async () => {
    const range = { startStep: 1_000, endStep: 9_999 };
    const expected = reference(series, 1_000, 9_999, 50);
    for (const strategy of ['auto', 'scan'] as const) {
      const [result] = await graph.downsample([{ runId, key: 'loss' }], { maxPoints: 50, range, strategy });
      expect(result!.buckets).toEqual(expected);
      expect(result!.totalPoints).toBe(9_000);
    }
    // Wide buckets over a cut: whole chunks inside, the two edge buckets read point by point.
    const zoom = { startStep: 300, endStep: 19_700 };
    expect(bucketGeometry(300, 19_700, 20)).toMatchObject({ base: 256, width: 1024 });
    for (const strategy of ['auto', 'scan', 'chunks'] as const) {
      const [result] = await graph.downsample([{ runId, key: 'loss' }], {
        maxPoints: 20,
        range: zoom,
        strategy,
      });
      expect(result!.buckets).toEqual(reference(series, 300, 19_700, 20));
      expect(result!.totalPoints).toBe(19_401);
    }
    const [empty] = await graph.downsample([{ runId, key: 'loss' }], {
      maxPoints: 50,
      range: { startStep: 50_000, endStep: 60_000 },
    });
    expect(empty!.buckets).toEqual([]);
  });

  test('shared buckets align several series; unknown series are empty', async () => {
    const other = await newRun();
    const points = Array.from({ length: 3_000 }, (_, i) => ({
      step: 5_000 + i * 3,
      timestamp: T0 + i,
      value: i % 2,
    }));
    await log(other, 'loss', points);
    const result = await graph.downsample(
      [
        { runId, key: 'loss' },
        { runId: other, key: 'loss' },
        { runId, key: 'missing' },
      ],
      { maxPoints: 40, shared: true },
    );
    const g = bucketGeometry(0, 19_999, 40);
    expect(result[0]!.buckets).toEqual(reference(series, 0, 19_999, 40));
    for (const bucket of result[1]!.buckets) {
      expect((Number(bucket.startStep) - g.base) % g.width).toBe(0);
    }
    expect(result[1]!.buckets).toEqual(reference(points, 0, 19_999, 40));
    expect(result[2]).toEqual({ runId, key: 'missing', totalPoints: 0, downsampled: false, buckets: [] });
  });

  test('chunk summaries follow duplicates, deletes, updates and truncation', async () => {
    const id = await newRun();
    const points = Array.from({ length: 2_000 }, (_, i) => ({ step: i, timestamp: T0 + i, value: i }));
    await log(id, 'm', points);
    await log(id, 'm', points.slice(0, 500)); // duplicates are ignored
    const check = async (expected: Point[]) => {
      const [chunks] = await graph.downsample([{ runId: id, key: 'm' }], {
        maxPoints: 3,
        strategy: 'chunks',
        shared: true,
      });
      const [scan] = await graph.downsample([{ runId: id, key: 'm' }], {
        maxPoints: 3,
        strategy: 'scan',
        shared: true,
      });
      expect(chunks!.buckets).toEqual(scan!.buckets);
      expect(chunks!.totalPoints).toBe(expected.length);
    };
    expect(CHUNK_STEPS).toBe(256);
    await check(points);
    await sql`delete from tracking.metrics where run_uuid = ${id} and step >= 1000`.execute(database.db);
    await check(points.slice(0, 1000));
    await sql`update tracking.metrics set value = -5 where run_uuid = ${id} and step = 300`.execute(
      database.db,
    );
    const [updated] = await graph.downsample([{ runId: id, key: 'm' }], { maxPoints: 3, strategy: 'chunks' });
    expect(Math.min(...updated!.buckets.map((b) => b.min!.value))).toBe(-5);
    await check(points.slice(0, 1000));
    await sql`truncate tracking.metrics`.execute(database.db);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from tracking.metric_chunks`.execute(
      database.db,
    );
    expect(rows[0]!.n).toBe(0);
  });
});
