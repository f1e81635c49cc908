import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, type Database } from '@mast/common';
import { BACKENDS, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { createTracking, prepareTrackingDatabase } from '../src/plugin.js';
import { searchLoggedModels } from '../src/store/logged-model-store.js';
import type { TrackingDatabase } from '../src/store/schema.js';

const API = '/api/2.0/mlflow';
const MODELS = `${API}/logged-models`;
const START = 1_700_000_000_000;

interface KeyValue {
  key: string;
  value: string;
}

/** Counts the SQL statements a Kysely instance sends. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.count++;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * MLflow 3 logged models over real HTTP (spec §1.5): the requests the Python client sends for
 * `mlflow.<flavor>.log_model(...)`, `mlflow.search_logged_models(...)` and the `MlflowClient` helpers.
 */
describe.each(BACKENDS)('logged models (%s)', (backend) => {
  let database: Database<TrackingDatabase>;
  let app: FastifyInstance;
  let http: HttpClient;
  let now = START;

  beforeAll(async () => {
    database = await openTestDatabase<TrackingDatabase>(backend);
    // Every clock read is a distinct millisecond, so creation order is observable in timestamps.
    const deps = { db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/', clock: () => now++ };
    await prepareTrackingDatabase(deps);
    ({ app } = createHttpApp({ logLevel: 'silent', bodyLimit: 32 * 1024 * 1024 }));
    await createTracking(deps).registerRest(app);
    http = new HttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  async function createExperiment(name: string): Promise<string> {
    const response = await http.post(`${API}/experiments/create`, { name });
    expect(response.status).toBe(200);
    return response.body.experiment_id;
  }

  async function createRun(experimentId: string): Promise<string> {
    const response = await http.post(`${API}/runs/create`, {
      experiment_id: experimentId,
      start_time: START,
    });
    expect(response.status).toBe(200);
    return response.body.run.info.run_id;
  }

  async function createModel(body: Record<string, unknown>): Promise<any> {
    const response = await http.post(MODELS, body);
    expect(response.status).toBe(200);
    return response.body.model;
  }

  const patch = (path: string, body: unknown) => http.request('PATCH', path, body);
  const del = (path: string, body?: unknown) => http.request('DELETE', path, body);

  async function search(body: Record<string, unknown>) {
    return http.post(`${MODELS}/search`, body);
  }

  async function searchNames(body: Record<string, unknown>): Promise<string[]> {
    const response = await search(body);
    expect(response.status).toBe(200);
    return (response.body.models ?? []).map((model: any) => model.info.name);
  }

  function expectError(response: { status: number; body: any }, status: number, code: string): void {
    expect({ status: response.status, code: response.body?.error_code }).toEqual({ status, code });
    expect(typeof response.body.message).toBe('string');
  }

  test('log_model flow: create, log metrics with model_id, finalize, get', async () => {
    const experimentId = await createExperiment('log-model-flow');
    const runId = await createRun(experimentId);
    const tags: KeyValue[] = [
      { key: 'mlflow.user', value: 'ada' },
      { key: 'mlflow.source.name', value: 'train.py' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
    ];
    const created = await http.post(MODELS, {
      experiment_id: experimentId,
      name: 'model',
      model_type: 'sklearn',
      source_run_id: runId,
      params: [
        { key: 'l1_ratio', value: '0.5' },
        { key: 'alpha', value: '0.1' },
      ],
      tags,
    });
    expect(created.status).toBe(200);
    const model = created.body.model;
    const modelId: string = model.info.model_id;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model).toEqual({
      info: {
        model_id: modelId,
        experiment_id: experimentId,
        name: 'model',
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: model.info.creation_timestamp_ms,
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: 'sklearn',
        source_run_id: runId,
        tags: [...tags].sort((a, b) => a.key.localeCompare(b.key)),
      },
      data: {
        params: [
          { key: 'alpha', value: '0.1' },
          { key: 'l1_ratio', value: '0.5' },
        ],
      },
    });

    // The client records the model as a run output, then logs evaluation metrics against it.
    const outputs = await http.post(`${API}/runs/outputs`, {
      run_id: runId,
      models: [{ model_id: modelId, step: 0 }],
    });
    expect(outputs.status).toBe(200);
    const batch = await http.post(`${API}/runs/log-batch`, {
      run_id: runId,
      metrics: [
        {
          key: 'acc',
          value: 0.93,
          timestamp: START + 10,
          step: 0,
          model_id: modelId,
          dataset_name: 'eval',
          dataset_digest: 'd1',
        },
        { key: 'loss', value: 'NaN', timestamp: START + 10, step: 0, model_id: modelId },
        { key: 'unrelated', value: 1, timestamp: START + 10, step: 0 },
      ],
    });
    expect(batch.status).toBe(200);

    const finalized = await patch(`${MODELS}/${modelId}`, {
      model_id: modelId,
      status: 'LOGGED_MODEL_READY',
    });
    expect(finalized.status).toBe(200);
    expect(finalized.body.model.info.status).toBe('LOGGED_MODEL_READY');
    expect(finalized.body.model.info.last_updated_timestamp_ms).toBeGreaterThan(
      model.info.creation_timestamp_ms,
    );

    const fetched = await http.get(`${MODELS}/${modelId}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.model.info).toMatchObject({
      model_id: modelId,
      status: 'LOGGED_MODEL_READY',
      name: 'model',
    });
    expect(fetched.body.model.data.metrics).toEqual([
      {
        key: 'acc',
        value: 0.93,
        timestamp: START + 10,
        step: 0,
        dataset_name: 'eval',
        dataset_digest: 'd1',
        model_id: modelId,
        run_id: runId,
      },
      { key: 'loss', value: 'NaN', timestamp: START + 10, step: 0, model_id: modelId, run_id: runId },
    ]);
    expect(fetched.text).toContain('"value":"NaN"');

    // The UI reads the same model under /ajax-api; the run lists it as an output.
    const viaAjax = await http.get(`/ajax-api/2.0/mlflow/logged-models/${modelId}`);
    expect(viaAjax.status).toBe(200);
    expect(viaAjax.body).toEqual(fetched.body);
    const run = await http.get(`${API}/runs/get`, { run_id: runId });
    expect(run.body.run.outputs.model_outputs).toEqual([{ model_id: modelId, step: 0 }]);
  });

  test('create: random default name, numeric experiment id, no empty lists', async () => {
    const experimentId = await createExperiment('defaults');
    const response = await http.post(MODELS, { experiment_id: Number(experimentId), name: '' });
    expect(response.status).toBe(200);
    const { info, data } = response.body.model;
    expect(info.name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(info.experiment_id).toBe(experimentId);
    expect(info).not.toHaveProperty('tags');
    expect(info).not.toHaveProperty('model_type');
    expect(info).not.toHaveProperty('source_run_id');
    expect(data).toEqual({});
    // Experiment "0" (Default) works too.
    const inDefault = await createModel({ experiment_id: '0' });
    expect(inDefault.info.artifact_uri).toBe(
      `mlflow-artifacts:/0/models/${inDefault.info.model_id}/artifacts`,
    );
  });

  describe('search', () => {
    let experimentId: string;
    let otherExperimentId: string;
    let runId: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      experimentId = await createExperiment('search-models');
      otherExperimentId = await createExperiment('search-models-other');
      runId = await createRun(experimentId);
      const specs: Array<{
        name: string;
        alpha: string;
        team: string;
        metrics: Array<[string, number | string, string?]>;
      }> = [
        {
          name: 'm1',
          alpha: '0.1',
          team: 'a',
          metrics: [
            ['acc', 0.9, 'eval'],
            ['acc', 0.2, 'train'],
          ],
        },
        { name: 'm2', alpha: '0.1', team: 'b', metrics: [['acc', 0.3, 'eval']] },
        { name: 'm3', alpha: '0.2', team: 'a', metrics: [['acc', 0.7, 'eval']] },
        { name: 'm4', alpha: '0.3', team: 'b', metrics: [['acc', 'NaN', 'eval']] },
        { name: 'm5', alpha: '0.3', team: 'b', metrics: [] },
      ];
      for (const spec of specs) {
        const model = await createModel({
          experiment_id: experimentId,
          name: spec.name,
          source_run_id: runId,
          params: [{ key: 'alpha', value: spec.alpha }],
          tags: [{ key: 'team', value: spec.team }],
        });
        ids[spec.name] = model.info.model_id;
        if (spec.metrics.length > 0) {
          const metrics = spec.metrics.map(([key, value, dataset], index) => ({
            key,
            value,
            timestamp: START + 100 + index,
            step: 0,
            model_id: model.info.model_id,
            dataset_name: dataset,
            dataset_digest: dataset ? `${dataset}-digest` : undefined,
          }));
          expect((await http.post(`${API}/runs/log-batch`, { run_id: runId, metrics })).status).toBe(200);
        }
      }
      // m1's latest eval accuracy supersedes an earlier, lower one.
      await http.post(`${API}/runs/log-batch`, {
        run_id: runId,
        metrics: [
          {
            key: 'acc',
            value: 0.1,
            timestamp: START + 50,
            step: 0,
            model_id: ids.m1,
            dataset_name: 'eval',
            dataset_digest: 'eval-digest',
          },
        ],
      });
      await patch(`${MODELS}/${ids.m1}`, { model_id: ids.m1, status: 'LOGGED_MODEL_READY' });
      await patch(`${MODELS}/${ids.m3}`, { model_id: ids.m3, status: 'LOGGED_MODEL_UPLOAD_FAILED' });
      await createModel({ experiment_id: otherExperimentId, name: 'elsewhere' });
      const deleted = await createModel({ experiment_id: experimentId, name: 'deleted' });
      expect((await del(`${MODELS}/${deleted.info.model_id}`)).status).toBe(200);
    });

    test('default order is newest first; deleted models and other experiments are left out', async () => {
      const response = await search({ experiment_ids: [experimentId] });
      expect(response.status).toBe(200);
      expect(response.body.models.map((m: any) => m.info.name)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
      expect(response.body).not.toHaveProperty('next_page_token');
      const m1 = response.body.models[4];
      expect(m1.data.params).toEqual([{ key: 'alpha', value: '0.1' }]);
      expect(m1.info.tags).toEqual([{ key: 'team', value: 'a' }]);
      expect(m1.data.metrics).toHaveLength(3);
      expect(await searchNames({ experiment_ids: [experimentId, otherExperimentId] })).toEqual([
        'elsewhere',
        'm5',
        'm4',
        'm3',
        'm2',
        'm1',
      ]);
      expect(await searchNames({ experiment_ids: ['424242'] })).toEqual([]);
      expect((await search({ experiment_ids: ['424242'] })).body).toEqual({});
    });

    test("filters: metrics.acc > 0.5 and params.alpha = '0.1' (the Python client's examples)", async () => {
      expect(await searchNames({ experiment_ids: [experimentId], filter: 'metrics.acc > 0.5' })).toEqual([
        'm3',
        'm1',
      ]);
      expect(await searchNames({ experiment_ids: [experimentId], filter: "params.alpha = '0.1'" })).toEqual([
        'm2',
        'm1',
      ]);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          filter: "metrics.acc > 0.5 AND params.alpha = '0.1'",
        }),
      ).toEqual(['m1']);
      // NaN is "not equal" to any number (the run search's rule too).
      expect(await searchNames({ experiment_ids: [experimentId], filter: 'metrics.acc != 0.3' })).toEqual([
        'm4',
        'm3',
        'm1',
      ]);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          filter: "tags.team = 'b' OR metrics.acc >= 0.7",
        }),
      ).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
      expect(
        await searchNames({ experiment_ids: [experimentId], filter: "tags.team = 'b' AND metrics.acc < 1" }),
      ).toEqual(['m2']);
    });

    test('filters on attributes', async () => {
      const names = (filter: string) => searchNames({ experiment_ids: [experimentId], filter });
      expect(await names("name = 'm2'")).toEqual(['m2']);
      expect(await names("name LIKE 'm%' AND name != 'm5'")).toEqual(['m4', 'm3', 'm2', 'm1']);
      expect(await names("name IN ('m1', 'm4')")).toEqual(['m4', 'm1']);
      expect(await names(`model_id = '${ids.m3}'`)).toEqual(['m3']);
      expect(await names("status = 'LOGGED_MODEL_READY'")).toEqual(['m1']);
      expect(await names("status = 'FAILED'")).toEqual(['m3']);
      expect(await names("status != 'LOGGED_MODEL_PENDING'")).toEqual(['m3', 'm1']);
      expect(await names(`source_run_id = '${runId}' AND name = 'm4'`)).toEqual(['m4']);
      const all = (await search({ experiment_ids: [experimentId] })).body.models;
      const m3Created = all.find((m: any) => m.info.name === 'm3').info.creation_timestamp_ms;
      expect(await names(`creation_timestamp > ${m3Created}`)).toEqual(['m5', 'm4']);
      expect(await names(`creation_time <= ${m3Created} AND creation_time >= ${m3Created}`)).toEqual(['m3']);
      expect(await names('last_updated_timestamp > 0 AND tags.team IS NULL')).toEqual([]);
      expect(await names("params.alpha IS NOT NULL AND tags.team ILIKE 'A'")).toEqual(['m3', 'm1']);
    });

    test('datasets restrict which metrics filters consider', async () => {
      const datasets = [{ dataset_name: 'train' }];
      expect(
        await searchNames({ experiment_ids: [experimentId], filter: 'metrics.acc > 0.5', datasets }),
      ).toEqual([]);
      expect(
        await searchNames({ experiment_ids: [experimentId], filter: 'metrics.acc < 0.5', datasets }),
      ).toEqual(['m1']);
      // Without a metric filter, `datasets` keeps the models having any metric on those datasets.
      expect(await searchNames({ experiment_ids: [experimentId], datasets })).toEqual(['m1']);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          filter: 'metrics.acc > 0.5',
          datasets: [{ dataset_name: 'eval', dataset_digest: 'eval-digest' }],
        }),
      ).toEqual(['m3', 'm1']);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          datasets: [{ dataset_name: 'eval', dataset_digest: 'other-digest' }],
        }),
      ).toEqual([]);
    });

    test('order by a metric: missing and NaN values last in both directions', async () => {
      const order = (ascending?: boolean, extra: Record<string, string> = {}) =>
        searchNames({
          experiment_ids: [experimentId],
          order_by: [{ field_name: 'metrics.acc', ascending, ...extra }],
        });
      // m1's latest acc (by timestamp, across datasets) is 0.2 on train: it was logged last.
      expect(await order(false)).toEqual(['m3', 'm2', 'm1', 'm5', 'm4']);
      expect(await order(true)).toEqual(['m1', 'm2', 'm3', 'm5', 'm4']);
      expect(await order(undefined)).toEqual(['m1', 'm2', 'm3', 'm5', 'm4']);
      expect(await order(false, { dataset_name: 'eval' })).toEqual(['m1', 'm3', 'm2', 'm5', 'm4']);
      expect(await order(false, { dataset_name: 'eval', dataset_digest: 'eval-digest' })).toEqual([
        'm1',
        'm3',
        'm2',
        'm5',
        'm4',
      ]);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          order_by: [{ field_name: 'name', ascending: false }],
        }),
      ).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          order_by: [{ field_name: 'creation_timestamp', ascending: true }],
        }),
      ).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      expect(
        await searchNames({
          experiment_ids: [experimentId],
          filter: "params.alpha = '0.3'",
          order_by: [{ field_name: 'status' }, { field_name: 'creation_time', ascending: true }],
        }),
      ).toEqual(['m4', 'm5']);
    });

    test('paging with page tokens', async () => {
      const body = {
        experiment_ids: [experimentId],
        max_results: 2,
        order_by: [{ field_name: 'metrics.acc', ascending: false, dataset_name: 'eval' }],
      };
      const first = await search(body);
      expect(first.status).toBe(200);
      expect(first.body.models.map((m: any) => m.info.name)).toEqual(['m1', 'm3']);
      expect(typeof first.body.next_page_token).toBe('string');
      const second = await search({ ...body, page_token: first.body.next_page_token });
      expect(second.body.models.map((m: any) => m.info.name)).toEqual(['m2', 'm5']);
      const third = await search({ ...body, page_token: second.body.next_page_token });
      expect(third.body.models.map((m: any) => m.info.name)).toEqual(['m4']);
      expect(third.body).not.toHaveProperty('next_page_token');
      // Exactly one page's worth: no token for an empty page.
      const exact = await search({ experiment_ids: [experimentId], max_results: 5 });
      expect(exact.body.models).toHaveLength(5);
      expect(exact.body).not.toHaveProperty('next_page_token');
      // max_results 0 is protobuf's "unset": the default page size (50).
      expect((await search({ experiment_ids: [experimentId], max_results: 0 })).body.models).toHaveLength(5);
    });

    test('a search sends the same number of statements whatever the page size', async () => {
      const counts: number[] = [];
      for (const maxResults of [1, 2, 5]) {
        const counter = new StatementCounter();
        const { models } = await searchLoggedModels(database.db.withPlugin(counter), {
          experimentIds: [experimentId],
          filter: undefined,
          datasets: [{ name: 'eval' }],
          orderBy: [{ kind: 'metric', key: 'acc', ascending: false }],
          maxResults,
          offset: 0,
        });
        expect(models).toHaveLength(Math.min(maxResults, 4));
        counts.push(counter.count);
      }
      expect(counts).toEqual([4, 4, 4]);
    });

    test('bad search input is a 400', async () => {
      const bad = async (body: Record<string, unknown>) =>
        expectError(await search(body), 400, 'INVALID_PARAMETER_VALUE');
      await bad({});
      await bad({ experiment_ids: [] });
      await bad({ experiment_ids: experimentId, filter: 'metrics.acc >' });
      await bad({ experiment_ids: [experimentId], filter: 'metrics.acc > 0.5 AND' + ' foo.bar = 1' });
      await bad({ experiment_ids: [experimentId], filter: "metrics.acc = 'high'" });
      await bad({ experiment_ids: [experimentId], filter: 'params.alpha = 0.1 OR (' });
      await bad({ experiment_ids: [experimentId], filter: "datasets.name = 'eval'" });
      await bad({ experiment_ids: [experimentId], filter: "attributes.lifecycle_stage = 'deleted'" });
      await bad({ experiment_ids: [experimentId], order_by: [{ field_name: 'params.alpha' }] });
      await bad({ experiment_ids: [experimentId], order_by: [{ field_name: 'bogus' }] });
      await bad({ experiment_ids: [experimentId], order_by: [{ ascending: true }] });
      await bad({
        experiment_ids: [experimentId],
        order_by: [{ field_name: 'metrics.acc', dataset_digest: 'x' }],
      });
      await bad({ experiment_ids: [experimentId], order_by: 'name' });
      await bad({ experiment_ids: [experimentId], datasets: [{ dataset_digest: 'x' }] });
      await bad({ experiment_ids: [experimentId], max_results: -1 });
      await bad({ experiment_ids: [experimentId], max_results: 'many' });
      await bad({ experiment_ids: [experimentId], page_token: 'not-a-token' });
    });
  });

  test('tags: set (upsert), delete, keys with slashes, missing tag 404', async () => {
    const experimentId = await createExperiment('tags');
    const model = await createModel({ experiment_id: experimentId, tags: [{ key: 'a', value: '0' }] });
    const path = `${MODELS}/${model.info.model_id}`;
    const tagsOf = async () => (await http.get(path)).body.model.info.tags;

    const set = await patch(`${path}/tags`, {
      tags: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
        { key: 'dir/key', value: '3' },
        { key: 'empty', value: '' },
      ],
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({});
    expect(await tagsOf()).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'dir/key', value: '3' },
      { key: 'empty', value: '' },
    ]);

    const removed = await del(`${path}/tags/a`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({});
    // Keys containing '/' may come raw or percent-encoded.
    expect((await del(`${path}/tags/${encodeURIComponent('dir/key')}`)).status).toBe(200);
    expect((await patch(`${path}/tags`, { tags: [{ key: 'x/y', value: '4' }] })).status).toBe(200);
    expect((await del(`${path}/tags/x/y`)).status).toBe(200);
    expect(
      (await del(`${path}/tags/empty`, { model_id: model.info.model_id, tag_key: 'empty' })).status,
    ).toBe(200);
    expect(await tagsOf()).toEqual([{ key: 'b', value: '2' }]);

    expectError(await del(`${path}/tags/a`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(
      await patch(`${path}/tags`, { tags: [{ key: '../x', value: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(await patch(`${path}/tags`, { tags: [{ value: '1' }] }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await patch(`${MODELS}/m-unknown/tags`, { tags: [{ key: 'a', value: '1' }] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(await del(`${MODELS}/m-unknown/tags/a`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(await tagsOf()).toEqual([{ key: 'b', value: '2' }]);
  });

  test('params are immutable: same value is a no-op, a new value fails the whole request', async () => {
    const experimentId = await createExperiment('params');
    const model = await createModel({
      experiment_id: experimentId,
      params: [{ key: 'alpha', value: '0.1' }],
    });
    const modelId = model.info.model_id;
    const path = `${MODELS}/${modelId}/params`;
    const paramsOf = async () => (await http.get(`${MODELS}/${modelId}`)).body.model.data.params;

    const same = await http.post(path, { model_id: modelId, params: [{ key: 'alpha', value: '0.1' }] });
    expect(same.status).toBe(200);
    expect(same.body).toEqual({});
    expect((await http.post(path, { model_id: modelId, params: [{ key: 'beta', value: '2' }] })).status).toBe(
      200,
    );
    expect(await paramsOf()).toEqual([
      { key: 'alpha', value: '0.1' },
      { key: 'beta', value: '2' },
    ]);

    const changed = await http.post(path, {
      model_id: modelId,
      params: [
        { key: 'gamma', value: '3' },
        { key: 'alpha', value: '0.2' },
      ],
    });
    expectError(changed, 400, 'INVALID_PARAMETER_VALUE');
    expect(changed.body.message).toContain("key='alpha'");
    expect(await paramsOf()).toEqual([
      { key: 'alpha', value: '0.1' },
      { key: 'beta', value: '2' },
    ]);

    const conflicting = await http.post(path, {
      model_id: modelId,
      params: [
        { key: 'delta', value: '1' },
        { key: 'delta', value: '2' },
      ],
    });
    expectError(conflicting, 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await http.post(MODELS, {
        experiment_id: experimentId,
        params: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.post(path, { params: [{ key: 'bad//key', value: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.post(`${MODELS}/m-unknown/params`, {
        model_id: 'm-unknown',
        params: [{ key: 'a', value: '1' }],
      }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );

    // Concurrent writers of one new key: exactly one value wins, the others get the immutability error.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        http.post(path, { model_id: modelId, params: [{ key: 'raced', value: String(i) }] }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400, 400, 400]);
    for (const loser of racing.filter((r) => r.status !== 200))
      expect(loser.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    // More params than the client sends per request (it batches by 100) still land atomically.
    const many = Array.from({ length: 250 }, (_, i) => ({
      key: `p${String(i).padStart(3, '0')}`,
      value: String(i),
    }));
    expect((await http.post(path, { model_id: modelId, params: many })).status).toBe(200);
    expect(await paramsOf()).toHaveLength(253);
  });

  test('delete is soft: get → 404, allow_deleted=true → 200; finalize errors', async () => {
    const experimentId = await createExperiment('delete');
    const model = await createModel({ experiment_id: experimentId, name: 'doomed' });
    const modelId = model.info.model_id;
    const path = `${MODELS}/${modelId}`;

    expectError(await patch(path, { model_id: modelId }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await patch(path, { model_id: modelId, status: 'LOGGED_MODEL_PENDING' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(await patch(path, { model_id: modelId, status: 'DONE' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await patch(`${MODELS}/m-unknown`, { status: 'LOGGED_MODEL_READY' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // Enum by number (3 = LOGGED_MODEL_UPLOAD_FAILED), as protobuf JSON allows.
    const failed = await patch(path, { model_id: modelId, status: 3 });
    expect(failed.status).toBe(200);
    expect(failed.body.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');

    const deleted = await del(path, { model_id: modelId });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({});
    const gone = await http.get(path);
    expectError(gone, 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(gone.body.message).toBe(`Logged model with ID '${modelId}' not found.`);
    expectError(await http.get(path, { allow_deleted: 'false' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    const kept = await http.get(path, { allow_deleted: 'True' });
    expect(kept.status).toBe(200);
    expect(kept.body.model.info).toMatchObject({
      model_id: modelId,
      name: 'doomed',
      status: 'LOGGED_MODEL_UPLOAD_FAILED',
    });
    expect(await searchNames({ experiment_ids: [experimentId] })).toEqual([]);

    expectError(await del(`${MODELS}/m-unknown`, { model_id: 'm-unknown' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await http.get(`${MODELS}/m-unknown`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  test('create errors: missing, unknown, and deleted experiments; bad names, params and tags', async () => {
    expectError(await http.post(MODELS, {}), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await http.post(MODELS, { experiment_id: '' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await http.post(MODELS, { experiment_id: { id: '1' } }), 400, 'INVALID_PARAMETER_VALUE');
    const unknown = await http.post(MODELS, { experiment_id: '987654' });
    expectError(unknown, 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(unknown.body.message).toBe('No Experiment with id=987654 exists');
    expectError(await http.post(MODELS, { experiment_id: 'abc' }), 404, 'RESOURCE_DOES_NOT_EXIST');

    const experimentId = await createExperiment('soon-deleted');
    expect((await http.post(`${API}/experiments/delete`, { experiment_id: experimentId })).status).toBe(200);
    const inactive = await http.post(MODELS, { experiment_id: experimentId });
    expectError(inactive, 400, 'INVALID_PARAMETER_VALUE');
    expect(inactive.body.message).toBe(
      `The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`,
    );

    const active = await createExperiment('create-errors');
    for (const name of ['a/b', 'a.b', 'a:b', '50%', "it's"]) {
      expectError(await http.post(MODELS, { experiment_id: active, name }), 400, 'INVALID_PARAMETER_VALUE');
    }
    expectError(
      await http.post(MODELS, { experiment_id: active, name: 'x'.repeat(501) }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(await http.post(MODELS, { experiment_id: active, name: 42 }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await http.post(MODELS, { experiment_id: active, params: [{ key: '/abs', value: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.post(MODELS, { experiment_id: active, tags: { key: 'a' } }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.post(MODELS, { experiment_id: active, tags: [{ key: 'a\u0000', value: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    // Nothing was created by the failed requests.
    expect(await searchNames({ experiment_ids: [active] })).toEqual([]);
  });
});
