/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
/**
 * Every series the dashboards and alerts query is one Mast really exposes: read from the `/metrics` of
 * an all-in-one server (every service, deploy's metrics and the GraphQL plugin included) and of a model
 * server serving a real ONNX model, both running in-process.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type AllInOneServer, startAllInOne } from '../../services/gateway/test/harness.js';
import { generateTestModels } from '../../services/model-server/test/support/models.js';
import { type RunningServer, startServer } from '../../services/model-server/test/support/server.js';
import { alertRules, dashboardQueries, exposedSeries, metricNames } from './support.js';

/** Series Prometheus itself writes for every target. */
const PROMETHEUS_SERIES = ['up'];

describe('metric names in dashboards and alerts', () => {
  let server: AllInOneServer | undefined;
  let modelServer: RunningServer | undefined;
  let exposed: Set<string>;

  beforeAll(async () => {
    server = await startAllInOne({ name: 'mast-infra-metrics-' });
    const { url } = server;
    // one GraphQL operation, so its histogram has samples as well as its # TYPE line
    await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Probe { __typename }' }),
    });
    const allInOne = await (await fetch(`${url}/metrics`)).text();
    modelServer = await startServer({ modelDir: (await generateTestModels()).linear });
    const scoring = await modelServer.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [[1, 2, 3, 4]] },
    });
    expect(scoring.status).toBe(200);
    const model = (await modelServer.get('/metrics')).text;
    expect(allInOne).toMatch(/^mast_graphql_operation_duration_seconds_count\{operation_name="Probe"/m);
    expect(model).toMatch(/^mast_model_inference_duration_seconds_count 1$/m);
    exposed = new Set([...exposedSeries(allInOne), ...exposedSeries(model), ...PROMETHEUS_SERIES]);
  });
  afterAll(async () => {
    await server?.close();
    await modelServer?.close();
  });

  test('the metric-name reader finds the series of an expression, not its functions, labels or keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{route=~"x|y", le!="1e-3"}[5m] offset 1h))) / on (job) group_left b_total > bool 1e-3 and c',
      ).sort(),
    ).toEqual(['a_bucket', 'b_total', 'c']);
  });

  test('what the processes expose: HTTP, GraphQL, deploy, model server and Node defaults', () => {
    for (const name of [
      'mast_http_request_duration_seconds_bucket',
      'mast_graphql_operation_duration_seconds_count',
      'mast_graphql_errors_total',
      'mast_deploy_deployments',
      'mast_deploy_queue_jobs',
      'mast_deploy_rollout_duration_seconds_count',
      'mast_model_inference_duration_seconds_bucket',
      'mast_model_batch_rows_sum',
      'mast_model_request_errors_total',
      'process_resident_memory_bytes',
    ])
      expect([name, exposed.has(name)]).toEqual([name, true]);
  });

  test('every series a dashboard queries is exposed', () => {
    const used = dashboardQueries().flatMap(({ where, expr }) =>
      metricNames(expr).map((name) => ({ where, name })),
    );
    expect(new Set(used.map(({ name }) => name)).size).toBeGreaterThanOrEqual(10);
    expect(used.filter(({ name }) => !exposed.has(name))).toEqual([]);
  });

  test('every series an alert queries is exposed', () => {
    const used = alertRules().flatMap(({ alert, expr }) =>
      metricNames(expr).map((name) => ({ alert, name })),
    );
    expect(used.length).toBeGreaterThanOrEqual(alertRules().length);
    expect(used.filter(({ name }) => !exposed.has(name))).toEqual([]);
  });
});
