import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  API,
  createExperiment,
  createRunId,
  expectEmptyOk,
  expectError,
  getRun,
  logBatch,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/**
 * SearchRuns (spec §5.1, §5.2, §5.4) over a fixed set of runs in one experiment:
 *
 * | run | name  | start | status   | end  | user | metrics                         | params                         | tags                          | datasets         |
 * |-----|-------|-------|----------|------|------|---------------------------------|--------------------------------|-------------------------------|------------------|
 * | r1  | alpha | 1000  | FINISHED | 1500 | ada  | acc .9, loss .1, "my metric" 1  | model LogisticRegression, a.b x, depth 3 | team risk, x-y 1, env Prod | train/d1 training |
 * | r2  | beta  | 2000  | RUNNING  |      | bob  | acc .5, loss NaN                | model RandomForest, depth 10   | team fraud                    | eval/d2 eval     |
 * | r3  | gamma | 3000  | FAILED   | 3500 | ada  | acc .7                          | depth 5                        | env prod                      |                  |
 * | r4  | delta | 4000  | RUNNING  |      |      |                                 | model logistic                 |                               |                  |
 * | r5  | gone  | 5000  | deleted  |      |      | acc 1                           |                                |                               |                  |
 *
 * plus `r6` (start 6000, acc .95) in a second experiment.
 */
