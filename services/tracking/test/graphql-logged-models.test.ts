import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS, type HttpClient } from '@mast/test-support';
import { startTrackingServer, type TrackingServer } from './harness.js';

const API = '/api/2.0/mlflow';
const START = 1_700_000_000_000;

const MODELS_QUERY = `
  query Models($ids: [ID!]!, $filter: String, $orderBy: [LoggedModelOrder!], $first: Int!, $after: String) {
    loggedModels(experimentIds: $ids, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      nodes { id name status }
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const MODEL_QUERY = `
  query Model($id: ID!) {
    loggedModel(id: $id) {
      id experimentId name modelType status statusMessage artifactLocation creationTime lastUpdatedTime
      sourceRunId sourceRun { id name } experiment { name }
      params { key value } tags(keys: ["team"]) { key value }
      metrics { key value step datasetName datasetDigest runId }
    }
  }`;

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

interface ModelsData {
  loggedModels: {
    nodes: Array<{ id: string; name: string; status: string }>;
    edges: Array<{ cursor: string; node: { id: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/**
 * MLflow 3 logged models in the tracking subgraph (issue 14, the UI's P12): `loggedModels` searches as
 * MLflow's REST `logged-models/search` does (filter, metric order, pages) and `loggedModel` reads one
 * with its params, tags, metrics, source run and experiment.
 */
describe.each(BACKENDS)('GraphQL logged models (%s)', (backend) => {
  let server: TrackingServer;
  let http: HttpClient;
  let experimentId: string;
  let runId: string;
  const ids: Record<string, string> = {};

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
    return (await http.post('/graphql', { query, variables })).body as GraphQLBody<T>;
  }

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    http = server.client;

    experimentId = (await http.post(`${API}/experiments/create`, { name: 'models' })).body.experiment_id;
    const run = await http.post(`${API}/runs/create`, { experiment_id: experimentId, run_name: 'trainer' });
    runId = run.body.run.info.run_id;
    for (const [name, alpha, acc] of [
      ['m1', '0.1', 0.9],
      ['m2', '0.2', 0.5],
      ['m3', '0.3', 0.7],
    ] as const) {
      const created = await http.post(`${API}/logged-models`, {
        experiment_id: experimentId,
        name,
        model_type: 'sklearn',
        source_run_id: runId,
        params: [{ key: 'alpha', value: alpha }],
        tags: [
          { key: 'team', value: 'risk' },
          { key: 'mlflow.user', value: 'ada' },
        ],
      });
      expect(created.status).toBe(200);
      const modelId = created.body.model.info.model_id as string;
      ids[name] = modelId;
      const metrics = [
        { key: 'acc', value: acc, timestamp: START, step: 1, model_id: modelId, dataset_name: 'eval' },
      ];
      expect((await http.post(`${API}/runs/log-batch`, { run_id: runId, metrics })).status).toBe(200);
    }
    expect(
      (await http.request('PATCH', `${API}/logged-models/${ids.m1}`, { status: 'LOGGED_MODEL_READY' }))
        .status,
    ).toBe(200);
    const deleted = await http.post(`${API}/logged-models`, { experiment_id: experimentId, name: 'gone' });
    expect(
      (await http.request('DELETE', `${API}/logged-models/${deleted.body.model.info.model_id}`)).status,
    ).toBe(200);
  });
  afterAll(async () => server?.close());

  test('loggedModels: active models, newest first; filter and metric order as MLflow; cursor pages', async () => {
    const all = await graphql<ModelsData>(MODELS_QUERY, { ids: [experimentId], first: 10 });
    expect(all.errors).toBeUndefined();
    expect(all.data!.loggedModels.nodes.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(all.data!.loggedModels.pageInfo.hasNextPage).toBe(false);

    const ready = await graphql<ModelsData>(MODELS_QUERY, {
      ids: [experimentId],
      filter: "status = 'READY'",
      first: 10,
    });
    expect(ready.data!.loggedModels.nodes).toEqual([{ id: ids.m1, name: 'm1', status: 'READY' }]);

    const byAcc = { ids: [experimentId], orderBy: [{ field: 'metrics.acc', ascending: false }], first: 2 };
    const first = await graphql<ModelsData>(MODELS_QUERY, byAcc);
    expect(first.data!.loggedModels.nodes.map((m) => m.name)).toEqual(['m1', 'm3']);
    expect(first.data!.loggedModels.pageInfo.hasNextPage).toBe(true);
    expect(first.data!.loggedModels.edges.at(-1)!.cursor).toBe(first.data!.loggedModels.pageInfo.endCursor);
    const second = await graphql<ModelsData>(MODELS_QUERY, {
      ...byAcc,
      after: first.data!.loggedModels.pageInfo.endCursor,
    });
    expect(second.data!.loggedModels.nodes.map((m) => m.name)).toEqual(['m2']);
    expect(second.data!.loggedModels.pageInfo.hasNextPage).toBe(false);

    const params = await graphql<ModelsData>(MODELS_QUERY, {
      ids: [experimentId],
      filter: "params.alpha = '0.2'",
      first: 10,
    });
    expect(params.data!.loggedModels.nodes.map((m) => m.name)).toEqual(['m2']);
  });

  test('loggedModel: attributes, params, tags, metrics, source run and experiment', async () => {
    const { data, errors } = await graphql<{ loggedModel: Record<string, unknown> }>(MODEL_QUERY, {
      id: ids.m1,
    });
    expect(errors).toBeUndefined();
    expect(data!.loggedModel).toEqual({
      id: ids.m1,
      experimentId,
      name: 'm1',
      modelType: 'sklearn',
      status: 'READY',
      statusMessage: null,
      artifactLocation: `mlflow-artifacts:/${experimentId}/models/${ids.m1}/artifacts`,
      creationTime: expect.any(Number),
      lastUpdatedTime: expect.any(Number),
      sourceRunId: runId,
      sourceRun: { id: runId, name: 'trainer' },
      experiment: { name: 'models' },
      params: [{ key: 'alpha', value: '0.1' }],
      tags: [{ key: 'team', value: 'risk' }],
      metrics: [{ key: 'acc', value: 0.9, step: 1, datasetName: 'eval', datasetDigest: null, runId }],
    });
  });

  test("errors: an unknown model, a bad order field, a bad filter (MLflow's codes)", async () => {
    const missing = await graphql(MODEL_QUERY, { id: 'm-00000000000000000000000000000000' });
    expect(missing.errors?.[0]?.extensions.code).toBe('RESOURCE_DOES_NOT_EXIST');
    const badOrder = await graphql(MODELS_QUERY, {
      ids: [experimentId],
      orderBy: [{ field: 'params.alpha' }],
      first: 10,
    });
    expect(badOrder.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
    expect(badOrder.errors?.[0]?.message).toContain('Only metrics are supported');
    const badFilter = await graphql(MODELS_QUERY, { ids: [experimentId], filter: 'name =', first: 10 });
    expect(badFilter.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
    const badFirst = await graphql(MODELS_QUERY, { ids: [experimentId], first: 0 });
    expect(badFirst.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
  });
});
