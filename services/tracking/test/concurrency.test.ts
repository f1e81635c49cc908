import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { JsonResponse } from '@mast/test-support';
import { API, createExperiment, createRunId, getRun, tagValue, uniqueName } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** Rounds per scenario: each fires its conflicting requests at once on a fresh run or name. */
const ROUNDS = 25;
/** Concurrent requests per round (the test database's pool has 10 connections). */
const WRITERS = 8;

/**
 * Conflicting writes fired at once over HTTP against real PostgreSQL (PGlite runs one session at a
 * time, so it can never show a race). Each scenario repeats many times and checks the invariants:
 * immutable params have exactly one winner and nothing of a losing batch is written; unique names
 * have exactly one owner; renames and tags are last-writer-wins and never torn.
 */
describe('concurrent writes (postgres)', () => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer('postgres');
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: Record<string, unknown>) => server.client.post(`${API}${path}`, body);

  /** Splits responses into successes and failures, failing the test on anything but 200 and 400. */
  function outcomes(responses: JsonResponse[]): { ok: number[]; rejected: number[] } {
    const ok: number[] = [];
    const rejected: number[] = [];
    responses.forEach((response, i) => {
      if (response.status === 200) ok.push(i);
      else {
        expect(response.status).toBe(400);
        expect(response.body.error_code).toBe('INVALID_PARAMETER_VALUE');
        expect(response.body.message).toContain('Changing param values is not allowed');
        rejected.push(i);
      }
    });
    return { ok, rejected };
  }

  test('log-parameter: one new param, different values at once: exactly one wins', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await createRunId(server.client, experimentId);
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          post('/runs/log-parameter', { run_id: runId, key: 'lr', value: `v${i}` }),
        ),
      );
      const { ok, rejected } = outcomes(responses);
      expect(ok).toHaveLength(1);
      expect(rejected).toHaveLength(WRITERS - 1);
      const run = await getRun(server.client, runId);
      expect(run.data.params).toEqual([{ key: 'lr', value: `v${ok[0]}` }]);
    }
  });

  test('log-batch: a losing batch writes none of its metrics, params or tags', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await createRunId(server.client, experimentId);
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          post('/runs/log-batch', {
            run_id: runId,
            // Keys in different orders across writers: the store locks them in one order (no deadlock).
            params: (i % 2 === 0 ? ['a', 'b', 'c'] : ['c', 'b', 'a']).map((key) => ({ key, value: `w${i}` })),
            metrics: [{ key: `m${i}`, value: i, timestamp: 1000 + i, step: 0 }],
            tags: [{ key: `t${i}`, value: 'x' }],
          }),
        ),
      );
      const { ok } = outcomes(responses);
      expect(ok).toHaveLength(1);
      const winner = ok[0]!;
      const run = await getRun(server.client, runId);
      expect(run.data.params).toEqual(['a', 'b', 'c'].map((key) => ({ key, value: `w${winner}` })));
      expect(run.data.metrics.map((m: { key: string }) => m.key)).toEqual([`m${winner}`]);
      expect(run.data.tags.filter((t: { key: string }) => /^t\d$/.test(t.key))).toEqual([
        { key: `t${winner}`, value: 'x' },
      ]);
    }
  });

  test('the same param value logged at once by many succeeds for all', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await createRunId(server.client, experimentId);
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          post('/runs/log-batch', {
            run_id: runId,
            params: [{ key: 'seed', value: '7' }],
            metrics: [{ key: 'loss', value: i, timestamp: 1000, step: i }],
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(WRITERS).fill(200));
      const run = await getRun(server.client, runId);
      expect(run.data.params).toEqual([{ key: 'seed', value: '7' }]);
      // The latest value is the highest step, whichever request committed last.
      expect(run.data.metrics).toEqual([
        { key: 'loss', value: WRITERS - 1, timestamp: 1000, step: WRITERS - 1 },
      ]);
    }
  });

  test('metric batches from many clients to one run at once: every point stored, latest is the greatest', async () => {
    for (let round = 0; round < ROUNDS / 5; round++) {
      const runId = await createRunId(server.client, experimentId);
      const clients = 20;
      const responses = await Promise.all(
        Array.from({ length: clients }, (_, i) =>
          post('/runs/log-batch', {
            run_id: runId,
            // Client i logs steps i*10 .. i*10+9 of two keys; one point is logged by every client.
            metrics: [
              ...Array.from({ length: 10 }, (_, j) => ({
                key: 'loss',
                value: i,
                timestamp: 5,
                step: i * 10 + j,
              })),
              { key: 'acc', value: i, timestamp: 1000 - i, step: 0 },
              { key: 'same', value: 1, timestamp: 1, step: 1 },
            ],
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(clients).fill(200));
      const history = await server.client.get(`${API}/metrics/get-history`, {
        run_id: runId,
        metric_key: 'loss',
      });
      expect(history.body.metrics).toHaveLength(clients * 10);
      const same = await server.client.get(`${API}/metrics/get-history`, {
        run_id: runId,
        metric_key: 'same',
      });
      expect(same.body.metrics).toHaveLength(1);
      const run = await getRun(server.client, runId);
      const latest = Object.fromEntries(run.data.metrics.map((m: { key: string }) => [m.key, m]));
      expect(latest.loss).toEqual({ key: 'loss', value: clients - 1, timestamp: 5, step: clients * 10 - 1 });
      // Same step: the latest timestamp wins (client 0 logged the largest).
      expect(latest.acc).toEqual({ key: 'acc', value: 0, timestamp: 1000, step: 0 });
    }
  });

  test('batches with tags (not merged) to one run at once, keys in opposite orders over many chunks: no deadlock, nothing lost, latest exact', async () => {
    const runId = await createRunId(server.client, experimentId);
    const clients = 20;
    const keys = Array.from({ length: 30 }, (_, k) => `k${String(k).padStart(2, '0')}`);
    const responses = await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        post('/runs/log-batch', {
          run_id: runId,
          // Each client logs every key at steps i*100 .. i*100+9 (chunks of 256 steps shared between
          // clients), half of them in reverse key order; client 7 also logs NaN at the final step.
          metrics: (i % 2 === 0 ? keys : [...keys].reverse()).flatMap((key) =>
            Array.from({ length: 10 }, (_, j) => ({ key, value: i + j, timestamp: 7, step: i * 100 + j })),
          ),
          tags: [{ key: `client${i}`, value: 'x' }],
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(clients).fill(200));
    // NaN above any number at the same step and timestamp (PostgreSQL's float order, MLflow's maximum).
    await post('/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'k00', value: 'NaN', timestamp: 7, step: (clients - 1) * 100 + 9 },
        { key: 'k01', value: -1, timestamp: 7, step: (clients - 1) * 100 + 9 },
      ],
      tags: [{ key: 'last', value: 'x' }],
    });
    const history = await server.client.get(`${API}/metrics/get-history`, {
      run_id: runId,
      metric_key: 'k05',
    });
    expect(history.body.metrics).toHaveLength(clients * 10);
    const run = await getRun(server.client, runId);
    expect(run.data.metrics).toHaveLength(keys.length);
    const latest = Object.fromEntries(run.data.metrics.map((m: { key: string }) => [m.key, m]));
    const lastStep = (clients - 1) * 100 + 9;
    expect(latest.k00).toEqual({ key: 'k00', value: 'NaN', timestamp: 7, step: lastStep });
    // -1 logged later at the same step and timestamp loses to the greater value.
    expect(latest.k01).toEqual({ key: 'k01', value: clients - 1 + 9, timestamp: 7, step: lastStep });
    expect(latest.k29).toEqual({ key: 'k29', value: clients - 1 + 9, timestamp: 7, step: lastStep });
    // Searches filter and order on the same latest values.
    const search = await post('/runs/search', {
      experiment_ids: [experimentId],
      filter: `metrics.k29 = ${clients - 1 + 9} and metrics.k01 > 0`,
      order_by: ['metrics.k01 DESC'],
    });
    expect(search.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
  });

  test('experiments/create with one name at once: exactly one id, the others RESOURCE_ALREADY_EXISTS', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = uniqueName('race');
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, () => post('/experiments/create', { name })),
      );
      const created = responses.filter((r) => r.status === 200);
      expect(created).toHaveLength(1);
      for (const r of responses.filter((r) => r.status !== 200)) {
        expect(r.status).toBe(400);
        expect(r.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      }
      const found = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: name });
      expect(found.body.experiment.experiment_id).toBe(created[0]!.body.experiment_id);
    }
  });

  test('experiments/update renaming several experiments to one name at once: exactly one gets it', async () => {
    for (let round = 0; round < ROUNDS / 5; round++) {
      const ids = await Promise.all(
        Array.from({ length: WRITERS }, () => createExperiment(server.client, uniqueName('src'))),
      );
      const target = uniqueName('target');
      const responses = await Promise.all(
        ids.map((id) => post('/experiments/update', { experiment_id: id, new_name: target })),
      );
      const renamed = responses.flatMap((r, i) => (r.status === 200 ? [ids[i]] : []));
      expect(renamed).toHaveLength(1);
      for (const r of responses.filter((r) => r.status !== 200)) {
        expect(r.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      }
      const found = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: target });
      expect(found.body.experiment.experiment_id).toBe(renamed[0]);
    }
  });

  test('logged-model params: different values at once: exactly one wins', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const created = await post('/logged-models', { experiment_id: experimentId });
      const modelId = created.body.model.info.model_id;
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          post(`/logged-models/${modelId}/params`, { params: [{ key: 'depth', value: `${i}` }] }),
        ),
      );
      const { ok } = outcomes(responses);
      expect(ok).toHaveLength(1);
      const model = await server.client.get(`${API}/logged-models/${modelId}`);
      expect(model.body.model.data.params).toEqual([{ key: 'depth', value: `${ok[0]}` }]);
    }
  });

  test('renames through runs/update and the mlflow.runName tag at once: all succeed, name and tag agree', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await createRunId(server.client, experimentId);
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          i % 2 === 0
            ? post('/runs/update', { run_id: runId, run_name: `name-${i}` })
            : post('/runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: `name-${i}` }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(WRITERS).fill(200));
      const run = await getRun(server.client, runId);
      expect(run.info.run_name).toMatch(/^name-\d$/);
      expect(tagValue(run, 'mlflow.runName')).toBe(run.info.run_name);
    }
  });

  test('runs/update of different fields at once: no field is lost', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await createRunId(server.client, experimentId);
      const responses = await Promise.all([
        post('/runs/update', { run_id: runId, status: 'FINISHED' }),
        post('/runs/update', { run_id: runId, end_time: 4242 }),
        post('/runs/update', { run_id: runId, run_name: 'renamed' }),
      ]);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      const { info } = await getRun(server.client, runId);
      expect(info).toMatchObject({ status: 'FINISHED', end_time: 4242, run_name: 'renamed' });
    }
  });
});