describe.each(BACKENDS)('search runs (%s)', (backend) => {
  let server: TrackingServer;
  let exp: string;
  let exp2: string;
  const r: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    const http = server.client;
    exp = await createExperiment(http);
    exp2 = await createExperiment(http);
    const run = async (name: string, start: number, user?: string) =>
      createRunId(http, exp, { run_name: name, start_time: start, ...(user ? { user_id: user } : {}) });
    r.r1 = await run('alpha', 1000, 'ada');
    r.r2 = await run('beta', 2000, 'bob');
    r.r3 = await run('gamma', 3000, 'ada');
    r.r4 = await run('delta', 4000);
    r.r5 = await run('gone', 5000);
    r.r6 = await createRunId(http, exp2, { run_name: 'other', start_time: 6000 });

    const m = (key: string, value: number | string, step = 0, timestamp = 1) => ({
      key,
      value,
      timestamp,
      step,
    });
    await logBatch(http, r.r1, {
      metrics: [m('acc', 0.9), m('loss', 5, 0), m('loss', 0.1, 1), m('my metric', 1)],
      params: [
        { key: 'model', value: 'LogisticRegression' },
        { key: 'a.b', value: 'x' },
        { key: 'depth', value: '3' },
      ],
      tags: [
        { key: 'team', value: 'risk' },
        { key: 'x-y', value: '1' },
        { key: 'env', value: 'Prod' },
      ],
    });
    await logBatch(http, r.r2, {
      metrics: [m('acc', 0.5), m('loss', 'NaN')],
      params: [
        { key: 'model', value: 'RandomForest' },
        { key: 'depth', value: '10' },
      ],
      tags: [{ key: 'team', value: 'fraud' }],
    });
    await logBatch(http, r.r3, {
      metrics: [m('acc', 0.7)],
      params: [{ key: 'depth', value: '5' }],
      tags: [{ key: 'env', value: 'prod' }],
    });
    await logBatch(http, r.r4, { params: [{ key: 'model', value: 'logistic' }] });
    await logBatch(http, r.r5, { metrics: [m('acc', 1)] });
    await logBatch(http, r.r6, { metrics: [m('acc', 0.95)] });
    const post = (path: string, body: object) => http.post(`${API}${path}`, body);
    for (const [runId, status, end_time] of [
      [r.r1, 'FINISHED', 1500],
      [r.r3, 'FAILED', 3500],
    ] as const) {
      expect((await post('/runs/update', { run_id: runId, status, end_time })).status).toBe(200);
    }
    const ds = (name: string, digest: string) => ({ name, digest, source_type: 'local', source: '{}' });
    expectEmptyOk(
      await post('/runs/log-inputs', {
        run_id: r.r1,
        datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: ds('train', 'd1') }],
      }),
    );
    expectEmptyOk(
      await post('/runs/log-inputs', {
        run_id: r.r2,
        datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'eval' }], dataset: ds('eval', 'd2') }],
      }),
    );
    expectEmptyOk(await post('/runs/delete', { run_id: r.r5 }));
  });
  afterAll(async () => server.close());

  const search = (body: Record<string, unknown>) =>
    server.client.post(`${API}/runs/search`, { experiment_ids: [exp], ...body });

  /** The names (r1…r6) of the runs a search returns, in order. */
  async function names(body: Record<string, unknown>): Promise<string[]> {
    const response = await search(body);
    expect(response.status).toBe(200);
    const byId = Object.fromEntries(Object.entries(r).map(([name, id]) => [id, name]));
    return (response.body.runs ?? []).map((run: any) => byId[run.info.run_id]);
  }
  const filtered = (filter: string) => names({ filter });

  describe('response', () => {
    test('runs carry info, latest metrics, params, tags and dataset inputs (not model inputs/outputs)', async () => {
      const response = await search({ filter: `attributes.run_id = '${r.r1}'` });
      expect(response.body.next_page_token).toBeUndefined();
      expect(response.body.runs).toHaveLength(1);
      const full = await getRun(server.client, r.r1);
      expect(response.body.runs[0]).toEqual({ info: full.info, data: full.data, inputs: full.inputs });
      expect(full.info).toMatchObject({
        status: 'FINISHED',
        end_time: 1500,
        user_id: 'ada',
        run_name: 'alpha',
      });
      expect(full.data.metrics).toEqual([
        { key: 'acc', value: 0.9, timestamp: 1, step: 0 },
        { key: 'loss', value: 0.1, timestamp: 1, step: 1 },
        { key: 'my metric', value: 1, timestamp: 1, step: 0 },
      ]);
      expect(full.inputs.dataset_inputs).toHaveLength(1);
    });

    test('no match is {}; experiments are searched together; unknown experiments match nothing', async () => {
      expect((await search({ filter: 'metrics.acc > 100' })).body).toEqual({});
      expect(await names({ experiment_ids: [exp, Number(exp2)] })).toEqual(['r6', 'r4', 'r3', 'r2', 'r1']);
      expect(await names({ experiment_ids: ['123456'] })).toEqual([]);
      expect(await names({ experiment_ids: [] })).toEqual([]);
    });
  });

  describe('filter', () => {
    test('metrics: every comparator on the latest value; absent keys never match, NaN compares as 0', async () => {
      expect(await filtered('metrics.acc > 0.6')).toEqual(['r3', 'r1']);
      expect(await filtered('metrics.acc >= 0.7')).toEqual(['r3', 'r1']);
      expect(await filtered('metrics.acc < 0.7')).toEqual(['r2']);
      expect(await filtered('metrics.acc <= 0.7')).toEqual(['r3', 'r2']);
      expect(await filtered('metrics.acc = 0.5')).toEqual(['r2']);
      expect(await filtered('metrics.acc != 0.5')).toEqual(['r3', 'r1']);
      expect(await filtered('metric.acc > -1')).toEqual(['r3', 'r2', 'r1']);
      // loss: r1's latest is 0.1 (the 5 at step 0 is history); r2's is NaN, which MLflow's SQL store keeps
      // as 0 (with an is_nan flag its filters ignore), so it compares as 0.
      expect(await filtered('metrics.loss > 1')).toEqual([]);
      expect(await filtered('metrics.loss = 0.1')).toEqual(['r1']);
      expect(await filtered('metrics.loss < 1000')).toEqual(['r2', 'r1']);
      expect(await filtered('metrics.loss >= -1e308')).toEqual(['r2', 'r1']);
      expect(await filtered('metrics.loss = 0')).toEqual(['r2']);
      expect(await filtered('metrics.loss != 0')).toEqual(['r1']);
      expect(await filtered('metrics."my metric" = 1')).toEqual(['r1']);
      expect(await filtered('metrics.`my metric` >= 1')).toEqual(['r1']);
      expect(await filtered('metrics.acc > 1e400')).toEqual([]);
    });

    test('params: = != LIKE ILIKE; != skips runs without the param', async () => {
      expect(await filtered("params.model = 'RandomForest'")).toEqual(['r2']);
      expect(await filtered("params.model != 'RandomForest'")).toEqual(['r4', 'r1']);
      expect(await filtered("params.model LIKE 'Log%'")).toEqual(['r1']);
      expect(await filtered("params.model like 'Log%'")).toEqual(['r1']);
      expect(await filtered("params.model ILIKE 'log%'")).toEqual(['r4', 'r1']);
      expect(await filtered("params.model LIKE 'RandomFores_'")).toEqual(['r2']);
      expect(await filtered("params.model LIKE '%'")).toEqual(['r4', 'r2', 'r1']);
      expect(await filtered('params.model = "RandomForest"')).toEqual(['r2']);
      expect(await filtered('params."a.b" = \'x\'')).toEqual(['r1']);
      expect(await filtered("params.`a.b` = 'x'")).toEqual(['r1']);
      expect(await filtered("parameters.depth = '10'")).toEqual(['r2']);
      expect(await filtered("param.depth = '3' and params.model = 'LogisticRegression'")).toEqual(['r1']);
    });

    test('tags: = != LIKE ILIKE, quoted keys, system tags', async () => {
      expect(await filtered("tags.team = 'risk'")).toEqual(['r1']);
      expect(await filtered("tags.team != 'risk'")).toEqual(['r2']);
      expect(await filtered("tags.env LIKE 'prod'")).toEqual(['r3']);
      expect(await filtered("tags.env ILIKE 'PROD'")).toEqual(['r3', 'r1']);
      expect(await filtered('tags."x-y" = \'1\'')).toEqual(['r1']);
      expect(await filtered("tag.`x-y` = '1'")).toEqual(['r1']);
      expect(await filtered('tags."mlflow.runName" = \'gamma\'')).toEqual(['r3']);
    });

    test('IS NULL / IS NOT NULL on params and tags', async () => {
      expect(await filtered('params.model IS NULL')).toEqual(['r3']);
      expect(await filtered('params.model IS NOT NULL')).toEqual(['r4', 'r2', 'r1']);
      expect(await filtered('tags.env is null')).toEqual(['r4', 'r2']);
      expect(await filtered('tags.env IS NOT NULL and params.depth IS NOT NULL')).toEqual(['r3', 'r1']);
    });

    test('string attributes: status, run_name (and aliases), user_id, artifact_uri, run_id', async () => {
      expect(await filtered("attributes.status = 'FINISHED'")).toEqual(['r1']);
      expect(await filtered("status != 'RUNNING'")).toEqual(['r3', 'r1']);
      expect(await filtered("attribute.status LIKE 'F%'")).toEqual(['r3', 'r1']);
      expect(await filtered("attr.status ILIKE 'f%'")).toEqual(['r3', 'r1']);
      expect(await filtered("run.status = 'RUNNING'")).toEqual(['r4', 'r2']);
      expect(await filtered("attributes.run_name = 'beta'")).toEqual(['r2']);
      expect(await filtered("run_name LIKE '%ta'")).toEqual(['r4', 'r2']);
      expect(await filtered("attributes.`run name` = 'gamma'")).toEqual(['r3']);
      expect(await filtered('attributes."Run Name" ILIKE \'GAMMA\'')).toEqual(['r3']);
      expect(await filtered("attributes.user_id = 'ada'")).toEqual(['r3', 'r1']);
      expect(await filtered(`attributes.artifact_uri LIKE '%${r.r2}%'`)).toEqual(['r2']);
      expect(await filtered(`attributes.run_id = '${r.r3}'`)).toEqual(['r3']);
      expect(await filtered(`run_id != '${r.r3}'`)).toEqual(['r4', 'r2', 'r1']);
    });

    test('run_id IN / NOT IN; upper-case items are dropped', async () => {
      expect(await filtered(`attributes.run_id IN ('${r.r1}', '${r.r3}')`)).toEqual(['r3', 'r1']);
      expect(await filtered(`attributes.run_id in ("${r.r2}")`)).toEqual(['r2']);
      expect(await filtered(`attributes.run_id NOT IN ('${r.r1}')`)).toEqual(['r4', 'r3', 'r2']);
      expect(await filtered(`attributes.run_id IN ('${r.r1!.toUpperCase()}')`)).toEqual([]);
      expect(await filtered(`attributes.run_id IN ('${r.r1}', 'ABC')`)).toEqual(['r1']);
      expect(await filtered(`attributes.run_id IN ('${r.r5}', '${r.r6}')`)).toEqual([]);
    });

    test('numeric attributes: start_time, end_time, created alias', async () => {
      expect(await filtered('attributes.start_time > 1500')).toEqual(['r4', 'r3', 'r2']);
      expect(await filtered('start_time = 1000')).toEqual(['r1']);
      expect(await filtered('start_time != 1000')).toEqual(['r4', 'r3', 'r2']);
      expect(await filtered('attributes.created >= 3000')).toEqual(['r4', 'r3']);
      expect(await filtered('Created < 2000')).toEqual(['r1']);
      expect(await filtered('attributes.end_time > 0')).toEqual(['r3', 'r1']);
      expect(await filtered('end_time <= 1500')).toEqual(['r1']);
      expect(await filtered('end_time != 1500')).toEqual(['r3']);
      // Fractions and huge numbers compare numerically against the integer columns.
      expect(await filtered('start_time > 1999.5')).toEqual(['r4', 'r3', 'r2']);
      expect(await filtered('start_time <= 2000.0')).toEqual(['r2', 'r1']);
      expect(await filtered('start_time = 2000.5')).toEqual([]);
      expect(await filtered('start_time < 1e30')).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect(await filtered('start_time > 99999999999999999999')).toEqual([]);
    });

    test('datasets: name, digest, context with = != LIKE IN', async () => {
      expect(await filtered("datasets.name = 'train'")).toEqual(['r1']);
      expect(await filtered("dataset.name != 'train'")).toEqual(['r2']);
      expect(await filtered("datasets.digest IN ('d1', 'd2')")).toEqual(['r2', 'r1']);
      expect(await filtered("datasets.digest NOT IN ('d1')")).toEqual(['r2']);
      expect(await filtered("datasets.context = 'eval'")).toEqual(['r2']);
      expect(await filtered("datasets.context LIKE 'train%'")).toEqual(['r1']);
      expect(await filtered("datasets.name ILIKE 'EVAL' and datasets.context = 'eval'")).toEqual(['r2']);
    });

    test('Mast extension: OR and parentheses (AND binds tighter)', async () => {
      expect(await filtered("params.model = 'RandomForest' OR tags.team = 'risk'")).toEqual(['r2', 'r1']);
      expect(
        await filtered("(metrics.acc > 0.8 or metrics.acc < 0.6) AND attributes.status != 'FAILED'"),
      ).toEqual(['r2', 'r1']);
      expect(await filtered("metrics.acc > 0.6 AND (params.model LIKE 'Log%' OR tags.env = 'prod')")).toEqual(
        ['r3', 'r1'],
      );
      expect(await filtered("tags.team = 'fraud' OR metrics.acc = 0.7 AND tags.env = 'prod'")).toEqual([
        'r3',
        'r2',
      ]);
      expect(await filtered("((run_name = 'alpha') OR (run_name = 'delta'))")).toEqual(['r4', 'r1']);
    });

    test('invalid filters are 400 INVALID_PARAMETER_VALUE', async () => {
      const bad = [
        "metrics.acc > 'x'",
        "params.model > 'a'",
        'params.model = 5',
        'tags.team = unquoted',
        "NOT params.model = 'a'",
        "foo.bar = 'x'",
        "attributes.nope = 'x'",
        "attributes.status IN ('RUNNING')",
        "params.model IN ('a')",
        'metrics.acc IS NULL',
        "datasets.nope = 'x'",
        'metrics.acc >',
        'metrics.acc',
        '(metrics.acc > 1',
        'metrics.acc > 1)',
        'metrics.acc > 1 OR',
        "metrics.acc > 1; params.a = 'b'",
        'metrics.acc == 1',
        "start_time > '2020'",
        'attributes.run_id IN ()',
        "attributes.run_id IN ('a', 1)",
        '()',
        "'x' = params.model",
      ];
      for (const filter of bad) {
        const response = await search({ filter });
        expect({ filter, status: response.status, code: response.body?.error_code }).toEqual({
          filter,
          status: 400,
          code: 'INVALID_PARAMETER_VALUE',
        });
      }
      expectError(await search({ filter: 'metrics.acc > 1 ) or (' }), 400, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('order_by', () => {
    test('default: start_time DESC, then run_id', async () => {
      expect(await names({})).toEqual(['r4', 'r3', 'r2', 'r1']);
      const tied = await createExperiment(server.client);
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await createRunId(server.client, tied, { start_time: 42 }));
      const response = await server.client.post(`${API}/runs/search`, { experiment_ids: [tied] });
      expect(response.body.runs.map((run: any) => run.info.run_id)).toEqual([...ids].sort());
    });

    test('metrics: missing and NaN values last in both directions', async () => {
      expect(await names({ order_by: ['metrics.acc DESC'] })).toEqual(['r1', 'r3', 'r2', 'r4']);
      expect(await names({ order_by: ['metrics.acc ASC'] })).toEqual(['r2', 'r3', 'r1', 'r4']);
      expect(await names({ order_by: ['metrics.acc'] })).toEqual(['r2', 'r3', 'r1', 'r4']);
      // Only r1 has a finite loss. MLflow's SQL store ranks NaN (r2) before a missing key (r3, r4) in both
      // directions (`case when is_nan then 1 when value is null then 2 else 0`), then start_time DESC.
      for (const order of ['metrics.loss ASC', 'metrics.loss desc']) {
        expect(await names({ order_by: [order] })).toEqual(['r1', 'r2', 'r4', 'r3']);
      }
      expect(await names({ order_by: ['metrics.`my metric` DESC'] })).toEqual(['r1', 'r4', 'r3', 'r2']);
    });

    test('params and tags: string order, missing last in both directions', async () => {
      expect(await names({ order_by: ['params.depth ASC'] })).toEqual(['r2', 'r1', 'r3', 'r4']);
      expect(await names({ order_by: ['params.depth DESC'] })).toEqual(['r3', 'r1', 'r2', 'r4']);
      expect(await names({ order_by: ['tags.team ASC'] })).toEqual(['r2', 'r1', 'r4', 'r3']);
      expect(await names({ order_by: ['tags.team DESC'] })).toEqual(['r1', 'r2', 'r4', 'r3']);
      expect(await names({ order_by: ['tags."x-y" DESC'] })).toEqual(['r1', 'r4', 'r3', 'r2']);
    });

    test('attributes: start_time, created, end_time (unset last), run_name, status; several terms', async () => {
      expect(await names({ order_by: ['attributes.start_time ASC'] })).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(await names({ order_by: ['start_time DESC'] })).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect(await names({ order_by: ['created ASC'] })).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect(await names({ order_by: ['attributes.end_time ASC'] })).toEqual(['r1', 'r3', 'r4', 'r2']);
      expect(await names({ order_by: ['end_time DESC'] })).toEqual(['r3', 'r1', 'r4', 'r2']);
      expect(await names({ order_by: ['attributes.run_name ASC'] })).toEqual(['r1', 'r2', 'r4', 'r3']);
      expect(await names({ order_by: ['run_name DESC'] })).toEqual(['r3', 'r4', 'r2', 'r1']);
      expect(await names({ order_by: ['attributes.status ASC'] })).toEqual(['r3', 'r1', 'r4', 'r2']);
      expect(await names({ order_by: ['attributes.status ASC', 'metrics.acc ASC'] })).toEqual([
        'r3',
        'r1',
        'r2',
        'r4',
      ]);
      expect(await names({ order_by: ['attributes.user_id DESC', 'start_time ASC'] })).toEqual([
        'r2',
        'r1',
        'r3',
        'r4',
      ]);
    });

    test('invalid order_by clauses are 400', async () => {
      const bad = [
        ['metrics.acc UP'],
        ['foo.bar'],
        ['attributes.nope'],
        ['datasets.name'],
        ['start_time', 'created DESC'],
        ['metrics.acc ASC extra'],
        [''],
        ["'quoted'"],
      ];
      for (const order_by of bad) {
        const response = await search({ order_by });
        expect({ order_by, status: response.status, code: response.body?.error_code }).toEqual({
          order_by,
          status: 400,
          code: 'INVALID_PARAMETER_VALUE',
        });
      }
    });
  });

  describe('run_view_type', () => {
    test('ACTIVE_ONLY (default), DELETED_ONLY, ALL, by name or number', async () => {
      expect(await names({ run_view_type: 'ACTIVE_ONLY' })).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect(await names({ run_view_type: 'DELETED_ONLY' })).toEqual(['r5']);
      expect(await names({ run_view_type: 2 })).toEqual(['r5']);
      expect(await names({ run_view_type: 'ALL' })).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
      expect(await names({ run_view_type: 'ALL', filter: 'metrics.acc >= 0.9' })).toEqual(['r5', 'r1']);
      // An unknown name is ignored (ACTIVE_ONLY), as MLflow's parser ignores it; an unknown number is a 400.
      expect(await names({ run_view_type: 'EVERYTHING' })).toEqual(['r4', 'r3', 'r2', 'r1']);
      expectError(await search({ run_view_type: 4 }), 400, 'INVALID_PARAMETER_VALUE', /run_view_type/);
    });
  });

  describe('paging', () => {
    test('a token whenever the page is full; following tokens gathers every run once', async () => {
      for (const maxResults of [1, 2, 3, 4, 5]) {
        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const response = await search({
            max_results: maxResults,
            order_by: ['metrics.acc DESC'],
            ...(token ? { page_token: token } : {}),
          });
          expect(response.status).toBe(200);
          const runs = response.body.runs ?? [];
          expect(runs.length).toBeLessThanOrEqual(maxResults);
          token = response.body.next_page_token;
          if (runs.length === maxResults) expect(typeof token).toBe('string');
          else expect(token).toBeUndefined();
          seen.push(...runs.map((run: any) => run.info.run_id));
          pages += 1;
          expect(pages).toBeLessThan(10);
        } while (token);
        expect(seen).toEqual([r.r1, r.r3, r.r2, r.r4]);
      }
    });

    test('max_results bounds and bad page tokens are 400', async () => {
      expectError(await search({ max_results: 50001 }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
      expectError(await search({ max_results: -1 }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
      expectError(await search({ max_results: 'many' }), 400, 'INVALID_PARAMETER_VALUE', /max_results/);
      expect((await search({ max_results: 50000 })).status).toBe(200);
      expect(await names({ max_results: '2' })).toEqual(['r4', 'r3']);
      for (const page_token of ['garbage!', 'bnVsbA==', Buffer.from('{"offset":"2"}').toString('base64')]) {
        expectError(await search({ page_token }), 400, 'INVALID_PARAMETER_VALUE', /Invalid page token/);
      }
    });
  });
});
