import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { startTrackingServer, type TrackingServer } from './harness.js';

/**
 * Replays what the Python client sends for `mlflow.set_experiment(...)`, `with mlflow.start_run(): ...`,
 * `mlflow.search_runs(...)` and `MlflowClient().get_metric_history(...)`, with its exact request shapes.
 */
describe.each(BACKENDS)('Python client start_run session (%s)', (backend) => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
  });
  afterAll(async () => server.close());

  test('get-by-name, create, create run, log-batch, update, search, get-history', async () => {
    const http = server.client;
    const missing = await http.get('/api/2.0/mlflow/experiments/get-by-name', {
      experiment_name: 'fraud-model',
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    const created = await http.post('/api/2.0/mlflow/experiments/create', { name: 'fraud-model' });
    expect(created.status).toBe(200);
    const experimentId = created.body.experiment_id;
    expect(experimentId).toMatch(/^[1-9]\d*$/);

    const experiment = await http.get('/api/2.0/mlflow/experiments/get-by-name', {
      experiment_name: 'fraud-model',
    });
    expect(experiment.body.experiment).toMatchObject({
      experiment_id: experimentId,
      name: 'fraud-model',
      artifact_location: `mlflow-artifacts:/${experimentId}`,
      lifecycle_stage: 'active',
    });
    expect(typeof experiment.body.experiment.creation_time).toBe('number');

    const start = 1_700_000_000_000;
    const runResponse = await http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      user_id: 'ada',
      start_time: start,
      tags: [
        { key: 'mlflow.user', value: 'ada' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
      ],
    });
    expect(runResponse.status).toBe(200);
    const run = runResponse.body.run;
    const runId: string = run.info.run_id;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info).toEqual({
      run_id: runId,
      run_uuid: runId,
      run_name: expect.stringMatching(/^[a-z]+-[a-z]+-\d{1,3}$/),
      experiment_id: experimentId,
      user_id: 'ada',
      status: 'RUNNING',
      start_time: start,
      artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      lifecycle_stage: 'active',
    });
    const runNameTag = run.data.tags.find((t: { key: string }) => t.key === 'mlflow.runName');
    expect(runNameTag.value).toBe(run.info.run_name);

    const batch = await http.post('/api/2.0/mlflow/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'loss', value: 0.9, timestamp: start + 1, step: 0 },
        { key: 'loss', value: 0.5, timestamp: start + 2, step: 1 },
        { key: 'loss', value: 'NaN', timestamp: start + 3, step: 2 },
        { key: 'loss', value: 0.25, timestamp: start + 4, step: 3 },
        { key: 'acc', value: 0.75, timestamp: start + 4, step: 3 },
      ],
      params: [{ key: 'lr', value: '0.01' }],
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toEqual({});

    const finished = await http.post('/api/2.0/mlflow/runs/update', {
      run_id: runId,
      run_uuid: runId,
      status: 'FINISHED',
      end_time: start + 10,
    });
    expect(finished.body.run_info).toMatchObject({ status: 'FINISHED', end_time: start + 10 });

    const search = await http.post('/api/2.0/mlflow/runs/search', {
      experiment_ids: [experimentId],
      filter: "metrics.loss < 1 and params.lr = '0.01'",
      run_view_type: 'ACTIVE_ONLY',
      max_results: 1000,
      order_by: ['metrics.loss DESC'],
    });
    expect(search.status).toBe(200);
    expect(search.body.next_page_token).toBeUndefined();
    expect(search.body.runs).toHaveLength(1);
    const found = search.body.runs[0];
    expect(found.info.run_id).toBe(runId);
    expect(found.data.metrics).toEqual([
      { key: 'acc', value: 0.75, timestamp: start + 4, step: 3 },
      { key: 'loss', value: 0.25, timestamp: start + 4, step: 3 },
    ]);
    expect(found.data.params).toEqual([{ key: 'lr', value: '0.01' }]);

    const history = await http.get('/api/2.0/mlflow/metrics/get-history', {
      run_id: runId,
      run_uuid: runId,
      metric_key: 'loss',
      max_results: 25000,
    });
    expect(history.status).toBe(200);
    expect(history.body.metrics.map((m: { value: unknown }) => m.value)).toEqual([0.9, 0.5, 'NaN', 0.25]);
    expect(history.body.next_page_token).toBeUndefined();
  });
});
