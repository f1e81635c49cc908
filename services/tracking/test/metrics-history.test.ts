import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  AJAX,
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  logBatch,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

interface Point {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

/** MLflow's reference sampling (spec §1.2), written independently of the server's implementation. */
function expectedSteps(
  stepsByRun: number[][],
  maxResults: number,
  range?: { start: number; end: number },
): Set<number> {
  const all = [...new Set(stepsByRun.flat())].sort((a, b) => a - b);
  const start = range?.start ?? 0;
  const end = range?.end ?? all[all.length - 1]!;
  const inRange = all.filter((s) => s >= start && s <= end);
  const chosen = new Set<number>();
  if (inRange.length <= maxResults) {
    for (const s of inRange) chosen.add(s);
  } else {
    for (let i = 0; i < maxResults; i++) chosen.add(inRange[Math.floor((i * inRange.length) / maxResults)]!);
    chosen.add(inRange[inRange.length - 1]!);
  }
  for (const steps of stepsByRun) {
    if (steps.length === 0) continue;
    for (const s of [Math.min(...steps), Math.max(...steps)]) if (s >= start && s <= end) chosen.add(s);
  }
  return chosen;
}

const byStepTimestampValue = (a: Point, b: Point) =>
  a.step - b.step || a.timestamp - b.timestamp || Number(a.value) - Number(b.value);

describe.each(BACKENDS)('metric history (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server.close());

  const get = (path: string, query: Record<string, any>) => server.client.get(`${API}${path}`, query);

  describe('get-history', () => {
    test('ordered by (timestamp, step, value) whatever the logging order', async () => {
      const runId = await createRunId(server.client, experimentId);
      const points: Point[] = [
        { key: 'm', value: 3, timestamp: 20, step: 1 },
        { key: 'm', value: 1, timestamp: 10, step: 5 },
        { key: 'm', value: 2, timestamp: 20, step: 0 },
        { key: 'm', value: 9, timestamp: 20, step: 1 },
        { key: 'm', value: -1, timestamp: 20, step: 1 },
        { key: 'm', value: 0, timestamp: 5, step: 9 },
      ];
      await logBatch(server.client, runId, { metrics: points });
      await logBatch(server.client, runId, { metrics: [{ key: 'other', value: 1, timestamp: 1, step: 0 }] });
      const response = await get('/metrics/get-history', { run_id: runId, metric_key: 'm' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        metrics: [...points].sort(
          (a, b) => a.timestamp - b.timestamp || a.step - b.step || Number(a.value) - Number(b.value),
        ),
      });
    });

    test('points written as MLflow writes them: non-finite values as strings, model and dataset only when set, int64 exact', async () => {
      const runId = await createRunId(server.client, experimentId);
      const key = 'a/b c-d.e_f';
      await logBatch(server.client, runId, {
        metrics: [
          { key, value: 'NaN', timestamp: 1, step: 0 },
          { key, value: 'Infinity', timestamp: 2, step: 0 },
          { key, value: '-Infinity', timestamp: 3, step: 0 },
          { key, value: 1e-7, timestamp: 4, step: 0 },
          { key, value: 1.5e300, timestamp: 5, step: 0 },
          {
            key,
            value: 0.1,
            timestamp: 6,
            step: 2 ** 40,
            model_id: 'm-1',
            dataset_name: 'eval "x"',
            dataset_digest: 'd0',
          },
          { key, value: 2, timestamp: 7, step: 1, dataset_name: 'train', dataset_digest: 'd1' },
        ],
      });
      const response = await get('/metrics/get-history', { run_id: runId, metric_key: key });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        metrics: [
          { key, value: 'NaN', timestamp: 1, step: 0 },
          { key, value: 'Infinity', timestamp: 2, step: 0 },
          { key, value: '-Infinity', timestamp: 3, step: 0 },
          { key, value: 1e-7, timestamp: 4, step: 0 },
          { key, value: 1.5e300, timestamp: 5, step: 0 },
          {
            key,
            value: 0.1,
            timestamp: 6,
            step: 2 ** 40,
            model_id: 'm-1',
            dataset_name: 'eval "x"',
            dataset_digest: 'd0',
          },
          { key, value: 2, timestamp: 7, step: 1, dataset_name: 'train', dataset_digest: 'd1' },
        ],
      });
      // Field order as the proto declares it.
      expect(response.text).toContain(
        `{"key":"${key}","value":0.1,"timestamp":6,"step":${2 ** 40},"model_id":"m-1","dataset_name":"eval \\"x\\"","dataset_digest":"d0"}`,
      );
      // A step beyond 2^53 is written digit for digit.
      const big = '9007199254740993';
      const bigRun = await createRunId(server.client, experimentId);
      const logged = await server.client.post(
        `${API}/runs/log-batch`,
        `{"run_id": "${bigRun}", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": ${big}}]}`,
      );
      expect(logged.status).toBe(200);
      const bigHistory = await get('/metrics/get-history', { run_id: bigRun, metric_key: 'm' });
      expect(bigHistory.text).toContain(`"step":${big}`);
    });

    test('paging with max_results and page_token gathers the full history exactly once', async () => {
      const runId = await createRunId(server.client, experimentId);
      const points = Array.from({ length: 7 }, (_, i) => ({
        key: 'p',
        value: i,
        timestamp: 100 + i,
        step: i,
      }));
      await logBatch(server.client, runId, { metrics: points });
      const collected: Point[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const response = await get('/metrics/get-history', {
          run_id: runId,
          metric_key: 'p',
          max_results: 3,
          ...(token ? { page_token: token } : {}),
        });
        expect(response.status).toBe(200);
        expect(response.body.metrics.length).toBeLessThanOrEqual(3);
        collected.push(...response.body.metrics);
        token = response.body.next_page_token;
        pages += 1;
      } while (token);
      expect(pages).toBe(3);
      expect(collected).toEqual(points);

      // Exactly one full page: no token (the server looks one row ahead).
      const exact = await get('/metrics/get-history', { run_id: runId, metric_key: 'p', max_results: 7 });
      expect(exact.body).toEqual({ metrics: points });
      // No max_results: everything at once.
      const all = await get('/metrics/get-history', { run_id: runId, metric_key: 'p' });
      expect(all.body).toEqual({ metrics: points });
    });

    test('unknown key is {}; unknown run 404; deleted runs stay readable', async () => {
      const runId = await createRunId(server.client, experimentId);
      await logBatch(server.client, runId, { metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] });
      expect((await get('/metrics/get-history', { run_id: runId, metric_key: 'nope' })).body).toEqual({});
      expectError(
        await get('/metrics/get-history', { run_id: 'a1'.repeat(16), metric_key: 'm' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${'a1'.repeat(16)} not found`,
      );
      expectEmptyOk(await server.client.post(`${API}/runs/delete`, { run_id: runId }));
      const deleted = await get('/metrics/get-history', { run_id: runId, metric_key: 'm' });
      expect(deleted.body.metrics).toHaveLength(1);
    });

    test('bad page token, bad max_results and missing fields are 400', async () => {
      const runId = await createRunId(server.client, experimentId);
      for (const page_token of ['not-a-token', Buffer.from('{"offset": -1}').toString('base64'), 'e30=']) {
        expectError(
          await get('/metrics/get-history', { run_id: runId, metric_key: 'm', page_token }),
          400,
          'INVALID_PARAMETER_VALUE',
          /Invalid page token/,
        );
      }
      for (const max_results of ['abc', '0', '-1']) {
        expectError(
          await get('/metrics/get-history', { run_id: runId, metric_key: 'm', max_results }),
          400,
          'INVALID_PARAMETER_VALUE',
          /max_results/,
        );
      }
      expectError(
        await get('/metrics/get-history', { run_id: runId }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'metric_key'.${DOCS_HINT}`,
      );
      expectError(
        await get('/metrics/get-history', { metric_key: 'm' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'run_id'.${DOCS_HINT}`,
      );
    });
  });

  describe('get-history-bulk-interval', () => {
    let runA: string;
    let runB: string;
    let runC: string;
    const stepsA = Array.from({ length: 100 }, (_, i) => i);
    const stepsB = [0, 3, 7, 42, 150];
    const stepsC = [5, 6];
    beforeAll(async () => {
      const exp = await createExperiment(server.client);
      runA = await createRunId(server.client, exp);
      runB = await createRunId(server.client, exp);
      runC = await createRunId(server.client, exp);
      await logBatch(server.client, runA, {
        metrics: stepsA.map((step) => ({ key: 'loss', value: step / 10, timestamp: 1000 + step, step })),
      });
      // Two points at step 3 of run B: both come back, ordered by (timestamp, value).
      await logBatch(server.client, runB, {
        metrics: [
          ...stepsB.map((step) => ({ key: 'loss', value: -step, timestamp: 2000 + step, step })),
          { key: 'loss', value: 'NaN', timestamp: 1, step: 3 },
        ],
      });
      await logBatch(server.client, runC, {
        metrics: stepsC.map((step) => ({ key: 'loss', value: step, timestamp: 3000, step })),
      });
    });

    const bulk = (query: Record<string, any>) =>
      get('/metrics/get-history-bulk-interval', { metric_key: 'loss', ...query });

    test('few steps: every point of every run, per run in request order, by (step, timestamp, value)', async () => {
      const response = await bulk({ run_ids: [runC, runB] });
      expect(response.status).toBe(200);
      const metrics: any[] = response.body.metrics;
      expect(metrics.map((m) => m.run_id)).toEqual([
        ...stepsC.map(() => runC),
        ...[...stepsB, 3].map(() => runB),
      ]);
      expect(metrics.filter((m) => m.run_id === runC)).toEqual(
        stepsC.map((step) => ({ key: 'loss', value: step, timestamp: 3000, step, run_id: runC })),
      );
      const b = metrics.filter((m) => m.run_id === runB);
      expect(b.map((m) => m.step)).toEqual([0, 3, 3, 7, 42, 150]);
      expect(b[1]).toEqual({ key: 'loss', value: 'NaN', timestamp: 1, step: 3, run_id: runB });
      expect(b).toEqual([...b].sort(byStepTimestampValue));
    });

    test('many steps: evenly spaced sample plus the last step and each run’s first and last step', async () => {
      for (const maxResults of [1, 7, 10, 33]) {
        const response = await bulk({ run_ids: [runA, runB], max_results: maxResults });
        expect(response.status).toBe(200);
        const steps = expectedSteps([stepsA, stepsB], maxResults);
        const metrics: any[] = response.body.metrics;
        const a = metrics.filter((m) => m.run_id === runA);
        const b = metrics.filter((m) => m.run_id === runB);
        expect(metrics).toEqual([...a, ...b]);
        expect(a.map((m) => m.step)).toEqual(stepsA.filter((s) => steps.has(s)));
        expect(new Set(b.map((m) => m.step))).toEqual(new Set(stepsB.filter((s) => steps.has(s))));
        expect(a[0]).toEqual({ key: 'loss', value: 0, timestamp: 1000, step: 0, run_id: runA });
      }
    });

    test('start_step / end_step restrict the steps', async () => {
      const response = await bulk({ run_ids: [runA, runB], start_step: 40, end_step: 60, max_results: 5 });
      expect(response.status).toBe(200);
      const steps = expectedSteps([stepsA, stepsB], 5, { start: 40, end: 60 });
      const metrics: any[] = response.body.metrics;
      expect(metrics.every((m) => m.step >= 40 && m.step <= 60)).toBe(true);
      expect(metrics.filter((m) => m.run_id === runA).map((m) => m.step)).toEqual(
        stepsA.filter((s) => steps.has(s)),
      );
      expect(metrics.filter((m) => m.run_id === runB).map((m) => m.step)).toEqual(
        stepsB.filter((s) => steps.has(s)),
      );
      // A range holding no step, or a run whose only steps are outside [0, max]: an empty answer.
      expect((await bulk({ run_ids: [runA], start_step: 500, end_step: 600 })).body).toEqual({});
      const negative = await createRunId(server.client, experimentId);
      await logBatch(server.client, negative, {
        metrics: [{ key: 'loss', value: 1, timestamp: 1, step: -5 }],
      });
      expect((await bulk({ run_ids: [negative] })).body).toEqual({});
      expect((await bulk({ run_ids: [negative], start_step: -10, end_step: 0 })).body).toEqual({
        metrics: [{ key: 'loss', value: 1, timestamp: 1, step: -5, run_id: negative }],
      });
      // Unknown runs and keys contribute nothing.
      expect((await bulk({ run_ids: ['f0'.repeat(16)] })).body).toEqual({});
      expect((await bulk({ run_ids: [runA], metric_key: 'nope' })).body).toEqual({});
    });

    test('validation: 1 to 100 run_ids, metric_key, both or neither step, start <= end, max_results 1..2500', async () => {
      const bad: Array<[Record<string, any>, RegExp | string]> = [
        // MLflow's own wording (tests/tracking/test_rest_tracking.py).
        [{}, `Missing value for required parameter 'run_ids'.${DOCS_HINT}`],
        [
          { run_ids: Array.from({ length: 101 }, (_, i) => `r${i}`) },
          `GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.${DOCS_HINT}`,
        ],
        [
          { run_ids: [runA], start_step: 1 },
          'If either start step or end step are specified, both must be specified.',
        ],
        [
          { run_ids: [runA], end_step: 1 },
          'If either start step or end step are specified, both must be specified.',
        ],
        [
          { run_ids: [runA], start_step: 5, end_step: 4 },
          'end_step must be greater than start_step. Found start_step=5 and end_step=4.',
        ],
        [{ run_ids: [runA], max_results: 2501 }, `max_results must be between 1 and 2500.${DOCS_HINT}`],
        [{ run_ids: [runA], max_results: 0 }, `max_results must be between 1 and 2500.${DOCS_HINT}`],
        [{ run_ids: [runA], start_step: 'a', end_step: 2 }, /start_step/],
      ];
      for (const [query, message] of bad) {
        expectError(await bulk(query), 400, 'INVALID_PARAMETER_VALUE', message);
      }
      expectError(
        await get('/metrics/get-history-bulk-interval', { run_ids: [runA] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'metric_key'.${DOCS_HINT}`,
      );
      expect(
        (await bulk({ run_ids: Array.from({ length: 100 }, () => runC), max_results: 2500 })).status,
      ).toBe(200);
      // start == end is a valid one-step range; the /ajax-api prefix answers too.
      const one = await server.client.get(`${AJAX}/metrics/get-history-bulk-interval`, {
        run_ids: runA,
        metric_key: 'loss',
        start_step: 7,
        end_step: 7,
      });
      expect(one.body).toEqual({
        metrics: [{ key: 'loss', value: 0.7, timestamp: 1007, step: 7, run_id: runA }],
      });
    });
  });

  describe('get-history-bulk (ajax)', () => {
    test('points of several runs by run id, then (timestamp, step, value); max_results caps the total', async () => {
      const exp = await createExperiment(server.client);
      const r1 = await createRunId(server.client, exp);
      const r2 = await createRunId(server.client, exp);
      await logBatch(server.client, r1, {
        metrics: [
          { key: 'm', value: 2, timestamp: 20, step: 0 },
          { key: 'm', value: 1, timestamp: 10, step: 1 },
        ],
      });
      await logBatch(server.client, r2, {
        metrics: [
          { key: 'm', value: 'Infinity', timestamp: 5, step: 0 },
          { key: 'x', value: 1, timestamp: 5, step: 0 },
        ],
      });
      const [first, second] = [r1, r2].sort();
      const response = await server.client.get(`${AJAX}/metrics/get-history-bulk`, {
        run_id: [r2, r1],
        metric_key: 'm',
      });
      expect(response.status).toBe(200);
      const expected: Record<string, any[]> = {
        [r1]: [
          { key: 'm', value: 1, timestamp: 10, step: 1, run_id: r1 },
          { key: 'm', value: 2, timestamp: 20, step: 0, run_id: r1 },
        ],
        [r2]: [{ key: 'm', value: 'Infinity', timestamp: 5, step: 0, run_id: r2 }],
      };
      expect(response.body).toEqual({ metrics: [...expected[first!]!, ...expected[second!]!] });

      const capped = await server.client.get(`${AJAX}/metrics/get-history-bulk`, {
        run_id: [r1, r2],
        metric_key: 'm',
        max_results: 2,
      });
      expect(capped.body.metrics).toEqual(response.body.metrics.slice(0, 2));
      // Values above 25000 are clamped, not rejected.
      const clamped = await server.client.get(`${AJAX}/metrics/get-history-bulk`, {
        run_id: r1,
        metric_key: 'm',
        max_results: 100000,
      });
      expect(clamped.body.metrics).toHaveLength(2);
      // Nothing logged under that key: the plain-JSON answer keeps the empty list.
      const none = await server.client.get(`${AJAX}/metrics/get-history-bulk`, {
        run_id: r1,
        metric_key: 'zzz',
      });
      expect(none.body).toEqual({ metrics: [] });
    });

    test('validation: 1 to 100 run ids, metric_key required', async () => {
      const http = server.client;
      expectError(
        await http.get(`${AJAX}/metrics/get-history-bulk`, { metric_key: 'm' }),
        400,
        'INVALID_PARAMETER_VALUE',
        /must specify at least one run_id/,
      );
      expectError(
        await http.get(`${AJAX}/metrics/get-history-bulk`, {
          run_id: Array.from({ length: 101 }, (_, i) => `r${i}`),
          metric_key: 'm',
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /cannot specify more than 100 run_ids/,
      );
      expectError(
        await http.get(`${AJAX}/metrics/get-history-bulk`, { run_id: 'r' }),
        400,
        'INVALID_PARAMETER_VALUE',
        'GetMetricHistoryBulk request must specify a metric_key.',
      );
      expectError(
        await http.get(`${AJAX}/metrics/get-history-bulk`, {
          run_id: 'r',
          metric_key: 'm',
          max_results: 'x',
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await http.get(`${AJAX}/metrics/get-history-bulk`, { run_id: 'r', metric_key: 'm', max_results: 0 }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });
  });
});
