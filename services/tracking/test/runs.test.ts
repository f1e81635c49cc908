import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  AJAX,
  API,
  createExperiment,
  createRun,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  getRun,
  tagValue,
  uniqueName,
  userTags,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const RUN_ID = /^[0-9a-f]{32}$/;
const RANDOM_NAME = /^[a-z]+-[a-z]+-\d{1,3}$/;

function dataset(name: string, digest: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    digest,
    source_type: 'local',
    source: JSON.stringify({ uri: `/data/${name}.csv` }),
    ...extra,
  };
}

/** Run RPCs (spec §1.2) against the Run shape of §2. */
describe.each(BACKENDS)('runs (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: Record<string, unknown>) => server.client.post(`${API}${path}`, body);

  describe('create', () => {
    test('response: RunInfo fields, no end_time, tags as a list, empty inputs', async () => {
      const before = Date.now();
      const response = await post('/runs/create', {
        experiment_id: experimentId,
        user_id: 'ada',
        tags: [
          { key: 'mlflow.user', value: 'ada' },
          { key: 'mlflow.source.type', value: 'LOCAL' },
        ],
      });
      const after = Date.now();
      expect(response.status).toBe(200);
      const { run } = response.body;
      const runId = run.info.run_id;
      expect(runId).toMatch(RUN_ID);
      expect(run).toEqual({
        info: {
          run_id: runId,
          run_uuid: runId,
          run_name: expect.stringMatching(RANDOM_NAME),
          experiment_id: experimentId,
          user_id: 'ada',
          status: 'RUNNING',
          start_time: expect.any(Number),
          artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
          lifecycle_stage: 'active',
        },
        data: {
          tags: expect.arrayContaining([
            { key: 'mlflow.user', value: 'ada' },
            { key: 'mlflow.source.type', value: 'LOCAL' },
            { key: 'mlflow.runName', value: run.info.run_name },
          ]),
        },
        inputs: {},
      });
      expect(run.data.tags).toHaveLength(3);
      expect(run.info.start_time).toBeGreaterThanOrEqual(before);
      expect(run.info.start_time).toBeLessThanOrEqual(after);
      expect(response.text).not.toContain('end_time');

      const fetched = await getRun(server.client, runId);
      expect(fetched.info).toEqual(run.info);
      expect([...fetched.data.tags].sort(byKey)).toEqual([...run.data.tags].sort(byKey));
    });

    test('experiment_id absent or empty is a 400 (no silent Default experiment)', async () => {
      for (const body of [{}, { experiment_id: '' }, { experiment_id: null }, { run_name: 'x' }]) {
        expectError(
          await post('/runs/create', body),
          400,
          'INVALID_PARAMETER_VALUE',
          `Missing value for required parameter 'experiment_id'. See the API docs for more information about request parameters.`,
        );
      }
      const search = await post('/runs/search', {
        experiment_ids: ['0'],
        filter: "attributes.run_name = 'x'",
      });
      expect(search.body).toEqual({});
    });

    test('experiment_id numeric or string 0 is the Default experiment', async () => {
      for (const body of [{ experiment_id: 0 }, { experiment_id: '0' }]) {
        const response = await post('/runs/create', body);
        expect(response.status).toBe(200);
        expect(response.body.run.info.experiment_id).toBe('0');
        expect(response.body.run.info.artifact_uri).toBe(
          `mlflow-artifacts:/0/${response.body.run.info.run_id}/artifacts`,
        );
      }
    });

    test('unknown experiment 404, deleted experiment 400', async () => {
      expectError(
        await post('/runs/create', { experiment_id: '777777' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'No Experiment with id=777777 exists',
      );
      expectError(await post('/runs/create', { experiment_id: 'abc' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const id = await createExperiment(server.client);
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expectError(
        await post('/runs/create', { experiment_id: id }),
        400,
        'INVALID_PARAMETER_VALUE',
        `The experiment ${id} must be in the 'active' state. Current state is deleted.`,
      );
    });

    test('start_time and user_id as given; user_id falls back to the mlflow.user tag', async () => {
      const run = await createRun(server.client, experimentId, { start_time: 1234, user_id: 'bob' });
      expect(run.info).toMatchObject({ start_time: 1234, user_id: 'bob' });
      const tagged = await createRun(server.client, experimentId, {
        tags: [{ key: 'mlflow.user', value: 'carol' }],
      });
      expect(tagged.info.user_id).toBe('carol');
      const anonymous = await createRun(server.client, experimentId);
      expect(anonymous.info.user_id).toBe('');
    });

    test('run name: run_name, the mlflow.runName tag, or a random name; always both in sync', async () => {
      const named = await createRun(server.client, experimentId, { run_name: 'my run' });
      expect(named.info.run_name).toBe('my run');
      expect(tagValue(named, 'mlflow.runName')).toBe('my run');

      const byTag = await createRun(server.client, experimentId, {
        tags: [{ key: 'mlflow.runName', value: 'tag name' }],
      });
      expect(byTag.info.run_name).toBe('tag name');
      expect(byTag.data.tags).toEqual([{ key: 'mlflow.runName', value: 'tag name' }]);

      const both = await createRun(server.client, experimentId, {
        run_name: 'same',
        tags: [{ key: 'mlflow.runName', value: 'same' }],
      });
      expect(both.info.run_name).toBe('same');
      expect(both.data.tags).toEqual([{ key: 'mlflow.runName', value: 'same' }]);

      // An empty tag counts as absent (MLflow: `run_name or tag or random`).
      const emptyTag = await createRun(server.client, experimentId, {
        run_name: 'given',
        tags: [{ key: 'mlflow.runName', value: '' }],
      });
      expect(emptyTag.info.run_name).toBe('given');
      expect((await getRun(server.client, emptyTag.info.run_id)).data.tags).toEqual([
        { key: 'mlflow.runName', value: 'given' },
      ]);

      expectError(
        await post('/runs/create', {
          experiment_id: experimentId,
          run_name: 'a',
          tags: [{ key: 'mlflow.runName', value: 'b' }],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values/,
      );
    });

    test('create validates tags: bad keys 400, long values truncated to 8000', async () => {
      expectError(
        await post('/runs/create', { experiment_id: experimentId, tags: [{ key: 'a//b', value: 'v' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      const run = await createRun(server.client, experimentId, {
        tags: [{ key: 'long', value: 'x'.repeat(9000) }],
      });
      expect(tagValue(await getRun(server.client, run.info.run_id), 'long')).toHaveLength(8000);
    });
  });

  describe('get', () => {
    test('unknown run 404; run_id required', async () => {
      expectError(
        await server.client.get(`${API}/runs/get`, { run_id: 'f'.repeat(32) }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${'f'.repeat(32)} not found`,
      );
      expectError(
        await server.client.get(`${API}/runs/get`),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'run_id'.${DOCS_HINT}`,
      );
    });

    test('returns latest metrics, params, tags as lists, inputs and outputs', async () => {
      const http = server.client;
      const runId = await createRunId(http, experimentId, { run_name: 'full' });
      expectEmptyOk(
        await post('/runs/log-batch', {
          run_id: runId,
          metrics: [
            { key: 'loss', value: 0.5, timestamp: 10, step: 1 },
            { key: 'loss', value: 0.4, timestamp: 11, step: 2 },
          ],
          params: [{ key: 'lr', value: '0.1' }],
          tags: [{ key: 'team', value: 'x' }],
        }),
      );
      expectEmptyOk(
        await post('/runs/log-inputs', {
          run_id: runId,
          datasets: [
            {
              tags: [{ key: 'mlflow.data.context', value: 'training' }],
              dataset: dataset('train', 'd1', { schema: '{"cols": []}', profile: '{"num_rows": 3}' }),
            },
          ],
          models: [{ model_id: 'm-0123456789abcdef0123456789abcdef' }],
        }),
      );
      expectEmptyOk(
        await post('/runs/outputs', {
          run_id: runId,
          models: [{ model_id: 'm-fedcba9876543210fedcba9876543210', step: 3 }],
        }),
      );
      const run = await getRun(http, runId);
      expect(run).toEqual({
        info: expect.objectContaining({ run_id: runId, run_name: 'full', status: 'RUNNING' }),
        data: {
          metrics: [{ key: 'loss', value: 0.4, timestamp: 11, step: 2 }],
          params: [{ key: 'lr', value: '0.1' }],
          tags: expect.arrayContaining([
            { key: 'team', value: 'x' },
            { key: 'mlflow.runName', value: 'full' },
          ]),
        },
        inputs: {
          dataset_inputs: [
            {
              tags: [{ key: 'mlflow.data.context', value: 'training' }],
              dataset: dataset('train', 'd1', { schema: '{"cols": []}', profile: '{"num_rows": 3}' }),
            },
          ],
          model_inputs: [{ model_id: 'm-0123456789abcdef0123456789abcdef' }],
        },
        outputs: { model_outputs: [{ model_id: 'm-fedcba9876543210fedcba9876543210', step: 3 }] },
      });
    });
  });

  describe('update', () => {
    test('status by name or number, end_time, run_name; absent fields unchanged', async () => {
      const run = await createRun(server.client, experimentId, { start_time: 100 });
      const runId = run.info.run_id;
      const finished = await post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: 200 });
      expect(finished.status).toBe(200);
      expect(finished.body).toEqual({
        run_info: { ...run.info, status: 'FINISHED', end_time: 200 },
      });
      const failed = await post('/runs/update', { run_id: runId, status: 4 });
      expect(failed.body.run_info).toMatchObject({ status: 'FAILED', end_time: 200 });
      const killed = await post('/runs/update', { run_id: runId, status: '5' });
      expect(killed.body.run_info.status).toBe('KILLED');
      const scheduled = await post('/runs/update', { run_id: runId, status: 'SCHEDULED' });
      expect(scheduled.body.run_info.status).toBe('SCHEDULED');
      const unchanged = await post('/runs/update', { run_id: runId });
      expect(unchanged.body.run_info).toEqual(scheduled.body.run_info);
      expect((await getRun(server.client, runId)).info).toEqual(scheduled.body.run_info);
    });

    test('run_name rewrites the mlflow.runName tag; set-tag mlflow.runName renames the run', async () => {
      const runId = await createRunId(server.client, experimentId, { run_name: 'before' });
      const renamed = await post('/runs/update', { run_id: runId, run_name: 'after' });
      expect(renamed.body.run_info.run_name).toBe('after');
      let run = await getRun(server.client, runId);
      expect(run.info.run_name).toBe('after');
      expect(tagValue(run, 'mlflow.runName')).toBe('after');

      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: 'by tag' }));
      run = await getRun(server.client, runId);
      expect(run.info.run_name).toBe('by tag');
      expect(tagValue(run, 'mlflow.runName')).toBe('by tag');

      await post('/runs/log-batch', { run_id: runId, tags: [{ key: 'mlflow.runName', value: 'by batch' }] });
      expect((await getRun(server.client, runId)).info.run_name).toBe('by batch');
      // An empty run_name means "unset", as for every protobuf string.
      const same = await post('/runs/update', { run_id: runId, run_name: '' });
      expect(same.body.run_info.run_name).toBe('by batch');
    });

    test('unknown status name ignored, unknown status number 400, unknown run 404, deleted run 400', async () => {
      const runId = await createRunId(server.client, experimentId);
      // As MLflow's parser (ParseDict, ignore_unknown_fields): an unknown enum name is dropped, so the
      // status stays as it was; the other fields of the request still apply.
      const ignored = await post('/runs/update', { run_id: runId, status: 'DONE', run_name: 'renamed' });
      expect(ignored.status).toBe(200);
      expect(ignored.body.run_info).toMatchObject({ status: 'RUNNING', run_name: 'renamed' });
      expect((await post('/runs/update', { run_id: runId, status: 'FINISHED' })).status).toBe(200);
      const stillFinished = await post('/runs/update', { run_id: runId, status: 'COMPLETED' });
      expect(stillFinished.body.run_info.status).toBe('FINISHED');
      expect((await getRun(server.client, runId)).info.status).toBe('FINISHED');
      expectError(
        await post('/runs/update', { run_id: runId, status: 9 }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'status'/,
      );
      expectError(await post('/runs/update', { run_id: runId, status: '0' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(
        await post('/runs/update', { run_id: runId, end_time: 'soon' }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'end_time'/,
      );
      expectError(
        await post('/runs/update', { run_id: 'a'.repeat(32), status: 'FINISHED' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${'a'.repeat(32)} not found`,
      );
      expectError(await post('/runs/update', { status: 'FINISHED' }), 400, 'INVALID_PARAMETER_VALUE');
      expectEmptyOk(await post('/runs/delete', { run_id: runId }));
      expectError(
        await post('/runs/update', { run_id: runId, status: 'FINISHED' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `The run ${runId} must be in the 'active' state. Current state is deleted.`,
      );
    });
  });

  describe('delete and restore', () => {
    test('soft delete and restore; search sees the lifecycle; both are repeatable', async () => {
      const exp = await createExperiment(server.client);
      const runId = await createRunId(server.client, exp);
      expectEmptyOk(await post('/runs/delete', { run_id: runId }));
      expect((await getRun(server.client, runId)).info.lifecycle_stage).toBe('deleted');
      expect((await post('/runs/search', { experiment_ids: [exp] })).body).toEqual({});
      const deleted = await post('/runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' });
      expect(deleted.body.runs.map((r: any) => r.info.run_id)).toEqual([runId]);
      expectEmptyOk(await post('/runs/delete', { run_id: runId }));
      expectEmptyOk(await post('/runs/restore', { run_id: runId }));
      expect((await getRun(server.client, runId)).info.lifecycle_stage).toBe('active');
      expectEmptyOk(await post('/runs/restore', { run_id: runId }));
    });

    test('unknown run 404; run_id required', async () => {
      for (const path of ['/runs/delete', '/runs/restore']) {
        expectError(
          await post(path, { run_id: 'b'.repeat(32) }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          `Run with id=${'b'.repeat(32)} not found`,
        );
        expectError(
          await post(path, {}),
          400,
          'INVALID_PARAMETER_VALUE',
          `Missing value for required parameter 'run_id'.${DOCS_HINT}`,
        );
      }
    });
  });

  describe('tags', () => {
    test('set-tag upserts, delete-tag removes, a missing tag is 404', async () => {
      const runId = await createRunId(server.client, experimentId);
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'k', value: '1' }));
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'k', value: '2' }));
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'empty' }));
      expect(userTags(await getRun(server.client, runId)).sort(byKey)).toEqual([
        { key: 'empty', value: '' },
        { key: 'k', value: '2' },
      ]);
      expectEmptyOk(await post('/runs/delete-tag', { run_id: runId, key: 'k' }));
      expect(userTags(await getRun(server.client, runId))).toEqual([{ key: 'empty', value: '' }]);
      expectError(
        await post('/runs/delete-tag', { run_id: runId, key: 'k' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `No tag with name: k in run with id ${runId}`,
      );
      expectError(
        await post('/runs/delete-tag', { run_id: 'c'.repeat(32), key: 'k' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectError(await post('/runs/delete-tag', { run_id: runId }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(
        await post('/runs/set-tag', { run_id: runId, value: 'v' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'key'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/set-tag', { run_id: 'c'.repeat(32), key: 'k', value: 'v' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    test('set-tag: invalid keys 400, long values truncated to 8000', async () => {
      const runId = await createRunId(server.client, experimentId);
      for (const key of ['a//b', '/x', '../x', 'a/', 'no!', 'k'.repeat(251)]) {
        expectError(
          await post('/runs/set-tag', { run_id: runId, key, value: 'v' }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      }
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'long', value: 'y'.repeat(8001) }));
      expect(tagValue(await getRun(server.client, runId), 'long')).toBe('y'.repeat(8000));
    });
  });

  describe('writes to a deleted run', () => {
    test("every write is 400 'must be in the active state'; nothing changes", async () => {
      const runId = await createRunId(server.client, experimentId);
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'keep', value: 'v' }));
      expectEmptyOk(await post('/runs/delete', { run_id: runId }));
      const before = await getRun(server.client, runId);
      const message = `The run ${runId} must be in the 'active' state. Current state is deleted.`;
      const model = { artifact_path: 'm', flavors: {}, utc_time_created: 'now', run_id: runId };
      const writes: Array<[string, Record<string, unknown>]> = [
        ['/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1 }],
        ['/runs/log-parameter', { run_id: runId, key: 'p', value: 'v' }],
        ['/runs/set-tag', { run_id: runId, key: 't', value: 'v' }],
        ['/runs/delete-tag', { run_id: runId, key: 'keep' }],
        ['/runs/log-batch', { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }],
        ['/runs/update', { run_id: runId, status: 'FINISHED' }],
        ['/runs/log-inputs', { run_id: runId, datasets: [{ dataset: dataset('d', 'x') }] }],
        ['/runs/outputs', { run_id: runId, models: [{ model_id: 'm-1', step: 0 }] }],
        ['/runs/log-model', { run_id: runId, model_json: JSON.stringify(model) }],
      ];
      for (const [path, body] of writes) {
        expectError(await post(path, body), 400, 'INVALID_PARAMETER_VALUE', message);
      }
      expect(await getRun(server.client, runId)).toEqual(before);
    });

    test('a FINISHED (but active) run still accepts writes', async () => {
      const runId = await createRunId(server.client, experimentId);
      await post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: 5 });
      expectEmptyOk(await post('/runs/log-metric', { run_id: runId, key: 'late', value: 1, timestamp: 6 }));
      expectEmptyOk(await post('/runs/set-tag', { run_id: runId, key: 'late', value: 'yes' }));
      expect((await getRun(server.client, runId)).data.metrics).toEqual([
        { key: 'late', value: 1, timestamp: 6, step: 0 },
      ]);
    });
  });

  describe('log-model', () => {
    const model = (runId: string, path: string) => ({
      artifact_path: path,
      flavors: { python_function: { loader_module: 'mlflow.sklearn' } },
      utc_time_created: '2025-01-01 00:00:00.000000',
      run_id: runId,
    });

    test('appends each model to the mlflow.log-model.history tag', async () => {
      const runId = await createRunId(server.client, experimentId);
      expectEmptyOk(
        await post('/runs/log-model', { run_id: runId, model_json: JSON.stringify(model(runId, 'a')) }),
      );
      expectEmptyOk(
        await post('/runs/log-model', { run_id: runId, model_json: JSON.stringify(model(runId, 'b')) }),
      );
      const historyTag = tagValue(await getRun(server.client, runId), 'mlflow.log-model.history');
      expect(JSON.parse(historyTag!)).toEqual([model(runId, 'a'), model(runId, 'b')]);
    });

    test('missing mandatory fields, invalid JSON, non-objects are 400', async () => {
      const runId = await createRunId(server.client, experimentId);
      expectError(
        await post('/runs/log-model', {
          run_id: runId,
          model_json: JSON.stringify({ artifact_path: 'a', flavors: {} }),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Model json is missing mandatory fields: \{.*'utc_time_created'.*\}/,
      );
      expectError(
        await post('/runs/log-model', { run_id: runId, model_json: '{not json' }),
        400,
        'INVALID_PARAMETER_VALUE',
        /is not a valid JSON/,
      );
      expectError(
        await post('/runs/log-model', { run_id: runId, model_json: '[1, 2]' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await post('/runs/log-model', { run_id: runId }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'model_json'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/log-model', {
          run_id: 'd'.repeat(32),
          model_json: JSON.stringify(model('x', 'a')),
        }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expect(tagValue(await getRun(server.client, runId), 'mlflow.log-model.history')).toBeUndefined();
    });

    test('a history tag that holds no JSON list is a 400, not a crash', async () => {
      const runId = await createRunId(server.client, experimentId);
      await post('/runs/set-tag', { run_id: runId, key: 'mlflow.log-model.history', value: 'garbage' });
      expectError(
        await post('/runs/log-model', { run_id: runId, model_json: JSON.stringify(model(runId, 'a')) }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expect(tagValue(await getRun(server.client, runId), 'mlflow.log-model.history')).toBe('garbage');
    });
  });

  describe('log-inputs', () => {
    test('datasets dedup by (name, digest) within a request and across requests; context tag kept', async () => {
      const exp = await createExperiment(server.client);
      const runId = await createRunId(server.client, exp);
      const training = {
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: dataset('ds', 'v1'),
      };
      expectEmptyOk(
        await post('/runs/log-inputs', {
          run_id: runId,
          datasets: [
            training,
            { tags: [{ key: 'mlflow.data.context', value: 'eval' }], dataset: dataset('ds', 'v1') },
            { dataset: dataset('ds', 'v2') },
          ],
        }),
      );
      expectEmptyOk(await post('/runs/log-inputs', { run_id: runId, datasets: [training] }));
      const run = await getRun(server.client, runId);
      expect(run.inputs.dataset_inputs).toHaveLength(2);
      const v1 = run.inputs.dataset_inputs.find((d: any) => d.dataset.digest === 'v1');
      // MLflow keeps the first occurrence within a request.
      expect(v1).toEqual(training);
      const v2 = run.inputs.dataset_inputs.find((d: any) => d.dataset.digest === 'v2');
      expect(v2).toEqual({ dataset: dataset('ds', 'v2') });

      // The same dataset can be linked to another run of the experiment.
      const other = await createRunId(server.client, exp);
      expectEmptyOk(await post('/runs/log-inputs', { run_id: other, datasets: [training] }));
      expect((await getRun(server.client, other)).inputs.dataset_inputs).toEqual([training]);
      // Search results carry dataset inputs, but not model inputs.
      expectEmptyOk(await post('/runs/log-inputs', { run_id: other, models: [{ model_id: 'm-abc' }] }));
      const search = await post('/runs/search', {
        experiment_ids: [exp],
        filter: `attributes.run_id = '${other}'`,
      });
      expect(search.body.runs[0].inputs).toEqual({ dataset_inputs: [training] });
      expect(search.body.runs[0].outputs).toBeUndefined();
      expect((await getRun(server.client, other)).inputs.model_inputs).toEqual([{ model_id: 'm-abc' }]);
    });

    test('dataset field limits and required fields are 400', async () => {
      const runId = await createRunId(server.client, experimentId);
      const bad: Array<[Record<string, unknown>, RegExp]> = [
        [{ dataset: dataset('n'.repeat(501), 'd') }, /datasets\[0\]\.dataset\.name.*500/],
        [{ dataset: dataset('n', 'd'.repeat(37)) }, /datasets\[0\]\.dataset\.digest.*36/],
        [{ dataset: dataset('n', 'd', { source: 's'.repeat(65536) }) }, /source.*65535/],
        [
          { tags: [{ key: 'k'.repeat(256), value: 'v' }], dataset: dataset('n', 'd') },
          /datasets\[0\]\.tags\[0\]\.key.*255/,
        ],
        [
          { tags: [{ key: 'k', value: 'v'.repeat(501) }], dataset: dataset('n', 'd') },
          /datasets\[0\]\.tags\[0\]\.value.*500/,
        ],
        [{ tags: [] }, /'datasets\[0\]\.dataset'/],
        [{ dataset: { digest: 'd', source_type: 'local', source: '{}' } }, /'datasets\[0\]\.dataset\.name'/],
        [{ dataset: { name: 'n', digest: 'd', source: '{}' } }, /'datasets\[0\]\.dataset\.source_type'/],
      ];
      for (const [input, message] of bad) {
        expectError(
          await post('/runs/log-inputs', { run_id: runId, datasets: [input] }),
          400,
          'INVALID_PARAMETER_VALUE',
          message,
        );
      }
      const many = Array.from({ length: 1001 }, (_, i) => ({ dataset: dataset(`d${i}`, 'x') }));
      expectError(
        await post('/runs/log-inputs', { run_id: runId, datasets: many }),
        400,
        'INVALID_PARAMETER_VALUE',
        /at most 1000 datasets/,
      );
      expectError(
        await post('/runs/log-inputs', { run_id: 'bad id!', datasets: [] }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(
        await post('/runs/log-inputs', {
          run_id: 'e'.repeat(32),
          datasets: [{ dataset: dataset('n', 'd') }],
        }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expect((await getRun(server.client, runId)).inputs).toEqual({});
    });
  });

  describe('outputs', () => {
    test('links models with their step; models, model_id and step are required', async () => {
      const runId = await createRunId(server.client, experimentId);
      expectEmptyOk(
        await post('/runs/outputs', {
          run_id: runId,
          models: [
            { model_id: 'm-1', step: 1 },
            { model_id: 'm-2', step: '7' },
          ],
        }),
      );
      expect((await getRun(server.client, runId)).outputs).toEqual({
        model_outputs: expect.arrayContaining([
          { model_id: 'm-1', step: 1 },
          { model_id: 'm-2', step: 7 },
        ]),
      });
      // An empty list is a no-op, as in MLflow.
      expectEmptyOk(await post('/runs/outputs', { run_id: runId, models: [] }));
      expectError(
        await post('/runs/outputs', { run_id: runId }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'models'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/outputs', { run_id: runId, models: [{ step: 1 }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'models[0].model_id'.${DOCS_HINT}`,
      );
      expectError(
        await post('/runs/outputs', { run_id: runId, models: [{ model_id: 'm-3' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'models[0].step'.${DOCS_HINT}`,
      );
    });
  });

  describe('search-datasets (ajax)', () => {
    test('distinct (experiment, name, digest, context) summaries; 1 to 20 experiment ids', async () => {
      const exp = await createExperiment(server.client, uniqueName('datasets'));
      const empty = await createExperiment(server.client);
      const a = await createRunId(server.client, exp);
      const b = await createRunId(server.client, exp);
      const input = (context: string | undefined, name: string) => ({
        ...(context ? { tags: [{ key: 'mlflow.data.context', value: context }] } : {}),
        dataset: dataset(name, 'dg'),
      });
      await post('/runs/log-inputs', {
        run_id: a,
        datasets: [input('training', 'x'), input(undefined, 'y')],
      });
      await post('/runs/log-inputs', { run_id: b, datasets: [input('training', 'x')] });
      for (const prefix of [AJAX, API]) {
        const response = await server.client.post(`${prefix}/experiments/search-datasets`, {
          experiment_ids: [exp, empty],
        });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          dataset_summaries: [
            { experiment_id: exp, name: 'x', digest: 'dg', context: 'training' },
            { experiment_id: exp, name: 'y', digest: 'dg' },
          ],
        });
      }
      const none = await server.client.post(`${AJAX}/experiments/search-datasets`, {
        experiment_ids: [empty],
      });
      expect(none.body).toEqual({});
      // MLflow's own wording (tests/tracking/test_rest_tracking.py).
      const tooFew = 'SearchDatasets request must specify at least one experiment_id.';
      for (const [body, message] of [
        [{ experiment_ids: [] }, tooFew],
        [{}, tooFew],
        [
          { experiment_ids: Array.from({ length: 21 }, (_, i) => String(i)) },
          'SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids.',
        ],
      ] as const) {
        expectError(
          await server.client.post(`${AJAX}/experiments/search-datasets`, body),
          400,
          'INVALID_PARAMETER_VALUE',
          message,
        );
      }
    });
  });
});

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
