import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, type Database } from '@mast/common';
import { BACKENDS, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { createTracking, prepareTrackingDatabase } from '../src/plugin.js';
import type { TrackingDatabase } from '../src/store/schema.js';

const STATS_QUERY = `query Stats($id: ID!, $keys: [String!]!) {
  run(id: $id) { metricStats(keys: $keys) { key count min max mean last } latestMetrics { key value } }
}`;
const FOLDERS_QUERY = `query Folders($parent: String) {
  experimentFolders(parent: $parent) { name path experimentCount runCount hasSubfolders }
}`;
const IN_FOLDER_QUERY = `query InFolder($folder: String) {
  experiments(folder: $folder, orderBy: { field: NAME, direction: ASC }) { nodes { name } totalCount }
}`;

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

/**
 * The tracking subgraph's fields behind the runs table's min/max columns (`Run.metricStats`, read from
 * the chunk summaries) and the experiments list's folder tree (`experimentFolders`, `experiments(folder)`)
 * of issue 14 (ui.md §5.3).
 */
describe.each(BACKENDS)('GraphQL fields of the runs table and experiment folders (%s)', (backend) => {
  let database: Database<TrackingDatabase>;
  let app: FastifyInstance;
  let http: HttpClient;

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
    return (await http.post('/graphql', { query, variables })).body as GraphQLBody<T>;
  }

  async function createExperiment(name: string): Promise<string> {
    const answer = await http.post('/api/2.0/mlflow/experiments/create', { name });
    expect(answer.status).toBe(200);
    return answer.body.experiment_id;
  }

  async function createRun(
    experimentId: string,
    metrics: Array<{ key: string; value: number; step: number }>,
  ) {
    const run = await http.post('/api/2.0/mlflow/runs/create', { experiment_id: experimentId });
    const runId = run.body.run.info.run_id as string;
    // Several batches, so chunk summaries are merged on conflict as well as created.
    for (let i = 0; i === 0 || i < metrics.length; i += 700) {
      const batch = metrics.slice(i, i + 700).map((m) => ({ ...m, timestamp: 1000 + m.step }));
      expect(
        (await http.post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics: batch })).status,
      ).toBe(200);
    }
    return runId;
  }

  beforeAll(async () => {
    database = await openTestDatabase<TrackingDatabase>(backend);
    const deps = { db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/' };
    await prepareTrackingDatabase(deps);
    app = createHttpApp({ logLevel: 'silent', bodyLimit: 4 * 1024 * 1024 }).app;
    const tracking = createTracking(deps);
    await tracking.registerRest(app);
    tracking.registerSubgraph(app);
    http = new HttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  type Stats = {
    run: {
      metricStats: Array<{
        key: string;
        count: number;
        min: number | string | null;
        max: number | null;
        mean: number | null;
        last: number;
      }>;
      latestMetrics: Array<{ key: string; value: number }>;
    };
  };

  test('metricStats: count, min, max, mean and last over many chunks agree with the points; NaN skipped', async () => {
    const experiment = await createExperiment('stats');
    // 2,000 steps (8 chunks of 256) of a noisy curve with its minimum and maximum in the middle.
    const loss = Array.from({ length: 2000 }, (_, step) => ({
      key: 'loss',
      step,
      value: step === 1234 ? -5 : step === 777 ? 42 : Math.sin(step) + 2,
    }));
    const nan = [0, 1, 2].map((step) => ({ key: 'diverged', step, value: 'NaN' as unknown as number }));
    const runId = await createRun(experiment, [...loss, ...nan, { key: 'acc', step: 3, value: 0.5 }]);
    // A late point at an early step: it counts but is not the last (the last is by step).
    expect(
      (
        await http.post('/api/2.0/mlflow/runs/log-metric', {
          run_id: runId,
          key: 'loss',
          value: 100,
          step: 5,
          timestamp: 999_999,
        })
      ).status,
    ).toBe(200);

    const answer = await graphql<Stats>(STATS_QUERY, { id: runId, keys: ['loss', 'diverged', 'missing'] });
    expect(answer.errors).toBeUndefined();
    const values = [...loss.map((p) => p.value), 100];
    expect(answer.data!.run.metricStats).toEqual([
      { key: 'diverged', count: 3, min: null, max: null, mean: null, last: 'NaN' },
      {
        key: 'loss',
        count: 2001,
        min: Math.min(...values),
        max: Math.max(...values),
        mean: expect.any(Number),
        last: loss.at(-1)!.value,
      },
    ]);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(answer.data!.run.metricStats[1]!.mean).toBeCloseTo(mean, 9);
    expect(answer.data!.run.latestMetrics.find((m) => m.key === 'loss')!.value).toBe(loss.at(-1)!.value);
  });

  test('metricStats: batched for a page of runs; an empty key list is an error', async () => {
    const experiment = await createExperiment('stats-page');
    for (let i = 0; i < 3; i++) {
      await createRun(experiment, [
        { key: 'loss', step: 0, value: 10 + i },
        { key: 'loss', step: 300, value: i },
      ]);
    }
    const page = await graphql<{ runs: { nodes: Stats['run'][] } }>(
      `query Page($ids: [ID!]!) { runs(experimentIds: $ids) {
        nodes { metricStats(keys: ["loss"]) { key count min max mean last } latestMetrics { key value } } } }`,
      { ids: [experiment] },
    );
    expect(page.errors).toBeUndefined();
    const mins = page.data!.runs.nodes.map((run) => run.metricStats[0]!.min).sort();
    expect(mins).toEqual([0, 1, 2]);
    expect(page.data!.runs.nodes.every((run) => run.metricStats[0]!.count === 2)).toBe(true);

    expect(page.data!.runs.nodes.map((run) => run.metricStats[0]!.mean).sort()).toEqual([5, 6, 7]);

    const search = await http.post('/api/2.0/mlflow/runs/search', { experiment_ids: [experiment] });
    const empty = await graphql<Stats>(STATS_QUERY, { id: search.body.runs[0].info.run_id, keys: [] });
    expect(empty.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
  });

  test('metricStats: the mean stays exact under concurrent log-batches to one series', async () => {
    const experiment = await createExperiment('stats-concurrent');
    const runId = await createRun(experiment, []);
    // 8 clients × 300 points, interleaved steps, so their batches upsert the same chunk summaries.
    const clients = Array.from({ length: 8 }, (_, c) =>
      Array.from({ length: 300 }, (_, i) => ({
        key: 'loss',
        step: i * 8 + c,
        value: c * 1000 + i,
        timestamp: 1,
      })),
    );
    const answers = await Promise.all(
      clients.map((metrics) => http.post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(clients.map(() => 200));
    const values = clients.flat().map((point) => point.value);
    const stats = (await graphql<Stats>(STATS_QUERY, { id: runId, keys: ['loss'] })).data!.run
      .metricStats[0]!;
    expect(stats.count).toBe(values.length);
    expect(stats.mean).toBeCloseTo(values.reduce((sum, value) => sum + value, 0) / values.length, 9);
  });

  test('metricStats: no mean for a series with a chunk summarised before sums were kept (migration 0007)', async () => {
    const experiment = await createExperiment('stats-legacy');
    const runId = await createRun(experiment, [
      { key: 'loss', step: 0, value: 1 },
      { key: 'loss', step: 300, value: 3 },
    ]);
    // A summary as migration 0007 leaves an older one: no sum.
    await sql`update tracking.metric_chunks set value_sum = null, value_count = null
      where run_uuid = ${runId} and chunk = 0`.execute(database.db);
    const answer = await graphql<Stats>(STATS_QUERY, { id: runId, keys: ['loss'] });
    expect(answer.data!.run.metricStats).toEqual([
      { key: 'loss', count: 2, min: 1, max: 3, mean: null, last: 3 },
    ]);
    // A later point in that chunk does not make the sum whole again; rewriting the chunk's points does.
    await http.post('/api/2.0/mlflow/runs/log-metric', {
      run_id: runId,
      key: 'loss',
      value: 2,
      step: 1,
      timestamp: 1,
    });
    expect(
      (await graphql<Stats>(STATS_QUERY, { id: runId, keys: ['loss'] })).data!.run.metricStats[0]!.mean,
    ).toBeNull();
    await sql`update tracking.metrics set value = value where run_uuid = ${runId} and step = 0`.execute(
      database.db,
    );
    expect(
      (await graphql<Stats>(STATS_QUERY, { id: runId, keys: ['loss'] })).data!.run.metricStats[0]!.mean,
    ).toBe(2);
  });

  type Folders = {
    experimentFolders: Array<{
      name: string;
      path: string;
      experimentCount: number;
      runCount: number;
      hasSubfolders: boolean;
    }>;
  };
  type InFolder = { experiments: { nodes: Array<{ name: string }>; totalCount: number } };

  test('experimentFolders: `/` paths (leading slash ignored) with experiment and run counts per folder', async () => {
    const bert = await createExperiment('team/nlp/bert');
    await createExperiment('team/nlp/gpt-v1.2');
    const resnet = await createExperiment('team/vision/resnet');
    await createExperiment('/Users/me/scratch');
    await createExperiment('team/100%_done');
    const deleted = await createExperiment('team/old/gone');
    expect((await http.post('/api/2.0/mlflow/experiments/delete', { experiment_id: deleted })).status).toBe(
      200,
    );
    for (let i = 0; i < 3; i++) await createRun(bert, []);
    await createRun(resnet, []);

    const top = await graphql<Folders>(FOLDERS_QUERY, {});
    expect(top.errors).toBeUndefined();
    expect(top.data!.experimentFolders).toEqual([
      { name: 'Users', path: 'Users', experimentCount: 1, runCount: 0, hasSubfolders: true },
      { name: 'team', path: 'team', experimentCount: 4, runCount: 4, hasSubfolders: true },
    ]);
    const team = await graphql<Folders>(FOLDERS_QUERY, { parent: 'team' });
    expect(team.data!.experimentFolders).toEqual([
      { name: 'nlp', path: 'team/nlp', experimentCount: 2, runCount: 3, hasSubfolders: false },
      { name: 'vision', path: 'team/vision', experimentCount: 1, runCount: 1, hasSubfolders: false },
    ]);
    // `%` and `_` in a folder are plain characters, not LIKE wildcards.
    expect((await graphql<Folders>(FOLDERS_QUERY, { parent: 'tea%' })).data!.experimentFolders).toEqual([]);

    const names = async (folder: string | null) => {
      const answer = await graphql<InFolder>(IN_FOLDER_QUERY, { folder });
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.experiments.totalCount).toBe(answer.data!.experiments.nodes.length);
      return answer.data!.experiments.nodes.map((e) => e.name);
    };
    expect(await names('team/nlp')).toEqual(['team/nlp/bert', 'team/nlp/gpt-v1.2']);
    // Directly in the folder only, not in its subfolders.
    expect(await names('team')).toEqual(['team/100%_done']);
    expect(await names('/Users/me/')).toEqual(['/Users/me/scratch']);
    // '' is the top level: names without a folder (the Default experiment and 'stats' above).
    expect(await names('')).toEqual(expect.arrayContaining(['Default', 'stats']));
    expect((await names('')).some((name) => name.includes('/'))).toBe(false);
  });

  test('experimentFolders: 5,000 experiments and 50,000 runs, one folder level per request (timed)', async () => {
    // Seeded in SQL: 50 teams × 100 experiments, 10 runs each.
    await sql`
      insert into tracking.experiments (name, artifact_location, creation_time, last_update_time)
      select 'org/team-' || lpad((i % 50)::text, 2, '0') || '/exp-' || i, 'mlflow-artifacts:/x', 0, 0
      from generate_series(1, 5000) as i`.execute(database.db);
    await sql`
      insert into tracking.runs (run_uuid, experiment_id, name, status, start_time, artifact_uri)
      select md5(e.experiment_id::text || '-' || r), e.experiment_id, 'r', 'FINISHED', 0, 'x'
      from tracking.experiments e cross join generate_series(1, 10) as r
      where e.name like 'org/%'`.execute(database.db);
    const timed = async (parent: string) => {
      const started = performance.now();
      const answer = await graphql<Folders>(FOLDERS_QUERY, { parent });
      expect(answer.errors).toBeUndefined();
      return { folders: answer.data!.experimentFolders, ms: Math.round(performance.now() - started) };
    };
    const top = await timed('');
    expect(top.folders.find((f) => f.name === 'org')).toEqual({
      name: 'org',
      path: 'org',
      experimentCount: 5000,
      runCount: 50_000,
      hasSubfolders: true,
    });
    const org = await timed('org');
    expect(org.folders).toHaveLength(50);
    expect(org.folders[7]).toEqual({
      name: 'team-07',
      path: 'org/team-07',
      experimentCount: 100,
      runCount: 1000,
      hasSubfolders: false,
    });
    console.log(
      `${backend}: experimentFolders over 5,000 experiments: top level ${top.ms} ms, org/ ${org.ms} ms`,
    );
  });
});
