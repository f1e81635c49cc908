import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, type Database } from '@mast/common';
import { BACKENDS, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import { createTracking, prepareTrackingDatabase } from '../src/plugin.js';
import type { TrackingDatabase } from '../src/store/schema.js';
import {
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  getRun,
  uniqueName,
} from './fixtures.js';

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

/**
 * Answers MLflow clients get from MLflow and must get from Mast (issue 8, "MLflow clients"), found with
 * real clients' own test suites. Each test is one class of answers, over HTTP, on both backends.
 */
describe.each(BACKENDS)('what MLflow clients rely on (%s)', (backend) => {
  let database: Database<TrackingDatabase>;
  let app: FastifyInstance;
  let http: HttpClient;
  let experimentId: string;
  const post = (path: string, body: unknown) => http.post(`${API}${path}`, body);
  const graphql = async (query: string, variables?: Record<string, unknown>) => {
    const response = await http.post('/graphql', { query, variables });
    expect(response.status).toBe(200);
    return response.body as { data?: any; errors?: any[] };
  };

  beforeAll(async () => {
    database = await openTestDatabase<TrackingDatabase>(backend);
    const deps = { db: database.db, defaultArtifactRoot: 'mlflow-artifacts:/' };
    await prepareTrackingDatabase(deps);
    app = createHttpApp({ logLevel: 'silent', bodyLimit: 32 * 1024 * 1024 }).app;
    const tracking = createTracking(deps);
    await tracking.registerRest(app);
    tracking.registerSubgraph(app);
    http = new HttpClient(await app.listen({ host: '127.0.0.1', port: 0 }));
    experimentId = await createExperiment(http, uniqueName('clients'));
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  test('8: fields MLflow always sets are present even when empty or 0, the others omitted', async () => {
    const runId = await createRunId(http, experimentId, { start_time: 5 });
    // end_time 0 is "unset" for MLflow (`if self.end_time:`): omitted, like an unfinished run's.
    await post('/runs/update', { run_id: runId, status: 'FINISHED', end_time: 0 });
    await post('/runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'zero', value: 0, timestamp: 0, step: 0 }],
      params: [{ key: 'empty', value: '' }],
      tags: [{ key: 'blank', value: '' }],
    });
    await post('/runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: '{}' } }],
    });
    const got = await getRun(http, runId);
    const search = await post('/runs/search', { experiment_ids: [experimentId] });
    const searched = search.body.runs.find((run: any) => run.info.run_id === runId);
    for (const run of [got, searched]) {
      expect(run.info).toEqual({
        run_id: runId,
        run_uuid: runId,
        run_name: expect.any(String),
        experiment_id: experimentId,
        user_id: '',
        status: 'FINISHED',
        start_time: 5,
        artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
        lifecycle_stage: 'active',
      });
      expect(run.data.metrics).toEqual([{ key: 'zero', value: 0, timestamp: 0, step: 0 }]);
      expect(run.data.params).toEqual([{ key: 'empty', value: '' }]);
      expect(run.data.tags).toContainEqual({ key: 'blank', value: '' });
      // A dataset's schema and profile are set only `if` given; an input without tags has none.
      expect(run.inputs.dataset_inputs).toEqual([
        { dataset: { name: 'd', digest: 'x', source_type: 'local', source: '{}' } },
      ]);
    }
    const history = await http.get(`${API}/metrics/get-history`, { run_id: runId, metric_key: 'zero' });
    expect(history.body).toEqual({ metrics: [{ key: 'zero', value: 0, timestamp: 0, step: 0 }] });
    const summaries = await http.post('/ajax-api/2.0/mlflow/experiments/search-datasets', {
      experiment_ids: [experimentId],
    });
    // No `mlflow.data.context` tag: `context` is left out (`if self.context:`), the rest is there.
    expect(summaries.body.dataset_summaries).toEqual([
      { experiment_id: experimentId, name: 'd', digest: 'x' },
    ]);
    const experiment = await http.get(`${API}/experiments/get`, { experiment_id: experimentId });
    expect(Object.keys(experiment.body.experiment).sort()).toEqual(
      [
        'artifact_location',
        'creation_time',
        'experiment_id',
        'last_update_time',
        'lifecycle_stage',
        'name',
      ].sort(),
    );
  });

  test('9: unknown enum names are ignored as MLflow parses them; unknown numbers are a 400', async () => {
    const runId = await createRunId(http, experimentId);
    const ignored = await post('/runs/update', { run_id: runId, status: 'NOT_A_STATUS', end_time: 7 });
    expect(ignored.status).toBe(200);
    expect(ignored.body.run_info).toMatchObject({ status: 'RUNNING', end_time: 7 });
    expect((await getRun(http, runId)).info.status).toBe('RUNNING');
    expectError(
      await post('/runs/update', { run_id: runId, status: 42 }),
      400,
      'INVALID_PARAMETER_VALUE',
      /parameter 'status'/,
    );
    expect((await getRun(http, runId)).info.status).toBe('RUNNING');
    // view types: an unknown name falls back to ACTIVE_ONLY, by JSON body and by query string.
    await post('/runs/delete', { run_id: await createRunId(http, experimentId) });
    const active = await post('/runs/search', {
      experiment_ids: [experimentId],
      run_view_type: 'ACTIVE_ONLY',
    });
    const unknown = await post('/runs/search', { experiment_ids: [experimentId], run_view_type: 'EVERY' });
    expect(unknown.body).toEqual(active.body);
    expectError(
      await post('/runs/search', { experiment_ids: [experimentId], run_view_type: 5 }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const experiments = await http.get(`${API}/experiments/search`, {
      view_type: 'WHATEVER',
      max_results: 50,
    });
    const activeExperiments = await http.get(`${API}/experiments/search`, {
      view_type: 'ACTIVE_ONLY',
      max_results: 50,
    });
    expect(experiments.body).toEqual(activeExperiments.body);
    expectError(
      await http.get(`${API}/experiments/search`, { view_type: '4' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    // A logged model's finalize status: an unknown name is no status at all (required), a number 400.
    const model = await post('/logged-models', { experiment_id: experimentId });
    const modelId = model.body.model.info.model_id;
    const finalize = (status: unknown) =>
      http.request('PATCH', `${API}/logged-models/${modelId}`, { model_id: modelId, status });
    expectError(
      await finalize('LOGGED_MODEL_DONE'),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'status'.${DOCS_HINT}`,
    );
    expectError(await finalize(9), 400, 'INVALID_PARAMETER_VALUE');
    expect((await finalize('LOGGED_MODEL_READY')).body.model.info.status).toBe('LOGGED_MODEL_READY');
  });

  test('10: runs/create without experiment_id is a 400, not a run in the Default experiment', async () => {
    const before = await post('/runs/search', { experiment_ids: ['0'], run_view_type: 'ALL' });
    for (const body of [{}, { experiment_id: '' }, { run_name: 'orphan' }]) {
      expectError(
        await post('/runs/create', body),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'experiment_id'.${DOCS_HINT}`,
      );
    }
    expect((await post('/runs/search', { experiment_ids: ['0'], run_view_type: 'ALL' })).body).toEqual(
      before.body,
    );
    // GraphQL's createRun documents its default (the Default experiment) and keeps it.
    const created = await graphql('mutation { createRun(input: {}) { id experimentId } }');
    expect(created.errors).toBeUndefined();
    expect(created.data.createRun.experimentId).toBe('0');
  });

  test('12: metric steps and timestamps are int64 end to end (REST and GraphQL)', async () => {
    const runId = await createRunId(http, experimentId);
    // Sent as JSON integers beyond 2^53 (raw text: JSON.stringify cannot write them) and as strings.
    const raw = `{"run_id":"${runId}","key":"big","value":1.5,"timestamp":${INT64_MAX},"step":${INT64_MAX}}`;
    expectEmptyOk(await http.request('POST', `${API}/runs/log-metric`, raw));
    expectEmptyOk(
      await http.request(
        'POST',
        `${API}/runs/log-batch`,
        `{"run_id":"${runId}","metrics":[{"key":"big","value":2,"timestamp":9007199254740993,"step":${INT64_MIN}},` +
          `{"key":"big","value":3,"timestamp":"1700000000000","step":"-9007199254740993"}]}`,
      ),
    );
    const history = await http.get(`${API}/metrics/get-history`, { run_id: runId, metric_key: 'big' });
    expect(history.status).toBe(200);
    // Ordered by (timestamp, step, value); the numbers written digit for digit.
    // (PostgreSQL's json_agg separates elements with ', '.)
    expect(history.text.replaceAll('}, {', '},{')).toBe(
      '{"metrics":[' +
        `{"key":"big","value":3,"timestamp":1700000000000,"step":-9007199254740993},` +
        `{"key":"big","value":2,"timestamp":9007199254740993,"step":${INT64_MIN}},` +
        `{"key":"big","value":1.5,"timestamp":${INT64_MAX},"step":${INT64_MAX}}]}`,
    );
    const latest = `{"key":"big","value":1.5,"timestamp":${INT64_MAX},"step":${INT64_MAX}}`;
    expect((await http.get(`${API}/runs/get`, { run_id: runId })).text).toContain(`"metrics":[${latest}]`);
    const search = await post('/runs/search', {
      experiment_ids: [experimentId],
      filter: `attributes.run_id = '${runId}'`,
    });
    expect(search.text).toContain(`"metrics":[${latest}]`);
    const bulk = await http.get(`${API}/metrics/get-history-bulk-interval`, {
      run_ids: runId,
      metric_key: 'big',
    });
    expect(bulk.status).toBe(200);
    expect(bulk.text).toContain(`"step":${INT64_MAX}`);
    // (MLflow's sampling starts at step 0 when no start_step is given: the negative steps are left out.)
    expect(bulk.text).not.toContain('"step":-');
    // Out of int64: a 400 naming the field.
    for (const step of ['9223372036854775808', '-9223372036854775809', '1.5']) {
      expectError(
        await http.request(
          'POST',
          `${API}/runs/log-metric`,
          `{"run_id":"${runId}","key":"x","value":1,"timestamp":1,"step":${step}}`,
        ),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'step'/,
      );
    }
    // GraphQL: Long beyond 2^53 is written as its decimal string, and accepted as one (or as a literal).
    const logged = await graphql(
      `mutation ($step: Long!) {
        logBatch(input: { runId: "${runId}", metrics: [
          { key: "gql", value: 1, timestamp: 9223372036854775806, step: $step }
        ] }) { id }
      }`,
      { step: '-9223372036854775807' },
    );
    expect(logged.errors).toBeUndefined();
    const read = await graphql(`{
      run(id: "${runId}") {
        latestMetrics { key step timestamp }
        metricHistory(key: "big") { points { step timestamp value } }
      }
    }`);
    expect(read.errors).toBeUndefined();
    expect(read.data.run.latestMetrics).toEqual([
      { key: 'big', step: INT64_MAX, timestamp: INT64_MAX },
      { key: 'gql', step: '-9223372036854775807', timestamp: '9223372036854775806' },
    ]);
    expect(read.data.run.metricHistory.points).toEqual([
      { step: INT64_MIN, timestamp: '9007199254740993', value: 2 },
      { step: '-9007199254740993', timestamp: 1700000000000, value: 3 },
      { step: INT64_MAX, timestamp: INT64_MAX, value: 1.5 },
    ]);
    // Downsampling works in doubles: a series with steps beyond ±2^53 is not bucketed but returned whole.
    const whole = await graphql(`{
      run(id: "${runId}") { metricHistory(key: "big", maxPoints: 1) { downsampled points { step } } }
    }`);
    expect(whole.errors).toBeUndefined();
    expect(whole.data.run.metricHistory).toEqual({
      downsampled: false,
      points: [{ step: INT64_MIN }, { step: '-9007199254740993' }, { step: INT64_MAX }],
    });
    const bad = await graphql(
      `{ run(id: "${runId}") { metricHistory(key: "big", startStep: "9223372036854775808") { points { step } } } }`,
    );
    expect(bad.errors?.[0]?.message).toMatch(/Long cannot represent/);
  });
});
