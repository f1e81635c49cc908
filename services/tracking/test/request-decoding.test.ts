import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { MLFLOW_COMPATIBLE_VERSION, RequestReader } from '@mast/common';
import { BACKENDS } from '@mast/test-support';
import {
  AJAX,
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  getRun,
  history,
  uniqueName,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** How MLflow's server reads requests (spec §0.2) and the non-RPC routes clients rely on (§0.4). */
describe.each(BACKENDS)('request decoding and transport (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server.close());

  /** A POST with raw bytes: fetch sets no Content-Type for a binary body. */
  async function rawPost(path: string, body: string | undefined, headers: Record<string, string> = {}) {
    const response = await fetch(`${server.client.baseUrl}${path}`, {
      method: 'POST',
      headers,
      body: body === undefined ? undefined : new TextEncoder().encode(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
  }

  describe('URL prefixes', () => {
    test('every RPC answers under /api/2.0 and /ajax-api/2.0 alike', async () => {
      const http = server.client;
      const name = uniqueName('ajax');
      const created = await http.post(`${AJAX}/experiments/create`, { name });
      expect(created.status).toBe(200);
      const viaApi = await http.get(`${API}/experiments/get`, { experiment_id: created.body.experiment_id });
      const viaAjax = await http.get(`${AJAX}/experiments/get`, {
        experiment_id: created.body.experiment_id,
      });
      expect(viaApi.status).toBe(200);
      expect(viaAjax.body).toEqual(viaApi.body);
      expect(viaApi.body.experiment.name).toBe(name);

      const runId = await createRunId(http, created.body.experiment_id);
      expectEmptyOk(
        await http.post(`${AJAX}/runs/log-metric`, { run_id: runId, key: 'm', value: 1, timestamp: 5 }),
      );
      const ajaxHistory = await http.get(`${AJAX}/metrics/get-history`, { run_id: runId, metric_key: 'm' });
      expect(ajaxHistory.body).toEqual({ metrics: [{ key: 'm', value: 1, timestamp: 5, step: 0 }] });
      const ajaxSearch = await http.post(`${AJAX}/runs/search`, {
        experiment_ids: [created.body.experiment_id],
      });
      expect(ajaxSearch.body.runs.map((r: any) => r.info.run_id)).toEqual([runId]);
    });

    test('an unknown route is a 404 ENDPOINT_NOT_FOUND JSON body, so clients fall back', async () => {
      const http = server.client;
      expectError(await http.get(`${API}/does/not/exist`), 404, 'ENDPOINT_NOT_FOUND');
      expectError(await http.post(`${API}/runs/nope`, {}), 404, 'ENDPOINT_NOT_FOUND');
      // A V3 RPC Mast does not serve (QueryTraceMetrics).
      expectError(await http.post('/api/3.0/mlflow/traces/metrics', {}), 404, 'ENDPOINT_NOT_FOUND');
      // A known path with the wrong method is not a route either.
      expectError(await http.get(`${API}/runs/create`), 404, 'ENDPOINT_NOT_FOUND');
      expectError(await http.post(`${API}/runs/get`, {}), 404, 'ENDPOINT_NOT_FOUND');
      // search runs is POST only; get-history-bulk is only under /ajax-api.
      expectError(await http.get(`${API}/runs/search`), 404, 'ENDPOINT_NOT_FOUND');
      expectError(
        await http.get(`${API}/metrics/get-history-bulk`, { run_id: 'a', metric_key: 'm' }),
        404,
        'ENDPOINT_NOT_FOUND',
      );
    });
  });

  describe('GET query strings', () => {
    test('a single occurrence of a repeated field is a one-element list; several keys a longer one', async () => {
      const http = server.client;
      const exp = await createExperiment(http);
      const a = await createRunId(http, exp);
      const b = await createRunId(http, exp);
      for (const runId of [a, b]) {
        expectEmptyOk(
          await http.post(`${API}/runs/log-metric`, { run_id: runId, key: 'loss', value: 1, timestamp: 1 }),
        );
      }
      const one = await http.get(`${API}/metrics/get-history-bulk-interval`, {
        run_ids: a,
        metric_key: 'loss',
      });
      expect(one.status).toBe(200);
      expect(one.body.metrics.map((m: any) => m.run_id)).toEqual([a]);
      const two = await http.get(`${API}/metrics/get-history-bulk-interval`, {
        run_ids: [b, a],
        metric_key: 'loss',
      });
      expect(two.body.metrics.map((m: any) => m.run_id)).toEqual([b, a]);

      const names = [uniqueName('q-b'), uniqueName('q-a')];
      for (const name of names) await createExperiment(http, name, { tags: [{ key: 'group', value: 'q' }] });
      const single = await http.get(`${API}/experiments/search`, {
        filter: "tags.group = 'q'",
        order_by: 'name DESC',
      });
      expect(single.body.experiments.map((e: any) => e.name)).toEqual([...names].sort().reverse());
      const repeated = await http.get(`${API}/experiments/search`, {
        filter: "tags.group = 'q'",
        order_by: ['last_update_time ASC', 'name ASC'],
      });
      expect(repeated.status).toBe(200);
      expect(repeated.body.experiments).toHaveLength(2);
    });

    test('numbers and enums arrive as strings; a repeated scalar key keeps the last value', async () => {
      const http = server.client;
      const page = await http.get(`${API}/experiments/search`, { max_results: '1', view_type: 'ALL' });
      expect(page.status).toBe(200);
      expect(page.body.experiments).toHaveLength(1);
      expect(typeof page.body.next_page_token).toBe('string');
      const byNumber = await http.get(`${API}/experiments/search`, { max_results: '1', view_type: '3' });
      expect(byNumber.body).toEqual(page.body);
      const lastWins = await http.get(`${API}/experiments/search`, { max_results: ['5', '1'] });
      expect(lastWins.body.experiments).toHaveLength(1);
      expectError(
        await http.get(`${API}/experiments/search`, { max_results: 'ten' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid value "ten" for parameter 'max_results' supplied:  Hint: Value was of type 'str'.${DOCS_HINT}`,
      );
      // An unknown enum name is ignored (ACTIVE_ONLY); an unknown number is a 400.
      const unknownName = await http.get(`${API}/experiments/search`, { view_type: 'SOME' });
      const activeOnly = await http.get(`${API}/experiments/search`, { view_type: 'ACTIVE_ONLY' });
      expect(unknownName.status).toBe(200);
      expect(unknownName.body).toEqual(activeOnly.body);
      expectError(
        await http.get(`${API}/experiments/search`, { view_type: '9' }),
        400,
        'INVALID_PARAMETER_VALUE',
        /view_type/,
      );
    });

    test('booleans are read as MLflow reads them: true/false in any case, anything else rejected', () => {
      const reader = (value: unknown, fromQuery = false) => RequestReader.of({ flag: value }, { fromQuery });
      expect(reader('True').boolean('flag')).toBe(true);
      expect(reader('true').boolean('flag')).toBe(true);
      expect(reader('TRUE').boolean('flag')).toBe(true);
      expect(reader('False').boolean('flag')).toBe(false);
      expect(reader('false').boolean('flag')).toBe(false);
      expect(reader(true).boolean('flag')).toBe(true);
      // A repeated query key: its last value.
      expect(reader(['false', 'True'], true).boolean('flag')).toBe(true);
      expect(reader(undefined).boolean('flag')).toBeUndefined();
      for (const bad of ['yes', '1', 1, {}]) {
        expect(() => reader(bad).boolean('flag')).toThrow(/Invalid value .* for parameter 'flag'/);
      }
    });

    test('required GET parameters are reported missing when absent or empty', async () => {
      const http = server.client;
      const message = `Missing value for required parameter 'experiment_id'.${DOCS_HINT}`;
      expectError(await http.get(`${API}/experiments/get`), 400, 'INVALID_PARAMETER_VALUE', message);
      expectError(
        await http.get(`${API}/experiments/get`, { experiment_id: '' }),
        400,
        'INVALID_PARAMETER_VALUE',
        message,
      );
    });
  });

  describe('POST JSON bodies', () => {
    test('unknown fields are ignored', async () => {
      const http = server.client;
      const response = await http.post(`${API}/runs/create`, {
        experiment_id: experimentId,
        something_new: { nested: [1, 2] },
        source_type: 'LOCAL',
        source_name: 'x.py',
      });
      expect(response.status).toBe(200);
      expect(response.body.run.info.experiment_id).toBe(experimentId);
    });

    test("int64 fields as decimal strings (Java's JsonFormat), enums by name or number", async () => {
      const http = server.client;
      const created = await http.post(`${API}/runs/create`, {
        experiment_id: Number(experimentId),
        start_time: '1700000000000',
      });
      expect(created.status).toBe(200);
      const runId = created.body.run.info.run_id;
      expect(created.body.run.info.start_time).toBe(1700000000000);
      expect(created.body.run.info.experiment_id).toBe(experimentId);
      expectEmptyOk(
        await http.post(`${API}/runs/log-metric`, {
          run_id: runId,
          key: 'm',
          value: '0.5',
          timestamp: '1700000000001',
          step: '-3',
        }),
      );
      expect(await history(http, runId, 'm')).toEqual([
        { key: 'm', value: 0.5, timestamp: 1700000000001, step: -3 },
      ]);
      const updated = await http.post(`${API}/runs/update`, {
        run_id: runId,
        status: 3,
        end_time: '1700000000002',
      });
      expect(updated.body.run_info).toMatchObject({ status: 'FINISHED', end_time: 1700000000002 });
    });

    test('a body double-encoded as a JSON string is decoded twice', async () => {
      const http = server.client;
      const name = uniqueName('double');
      const response = await http.request(
        'POST',
        `${API}/experiments/create`,
        JSON.stringify(JSON.stringify({ name })),
      );
      expect(response.status).toBe(200);
      const experiment = await http.get(`${API}/experiments/get-by-name`, { experiment_name: name });
      expect(experiment.body.experiment.experiment_id).toBe(response.body.experiment_id);
    });

    test('bare NaN / Infinity / -Infinity tokens (Python json) are accepted', async () => {
      const http = server.client;
      const runId = await createRunId(http, experimentId);
      const body = `{"run_id": "${runId}", "metrics": [
        {"key": "m", "value": NaN, "timestamp": 1, "step": 0},
        {"key": "m", "value": Infinity, "timestamp": 2, "step": 1},
        {"key": "m", "value": -Infinity, "timestamp": 3, "step": 2}],
        "tags": [{"key": "note", "value": "NaN and Infinity stay text"}]}`;
      expectEmptyOk(await http.request('POST', `${API}/runs/log-batch`, body));
      expect((await history(http, runId, 'm')).map((m) => m.value)).toEqual(['NaN', 'Infinity', '-Infinity']);
      const run = await getRun(http, runId);
      expect(run.data.tags).toContainEqual({ key: 'note', value: 'NaN and Infinity stay text' });
    });

    test('run_uuid is accepted where run_id is (deprecated alias)', async () => {
      const http = server.client;
      const runId = await createRunId(http, experimentId);
      const got = await http.get(`${API}/runs/get`, { run_uuid: runId });
      expect(got.body.run.info.run_uuid).toBe(runId);
      expectEmptyOk(
        await http.post(`${API}/runs/log-metric`, { run_uuid: runId, key: 'm', value: 1, timestamp: 1 }),
      );
      expectEmptyOk(await http.post(`${API}/runs/log-parameter`, { run_uuid: runId, key: 'p', value: 'v' }));
      expectEmptyOk(await http.post(`${API}/runs/set-tag`, { run_uuid: runId, key: 't', value: 'v' }));
      const updated = await http.post(`${API}/runs/update`, { run_uuid: runId, status: 'KILLED' });
      expect(updated.body.run_info.status).toBe('KILLED');
      const hist = await http.get(`${API}/metrics/get-history`, { run_uuid: runId, metric_key: 'm' });
      expect(hist.body.metrics).toHaveLength(1);
      const run = await getRun(http, runId);
      expect(run.data.params).toEqual([{ key: 'p', value: 'v' }]);
      expect(run.data.tags).toContainEqual({ key: 't', value: 'v' });
    });

    test('POST without Content-Type, or with text/plain, is 400 INVALID_PARAMETER_VALUE', async () => {
      const body = JSON.stringify({ name: uniqueName('ctype') });
      expectError(
        await rawPost(`${API}/experiments/create`, body),
        400,
        'INVALID_PARAMETER_VALUE',
        'Bad Request. Content-Type header is missing.',
      );
      const mustBeJson = 'Bad Request. Content-Type must be one of [application/json].';
      for (const contentType of [
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
      ]) {
        expectError(
          await rawPost(`${API}/experiments/create`, body, { 'content-type': contentType }),
          400,
          'INVALID_PARAMETER_VALUE',
          mustBeJson,
        );
      }
      expectError(
        await rawPost(`${AJAX}/runs/search`, '{}', { 'content-type': 'text/plain' }),
        400,
        'INVALID_PARAMETER_VALUE',
        mustBeJson,
      );
      // Parameters after the media type are ignored, and the type is case-insensitive.
      const ok = await rawPost(`${API}/experiments/create`, JSON.stringify({ name: uniqueName('charset') }), {
        'content-type': 'Application/JSON; charset=UTF-8',
      });
      expect(ok.status).toBe(200);
    });

    test('an empty JSON body counts as {}', async () => {
      const response = await rawPost(`${API}/experiments/create`, '', { 'content-type': 'application/json' });
      expectError(
        response,
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'name'.${DOCS_HINT}`,
      );
      const search = await rawPost(`${API}/runs/search`, '', { 'content-type': 'application/json' });
      expect(search.status).toBe(200);
    });

    test('malformed JSON and non-object bodies are 400s', async () => {
      const json = { 'content-type': 'application/json' };
      for (const body of ['{bad', '{"name": }', '{"name": "x"', "{'name': 'x'}", 'nope', '"{bad"']) {
        expectError(
          await rawPost(`${API}/experiments/create`, body, json),
          400,
          'INVALID_PARAMETER_VALUE',
          /^Malformed JSON request body/,
        );
      }
      // A bare NaN body reads as the string "NaN" (decoded once more, never recursively): not an object.
      for (const body of ['[1, 2]', '42', 'true', '"just text"', 'NaN', '"\\"NaN\\""']) {
        const response = await rawPost(`${API}/experiments/create`, body, json);
        expect(response.status).toBe(400);
        expect(response.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      }
    });

    test('a field of the wrong JSON type names the field', async () => {
      const http = server.client;
      expectError(
        await http.post(`${API}/experiments/create`, { name: 42 }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid value 42 for parameter 'name' supplied:  Hint: Value was of type 'int'.${DOCS_HINT}`,
      );
      expectError(
        await http.post(`${API}/experiments/create`, { name: 'x', tags: { key: 'a' } }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'tags'/,
      );
      expectError(
        await http.post(`${API}/experiments/create`, { name: 'x', tags: [{ key: 'a', value: 5 }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'tags\[0\]\.value'/,
      );
    });

    test("a lone value for a repeated field is MLflow's _assert_array failure in JSON (not in a query)", async () => {
      const http = server.client;
      for (const [path, body, field, shown] of [
        ['/runs/search', { experiment_ids: experimentId }, 'experiment_ids', `"${experimentId}"`],
        [
          '/runs/search',
          { experiment_ids: [experimentId], order_by: 'start_time' },
          'order_by',
          '"start_time"',
        ],
        ['/experiments/search', { order_by: 'name' }, 'order_by', '"name"'],
      ] as const) {
        expectError(
          await http.post(`${API}${path}`, body),
          400,
          'INVALID_PARAMETER_VALUE',
          `Invalid value ${shown} for parameter '${field}' supplied:  Hint: Value was of type 'str'.${DOCS_HINT}`,
        );
      }
      const single = await http.get(`${API}/experiments/search?max_results=5&order_by=name`);
      expect(single.status).toBe(200);
    });

    test('strings holding NUL characters are rejected, not a database error', async () => {
      const http = server.client;
      const runId = await createRunId(http, experimentId);
      const cases: Array<[string, Record<string, unknown>]> = [
        ['/experiments/create', { name: 'a\u0000b' }],
        ['/runs/log-parameter', { run_id: runId, key: 'p', value: 'v\u0000' }],
        ['/runs/set-tag', { run_id: runId, key: 't', value: '\u0000' }],
        ['/runs/search', { experiment_ids: [experimentId], filter: "params.p = 'x\u0000'" }],
        ['/runs/create', { experiment_id: experimentId, run_name: 'n\u0000' }],
      ];
      for (const [path, body] of cases) {
        expectError(await http.post(`${API}${path}`, body), 400, 'INVALID_PARAMETER_VALUE', /NUL characters/);
      }
      expectError(
        await http.get(`${API}/experiments/get-by-name`, { experiment_name: 'x\u0000' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });
  });

  describe('non-RPC routes', () => {
    test('/health and /version answer plain text', async () => {
      const health = await server.client.get('/health');
      expect(health.status).toBe(200);
      expect(health.text).toBe('OK');
      expect(health.headers.get('content-type')).toMatch(/^text\/plain/);
      const version = await server.client.get('/version');
      expect(version.status).toBe(200);
      expect(version.text).toBe(MLFLOW_COMPATIBLE_VERSION);
      expect(version.text).toMatch(/^\d+\.\d+\.\d+$/);
    });

    test('/ready checks the database', async () => {
      const ready = await server.client.get('/ready');
      expect(ready.status).toBe(200);
      expect(ready.text).toBe('OK');
    });

    test('/metrics exposes the request-duration histogram after a request', async () => {
      await server.client.get(`${API}/experiments/get`, { experiment_id: '0' });
      const metrics = await server.client.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(metrics.text).toContain('# TYPE mast_http_request_duration_seconds histogram');
      expect(metrics.text).toMatch(
        /mast_http_request_duration_seconds_count\{method="GET",route="\/api\/2\.0\/mlflow\/experiments\/get",status_code="200"\} [1-9]/,
      );
    });
  });
});
