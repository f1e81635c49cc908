import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectError,
  getRun,
  uniqueName,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** `[[[inner]]]`, `depth` lists deep, as JSON text (JSON.stringify itself fails thousands deep). */
const nested = (depth: number, inner: string) => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

/** The keys of a run's tags (`runs/get`'s `data`). */
const tagKeys = (data: { tags?: Array<{ key: string }> }) => (data.tags ?? []).map((tag) => tag.key);

/** Request bodies MLflow's JSON and protobuf parsers refuse: each a 400 in MLflow's error format. */
describe.each(BACKENDS)('JSON bodies of the wrong shape or encoding (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  let runId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
    runId = await createRunId(server.client, experimentId);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: string) => server.client.post(`${API}${path}`, body);

  test('values nested thousands deep: INVALID_PARAMETER_VALUE, never a 500', async () => {
    for (const depth of [1000, 5000, 100_000]) {
      expectError(
        await post('/experiments/create', `{"name": ${nested(depth, '"x"')}}`),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Invalid value \[{32}\[\.\.\.\]{33} for parameter 'name' supplied: {2}Hint: Value was of type 'list'\./,
      );
      const tags = `{"run_id": "${runId}", "tags": ${nested(depth, '{"key": "k", "value": "v"}')}}`;
      expectError(await post('/runs/log-batch', tags), 400, 'INVALID_PARAMETER_VALUE', /'tags\[0\]'/);
      const step = `{"run_id": "${runId}", "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": ${nested(depth, '1')}}]}`;
      expectError(
        await post('/runs/log-batch', step),
        400,
        'INVALID_PARAMETER_VALUE',
        /'metrics\[0\]\.step'/,
      );
      // An integer beyond 2^53 inside takes the exact-integer parse.
      const big = `{"name": ${nested(depth, '12345678901234567890')}}`;
      expectError(await post('/experiments/create', big), 400, 'INVALID_PARAMETER_VALUE');
    }
    const { data } = await getRun(server.client, runId);
    expect(tagKeys(data)).not.toContain('k');
    expect(data.metrics ?? []).toEqual([]);
  });

  test('a list where a string is expected: INVALID_PARAMETER_VALUE as MLflow words it, nothing written', async () => {
    const [b, c] = [uniqueName('b'), uniqueName('c')];
    expectError(
      await server.client.post(`${API}/experiments/create`, { name: [b, c] }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value ["${b}","${c}"] for parameter 'name' supplied:  Hint: Value was of type 'list'.${DOCS_HINT}`,
    );
    const byName = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: c });
    expectError(byName, 404, 'RESOURCE_DOES_NOT_EXIST');

    const other = await createRunId(server.client, experimentId);
    expectError(
      await server.client.post(`${API}/runs/set-tag`, { run_id: [runId, other], key: ['k'], value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /parameter 'run_id' supplied: {2}Hint: Value was of type 'list'\./,
    );
    expect(tagKeys((await getRun(server.client, other)).data)).not.toContain('k');
  });

  test('a repeated query key still reads as its last value', async () => {
    const name = uniqueName('query');
    const id = await createExperiment(server.client, name);
    const response = await server.client.get(`${API}/experiments/get-by-name`, {
      experiment_name: ['not-this-one', name],
    });
    expect(response.status).toBe(200);
    expect(response.body.experiment.experiment_id).toBe(id);
  });

  test('a string with an unpaired surrogate, anywhere in the body: INVALID_PARAMETER_VALUE', async () => {
    expectError(
      await post('/experiments/create', '{"name": "a\\ud800b"}'),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value "a\\ud800b" for parameter 'name' supplied: Strings must be valid Unicode (an unpaired surrogate).${DOCS_HINT}`,
    );
    const batch = `{"run_id": "${runId}", "tags": [{"key": "k", "value": "\\udc00"}]}`;
    expectError(await post('/runs/log-batch', batch), 400, 'INVALID_PARAMETER_VALUE', /'tags\[0\]\.value'/);
    // Even in a field the RPC does not read (MLflow's parser refuses the whole body).
    expectError(
      await post('/runs/set-tag', `{"run_id": "${runId}", "key": "k", "value": "v", "other": "\\ud800"}`),
      400,
      'INVALID_PARAMETER_VALUE',
      /'other'/,
    );
    expect(tagKeys((await getRun(server.client, runId)).data)).not.toContain('k');
    // A surrogate pair is a character like any other.
    const name = uniqueName('pair\\ud83d\\ude00');
    expect((await post('/experiments/create', `{"name": "${name}"}`)).status).toBe(200);
    const created = await server.client.get(`${API}/experiments/get-by-name`, {
      experiment_name: JSON.parse(`"${name}"`),
    });
    expect(created.body.experiment.name).toBe(JSON.parse(`"${name}"`));
  });

  test('bytes that are not UTF-8: INVALID_PARAMETER_VALUE, nothing stored with U+FFFD', async () => {
    const name = uniqueName('bad');
    const bytes = Buffer.concat([
      Buffer.from(`{"name":"${name}`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('utf"}'),
    ]);
    const response = await fetch(`${server.client.baseUrl}${API}/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Malformed JSON request body: it is not valid UTF-8.${DOCS_HINT}`,
    });
    const stored = await server.client.get(`${API}/experiments/get-by-name`, {
      experiment_name: `${name}\ufffd\ufffdutf`,
    });
    expectError(stored, 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});
