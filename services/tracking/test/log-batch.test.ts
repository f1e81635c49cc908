import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  getRun,
  history,
  logBatch,
  tagValue,
  userTags,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const metric = (key: string, value: unknown, timestamp: unknown = 1, step: unknown = 0) => ({
  key,
  value,
  timestamp,
  step,
});

/** Logging metrics, params and tags (spec §1.2 semantics, §4 limits). */
describe.each(BACKENDS)('log-metric, log-parameter, log-batch (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: Record<string, unknown>) => server.client.post(`${API}${path}`, body);
  const newRun = () => createRunId(server.client, experimentId);

  /** Asserts the run holds no metrics, no params and no tags besides its name. */
  async function expectNothingLogged(runId: string): Promise<void> {
    const run = await getRun(server.client, runId);
    expect(run.data.metrics).toBeUndefined();
    expect(run.data.params).toBeUndefined();
    expect(userTags(run)).toEqual([]);
  }

  describe('log-metric', () => {
    test('logs a point; step defaults to 0; run data shows the latest value', async () => {
      const runId = await newRun();
      expectEmptyOk(await post('/runs/log-metric', { run_id: runId, key: 'acc', value: 0.5, timestamp: 10 }));
      expectEmptyOk(
        await post('/runs/log-metric', { run_id: runId, key: 'acc', value: 0.75, timestamp: 11, step: 1 }),
      );
      expect(await history(server.client, runId, 'acc')).toEqual([
        { key: 'acc', value: 0.5, timestamp: 10, step: 0 },
        { key: 'acc', value: 0.75, timestamp: 11, step: 1 },
      ]);
      expect((await getRun(server.client, runId)).data.metrics).toEqual([
        { key: 'acc', value: 0.75, timestamp: 11, step: 1 },
      ]);
    });

    test('value, timestamp and key are required; timestamp must be a non-negative integer', async () => {
      const runId = await newRun();
      const base = { run_id: runId, key: 'm', value: 1, timestamp: 1 };
      const missing = (field: string) => `Missing value for required parameter '${field}'.${DOCS_HINT}`;
      expectError(
        await post('/runs/log-metric', { ...base, timestamp: undefined }),
        400,
        'INVALID_PARAMETER_VALUE',
        missing('timestamp'),
      );
      expectError(
        await post('/runs/log-metric', { ...base, value: undefined }),
        400,
        'INVALID_PARAMETER_VALUE',
        missing('value'),
      );
      expectError(
        await post('/runs/log-metric', { ...base, key: undefined }),
        400,
        'INVALID_PARAMETER_VALUE',
        missing('key'),
      );
      expectError(
        await post('/runs/log-metric', { ...base, run_id: undefined }),
        400,
        'INVALID_PARAMETER_VALUE',
        missing('run_id'),
      );
      expectError(
        await post('/runs/log-metric', { ...base, timestamp: -1 }),
        400,
        'INVALID_PARAMETER_VALUE',
        /timestamp/,
      );
      for (const timestamp of [1.5, 'yesterday', true, '1e3']) {
        expectError(
          await post('/runs/log-metric', { ...base, timestamp }),
          400,
          'INVALID_PARAMETER_VALUE',
          /parameter 'timestamp'/,
        );
      }
      for (const step of [0.5, 'first', false]) {
        expectError(
          await post('/runs/log-metric', { ...base, step }),
          400,
          'INVALID_PARAMETER_VALUE',
          /parameter 'step'/,
        );
      }
      expect(await history(server.client, runId, 'm')).toEqual([]);
    });

    test('values must be numbers: booleans, garbage strings, objects are 400', async () => {
      const runId = await newRun();
      for (const value of [true, false, 'abc', '1,5', '', ' ', {}, [1], '0x10']) {
        const response = await post('/runs/log-metric', { run_id: runId, key: 'm', value, timestamp: 1 });
        expect(response.status).toBe(400);
        expect(response.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      }
      expectError(
        await post('/runs/log-metric', { run_id: runId, key: 'm', value: true, timestamp: 1 }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid value true for parameter 'value' supplied:  Hint: Value was of type 'bool'.${DOCS_HINT}`,
      );
      expect(await history(server.client, runId, 'm')).toEqual([]);
    });

    test('NaN, Infinity and -Infinity round-trip as the strings "NaN", "Infinity", "-Infinity"', async () => {
      const runId = await newRun();
      const values = ['NaN', 'Infinity', '-Infinity', 1e308, -0.5, 0];
      for (const [i, value] of values.entries()) {
        expectEmptyOk(await post('/runs/log-metric', { run_id: runId, key: `m${i}`, value, timestamp: 1 }));
      }
      const run = await getRun(server.client, runId);
      expect(run.data.metrics).toEqual(
        values.map((value, i) => ({ key: `m${i}`, value, timestamp: 1, step: 0 })),
      );
      for (const [i, value] of values.entries()) {
        expect(await history(server.client, runId, `m${i}`)).toEqual([
          { key: `m${i}`, value, timestamp: 1, step: 0 },
        ]);
      }
      const search = await post('/runs/search', {
        experiment_ids: [experimentId],
        filter: `attributes.run_id = '${runId}'`,
      });
      expect(search.body.runs[0].data.metrics).toEqual(run.data.metrics);
    });

    test('an identical point logged again is ignored; any difference is a new point', async () => {
      const runId = await newRun();
      for (let i = 0; i < 3; i++) {
        expectEmptyOk(
          await post('/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 5, step: 2 }),
        );
      }
      expectEmptyOk(await post('/runs/log-metric', { run_id: runId, key: 'n', value: 'NaN', timestamp: 5 }));
      expectEmptyOk(await post('/runs/log-metric', { run_id: runId, key: 'n', value: 'NaN', timestamp: 5 }));
      await logBatch(server.client, runId, { metrics: [metric('m', 1, 5, 2), metric('m', 1, 5, 2)] });
      expect(await history(server.client, runId, 'm')).toHaveLength(1);
      expect(await history(server.client, runId, 'n')).toHaveLength(1);
      await logBatch(server.client, runId, {
        metrics: [metric('m', 2, 5, 2), metric('m', 1, 6, 2), metric('m', 1, 5, 3)],
      });
      expect(await history(server.client, runId, 'm')).toHaveLength(4);
    });

    test('latest value is the max by (step, timestamp, value), across requests and within a batch', async () => {
      const runId = await newRun();
      const latest = async () => (await getRun(server.client, runId)).data.metrics[0];
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 5, timestamp: 100, step: 1 });
      // Older step, newer timestamp: not latest.
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 6, timestamp: 200, step: 0 });
      expect(await latest()).toEqual({ key: 'm', value: 5, timestamp: 100, step: 1 });
      // Same step, later timestamp wins.
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 101, step: 1 });
      expect(await latest()).toEqual({ key: 'm', value: 1, timestamp: 101, step: 1 });
      // Same step and timestamp: the larger value wins, whatever the order.
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 3, timestamp: 101, step: 1 });
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 2, timestamp: 101, step: 1 });
      expect(await latest()).toEqual({ key: 'm', value: 3, timestamp: 101, step: 1 });
      // Within one batch, regardless of order.
      await logBatch(server.client, runId, {
        metrics: [metric('m', 9, 50, 5), metric('m', 7, 60, 5), metric('m', 8, 1, 4)],
      });
      expect(await latest()).toEqual({ key: 'm', value: 7, timestamp: 60, step: 5 });
      // Negative steps are fine and never beat step 5.
      await post('/runs/log-metric', { run_id: runId, key: 'm', value: 100, timestamp: 999, step: -1 });
      expect(await latest()).toEqual({ key: 'm', value: 7, timestamp: 60, step: 5 });
    });
  });

  describe('log-parameter', () => {
    test('params are immutable: the same value is a no-op, a different one is 400', async () => {
      const runId = await newRun();
      expectEmptyOk(await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }));
      expectEmptyOk(await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' }));
      expectError(
        await post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${runId}'. Attempted logging new value '0.2'.`,
      );
      expect((await getRun(server.client, runId)).data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    });

    test('an absent or empty value is the empty string; long values are truncated to 6000', async () => {
      const runId = await newRun();
      expectEmptyOk(await post('/runs/log-parameter', { run_id: runId, key: 'empty', value: '' }));
      expectEmptyOk(await post('/runs/log-parameter', { run_id: runId, key: 'absent' }));
      expectEmptyOk(
        await post('/runs/log-parameter', { run_id: runId, key: 'long', value: 'p'.repeat(7000) }),
      );
      // Re-logging the same long value is the same (truncated) value, so still a no-op.
      expectEmptyOk(
        await post('/runs/log-parameter', { run_id: runId, key: 'long', value: 'p'.repeat(7000) }),
      );
      const params = (await getRun(server.client, runId)).data.params;
      expect(params).toEqual([
        { key: 'absent', value: '' },
        { key: 'empty', value: '' },
        { key: 'long', value: 'p'.repeat(6000) },
      ]);
    });

    test('value must be a string; key required; unknown run 404', async () => {
      const runId = await newRun();
      expectError(
        await post('/runs/log-parameter', { run_id: runId, key: 'k', value: 5 }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid value 5 for parameter 'value' supplied:  Hint: Value was of type 'int'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-parameter', { run_id: runId, value: 'v' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'key'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-parameter', { run_id: '0'.repeat(32), key: 'k', value: 'v' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${'0'.repeat(32)} not found`,
      );
    });
  });

  describe('keys', () => {
    const invalid = [
      'a//b',
      '/a',
      '../x',
      'a/',
      'a/./b',
      '.',
      'a/..',
      '..',
      'bad!',
      'semi;colon',
      'tab\tkey',
      'q"uote',
    ];
    const valid = [
      'a/b',
      'system/gpu_0_utilization_percentage',
      'with space',
      'dash-dot.key',
      'a:b',
      'métrique',
      '_',
    ];

    test.each([
      ['/runs/log-metric', (key: string) => ({ key, value: 1, timestamp: 1 })],
      ['/runs/log-parameter', (key: string) => ({ key, value: 'v' })],
      ['/runs/set-tag', (key: string) => ({ key, value: 'v' })],
    ])('%s: invalid keys are 400, path-stable word keys are fine', async (path, body) => {
      const runId = await newRun();
      for (const key of invalid) {
        expectError(
          await post(path, { run_id: runId, ...body(key) }),
          400,
          'INVALID_PARAMETER_VALUE',
          /^Invalid (metric|param|tag) name: /,
        );
      }
      expectError(
        await post(path, { run_id: runId, ...body('k'.repeat(251)) }),
        400,
        'INVALID_PARAMETER_VALUE',
        /exceeds the maximum length of 250/,
      );
      for (const key of [...valid, 'k'.repeat(250)]) {
        expectEmptyOk(await post(path, { run_id: runId, ...body(key) }));
      }
      const run = await getRun(server.client, runId);
      const keys = [...(run.data.metrics ?? []), ...(run.data.params ?? []), ...userTags(run)].map(
        (entry: { key: string }) => entry.key,
      );
      expect(keys.sort()).toEqual([...valid, 'k'.repeat(250)].sort());
    });

    test('log-batch names the offending item by its JSON path', async () => {
      const runId = await newRun();
      expectError(
        await post('/runs/log-batch', {
          run_id: runId,
          metrics: [metric('ok', 1), metric('ok2', 1), metric('a//b', 1)],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /'a\/\/b'/,
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, metrics: [metric('ok', 1), { key: 'm', value: 1 }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'metrics[1].timestamp'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, params: [{ value: 'v' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'params[0].key'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, metrics: [metric('m', 'x')] }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'metrics\[0\]\.value'/,
      );
      await expectNothingLogged(runId);
    });
  });

  describe('log-batch', () => {
    test('logs params, metrics and tags together', async () => {
      const runId = await newRun();
      await logBatch(server.client, runId, {
        metrics: [metric('loss', 0.5, 1, 0), metric('loss', 0.25, 2, 1), metric('acc', '0.9', '3', '1')],
        params: [
          { key: 'lr', value: '0.01' },
          { key: 'depth', value: '3' },
        ],
        tags: [
          { key: 't', value: 'first' },
          { key: 't', value: 'last' },
          { key: 'long', value: 'v'.repeat(8500) },
        ],
      });
      const run = await getRun(server.client, runId);
      expect(run.data.metrics).toEqual([
        { key: 'acc', value: 0.9, timestamp: 3, step: 1 },
        { key: 'loss', value: 0.25, timestamp: 2, step: 1 },
      ]);
      expect(run.data.params).toEqual([
        { key: 'depth', value: '3' },
        { key: 'lr', value: '0.01' },
      ]);
      expect(tagValue(run, 't')).toBe('last');
      expect(tagValue(run, 'long')).toHaveLength(8000);
      expectEmptyOk(await post('/runs/log-batch', { run_id: runId }));
      expectEmptyOk(await post('/runs/log-batch', { run_id: runId, metrics: [], params: [], tags: [] }));
    });

    test('changed params fail the batch with the batch message; the same values pass', async () => {
      const runId = await newRun();
      await logBatch(server.client, runId, {
        params: [
          { key: 'a', value: '1' },
          { key: 'b', value: '2' },
        ],
      });
      await logBatch(server.client, runId, {
        params: [
          { key: 'a', value: '1' },
          { key: 'c', value: '3' },
        ],
      });
      expectError(
        await post('/runs/log-batch', {
          run_id: runId,
          params: [
            { key: 'a', value: 'x' },
            { key: 'b', value: 'y' },
          ],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Params were already logged='[{'key': 'a', 'old_value': '1', 'new_value': 'x'}, {'key': 'b', 'old_value': '2', 'new_value': 'y'}]' for run ID='${runId}'.`,
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, params: [{ key: 'a', value: 'z' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Changing param values is not allowed. Param with key='a' was already logged with value='1'/,
      );
      expect((await getRun(server.client, runId)).data.params).toEqual([
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
        { key: 'c', value: '3' },
      ]);
    });

    test('duplicate param keys in one batch are 400, even with equal values', async () => {
      const runId = await newRun();
      for (const second of ['1', '2']) {
        expectError(
          await post('/runs/log-batch', {
            run_id: runId,
            params: [
              { key: 'p', value: '1' },
              { key: 'q', value: '1' },
              { key: 'p', value: second },
            ],
          }),
          400,
          'INVALID_PARAMETER_VALUE',
          /^Duplicate parameter keys have been submitted: \['p'\]/,
        );
      }
      await expectNothingLogged(runId);
    });

    test('limits: 1000 metrics, 100 params, 100 tags, 1000 items; violations write nothing', async () => {
      const runId = await newRun();
      const metrics = (n: number) => Array.from({ length: n }, (_, i) => metric(`m${i}`, i, 1, 0));
      const params = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: 'v' }));
      const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: 'v' }));
      expectError(
        await post('/runs/log-batch', { run_id: runId, metrics: metrics(1001) }),
        400,
        'INVALID_PARAMETER_VALUE',
        'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, params: params(101), metrics: metrics(5) }),
        400,
        'INVALID_PARAMETER_VALUE',
        'A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.',
      );
      expectError(
        await post('/runs/log-batch', { run_id: runId, tags: tags(101), params: params(1) }),
        400,
        'INVALID_PARAMETER_VALUE',
        'A batch logging request can contain at most 100 tags. Got 101 tags. Please split up tags across multiple requests and try again.',
      );
      expectError(
        await post('/runs/log-batch', {
          run_id: runId,
          metrics: metrics(900),
          params: params(100),
          tags: tags(1),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /at most 1000 metrics, params, and tags in total. Got 1001/,
      );
      await expectNothingLogged(runId);

      await logBatch(server.client, runId, { metrics: metrics(1000) });
      await logBatch(server.client, runId, { params: params(100), tags: tags(100) });
      const run = await getRun(server.client, runId);
      expect(run.data.metrics).toHaveLength(1000);
      expect(run.data.params).toHaveLength(100);
      expect(userTags(run)).toHaveLength(100);
    });

    test('a failing batch writes nothing at all', async () => {
      const runId = await newRun();
      await logBatch(server.client, runId, { params: [{ key: 'fixed', value: 'old' }] });
      // Valid metrics and tags, but one param conflicts: the metrics and tags must not be stored.
      expectError(
        await post('/runs/log-batch', {
          run_id: runId,
          metrics: [metric('m', 1, 1, 0), metric('m', 2, 2, 1)],
          params: [
            { key: 'fresh', value: 'v' },
            { key: 'fixed', value: 'new' },
          ],
          tags: [{ key: 't', value: 'v' }],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /Changing param values is not allowed/,
      );
      const run = await getRun(server.client, runId);
      expect(run.data.metrics).toBeUndefined();
      expect(run.data.params).toEqual([{ key: 'fixed', value: 'old' }]);
      expect(userTags(run)).toEqual([]);
      expect(await history(server.client, runId, 'm')).toEqual([]);

      // Valid params, then a metric with a negative timestamp: nothing either.
      expectError(
        await post('/runs/log-batch', {
          run_id: runId,
          params: [{ key: 'other', value: 'v' }],
          metrics: [metric('m', 1, 1, 0), metric('m', 1, -5, 0)],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expect((await getRun(server.client, runId)).data.params).toEqual([{ key: 'fixed', value: 'old' }]);
    });

    test('run_id: required, validated, unknown 404, deleted 400; lists must be lists of objects', async () => {
      const runId = await newRun();
      expectError(
        await post('/runs/log-batch', { metrics: [] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'run_id'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-batch', { run_id: 'not a run id!', metrics: [] }),
        400,
        'INVALID_PARAMETER_VALUE',
        /run_id/,
      );
      expectError(
        await post('/runs/log-batch', { run_id: '9'.repeat(32), metrics: [metric('m', 1)] }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      for (const metrics of [{ key: 'm' }, 'm', [1], [null], [[metric('m', 1)]]]) {
        expectError(
          await post('/runs/log-batch', { run_id: runId, metrics }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      }
      await expectNothingLogged(runId);
    });
  });
});
