import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, DOCS_HINT, expectEmptyOk, expectError } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const V3 = '/api/3.0/mlflow/traces';
const LINK = `${API}/traces/link-prompts`;
const TAG = 'mlflow.linkedPrompts';

let counter = 0;
function newTraceId(): string {
  counter += 1;
  return `tr-${process.pid.toString(16).padStart(8, '0')}${counter.toString(16).padStart(24, '0')}`;
}

async function startTrace(server: TrackingServer, experimentId: string): Promise<string> {
  const traceId = newTraceId();
  const response = await server.client.post(V3, {
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: '2025-02-03T04:05:06.789Z',
        state: 'OK',
      },
    },
  });
  expect(response.status).toBe(200);
  return traceId;
}

async function tags(server: TrackingServer, traceId: string): Promise<Record<string, string>> {
  const response = await server.client.get(`${V3}/${traceId}`);
  expect(response.status).toBe(200);
  return response.body.trace.trace_info.tags;
}

/** The span download without following its redirect (the tracking service alone has no artifact proxy). */
async function traceArtifact(server: TrackingServer, path: string): Promise<Response> {
  return fetch(`${server.client.baseUrl}${path}`, { redirect: 'manual' });
}

/**
 * LinkPromptsToTrace (`MlflowClient.link_prompt_versions_to_trace`, `mlflow.genai.load_prompt` inside a
 * trace) and the web UI's span download (`get-trace-artifact`) over real HTTP, with MLflow's errors.
 */
describe.each(BACKENDS)('trace prompt links and span download (%s)', (backend) => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
  });
  afterAll(async () => server?.close());

  test('links merge into mlflow.linkedPrompts without duplicates, under every 2.0 prefix', async () => {
    const experimentId = await createExperiment(server.client);
    const traceId = await startTrace(server, experimentId);
    expectEmptyOk(
      await server.client.post(LINK, {
        trace_id: traceId,
        prompt_versions: [
          { name: 'qa', version: '1' },
          { name: 'summarize', version: '02' },
          { name: 'qa', version: '1' },
        ],
      }),
    );
    expect((await tags(server, traceId))[TAG]).toBe(
      '[{"name": "qa", "version": "1"}, {"name": "summarize", "version": "2"}]',
    );
    for (const prefix of ['/ajax-api/2.0/mlflow', '/api/2.0/preview/mlflow']) {
      expectEmptyOk(
        await server.client.post(`${prefix}/traces/link-prompts`, {
          trace_id: traceId,
          prompt_versions: [
            { name: 'qa', version: '1' },
            { name: prefix.startsWith('/ajax') ? 'ajax' : 'preview', version: '3' },
          ],
        }),
      );
    }
    const expected =
      '[{"name": "qa", "version": "1"}, {"name": "summarize", "version": "2"}, ' +
      '{"name": "ajax", "version": "3"}, {"name": "preview", "version": "3"}]';
    expect((await tags(server, traceId))[TAG]).toBe(expected);
    const v2 = await server.client.get(`${API}/traces/${traceId}/info`);
    expect(v2.body.trace_info.tags).toContainEqual({ key: TAG, value: expected });
  });

  test('a tag the client wrote is kept, other entries too; nothing new writes nothing', async () => {
    const experimentId = await createExperiment(server.client);
    const traceId = await startTrace(server, experimentId);
    const written = '[{"name":"qa","version":"1"},{"name":"x","version":"9","note":"é"}]';
    expectEmptyOk(
      await server.client.request('PATCH', `${V3}/${traceId}/tags`, { key: TAG, value: written }),
    );
    expectEmptyOk(
      await server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name: 'qa', version: '1' }] }),
    );
    expect((await tags(server, traceId))[TAG]).toBe(written);
    expectEmptyOk(
      await server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name: 'Ünï', version: '4' }] }),
    );
    expect((await tags(server, traceId))[TAG]).toBe(
      '[{"name": "qa", "version": "1"}, {"name": "x", "version": "9", "note": "\\u00e9"}, ' +
        '{"name": "\\u00dcn\\u00ef", "version": "4"}]',
    );
  });

  test("MLflow's errors; a refused link writes nothing", async () => {
    const experimentId = await createExperiment(server.client);
    const traceId = await startTrace(server, experimentId);
    expectError(
      await server.client.post(LINK, { prompt_versions: [] }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'trace_id'.${DOCS_HINT}`,
    );
    expectError(
      await server.client.post(LINK, { trace_id: traceId }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'prompt_versions'.${DOCS_HINT}`,
    );
    expectError(
      await server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name: 'qa', version: 'v1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value "v1" for parameter 'prompt_versions[0].version' supplied:  Hint: A prompt version is an integer.${DOCS_HINT}`,
    );
    expectError(
      await server.client.post(LINK, {
        trace_id: 'tr-unknown',
        prompt_versions: [{ name: 'qa', version: '1' }],
      }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Trace with ID 'tr-unknown' not found.",
    );
    // As MLflow's store: no prompt versions returns before the trace is looked up.
    expectEmptyOk(await server.client.post(LINK, { trace_id: 'tr-unknown', prompt_versions: [] }));

    expectEmptyOk(await server.client.request('PATCH', `${V3}/${traceId}/tags`, { key: TAG, value: 'nope' }));
    expectError(
      await server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name: 'qa', version: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid JSON format for 'mlflow.linkedPrompts' tag: nope",
    );
    expectEmptyOk(await server.client.request('PATCH', `${V3}/${traceId}/tags`, { key: TAG, value: '{}' }));
    expectError(
      await server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name: 'qa', version: '1' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid format for 'mlflow.linkedPrompts' tag: {}",
    );
    expect((await tags(server, traceId))[TAG]).toBe('{}');

    const other = await startTrace(server, experimentId);
    const many = Array.from({ length: 300 }, (_, i) => ({ name: `prompt-${i}`, version: '1' }));
    expectError(
      await server.client.post(LINK, { trace_id: other, prompt_versions: many }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Linking these prompt versions would make tag 'mlflow.linkedPrompts' \d+ characters long/,
    );
    expect((await tags(server, other))[TAG]).toBeUndefined();
  });

  test('get-trace-artifact redirects to the artifact proxy download of traces.json', async () => {
    const experimentId = await createExperiment(server.client);
    const traceId = await startTrace(server, experimentId);
    for (const prefix of ['/ajax-api/2.0', '/ajax-api/3.0']) {
      const response = await traceArtifact(
        server,
        `${prefix}/mlflow/get-trace-artifact?request_id=${traceId}`,
      );
      expect({ status: response.status, location: response.headers.get('location') }).toEqual({
        status: 302,
        location: `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/traces/${traceId}/artifacts/traces.json?trace_data=true`,
      });
    }

    const missing = await traceArtifact(server, '/ajax-api/2.0/mlflow/get-trace-artifact');
    expect({ status: missing.status, body: await missing.json() }).toEqual({
      status: 400,
      body: { error_code: 'BAD_REQUEST', message: 'Request must include the "request_id" query parameter.' },
    });
    const unknown = await traceArtifact(
      server,
      '/ajax-api/2.0/mlflow/get-trace-artifact?request_id=tr-unknown',
    );
    expect({ status: unknown.status, body: await unknown.json() }).toEqual({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Trace with ID 'tr-unknown' not found." },
    });
    // A NUL (which PostgreSQL text cannot hold) is bad input, as in every other request string.
    const nul = await traceArtifact(
      server,
      `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=%00&request_id=${traceId}`,
    );
    expect({ status: nul.status, body: await nul.json() }).toEqual({
      status: 400,
      body: {
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Invalid value "\\u0000" for parameter 'request_id' supplied: Strings may not contain NUL characters.${DOCS_HINT}`,
      },
    });

    const elsewhere = await createExperiment(server.client, undefined, {
      artifact_location: 's3://bucket/exp',
    });
    const s3Trace = await startTrace(server, elsewhere);
    const s3 = await traceArtifact(server, `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=${s3Trace}`);
    expect({ status: s3.status, body: await s3.json() }).toEqual({
      status: 501,
      body: {
        error_code: 'NOT_IMPLEMENTED',
        message: `The spans of trace '${s3Trace}' are at 's3://bucket/exp/traces/${s3Trace}/artifacts/traces.json', which this server does not proxy; read them from there.`,
      },
    });

    // MLflow lets any trace tag be deleted, the artifact location's too; its span download then fails
    // in get_artifact_uri_for_trace.
    expectEmptyOk(
      await server.client.request('DELETE', `/api/2.0/mlflow/traces/${traceId}/tags`, {
        key: 'mlflow.artifactLocation',
      }),
    );
    const unlocated = await traceArtifact(
      server,
      `/ajax-api/2.0/mlflow/get-trace-artifact?request_id=${traceId}`,
    );
    expect({ status: unlocated.status, body: await unlocated.json() }).toEqual({
      status: 500,
      body: { error_code: 'INTERNAL_ERROR', message: 'Unable to determine trace artifact location.' },
    });
  });
});

describe('concurrent prompt links of one trace (postgres)', () => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer('postgres');
  });
  afterAll(async () => server?.close());

  test('links sent at once are all kept', async () => {
    const experimentId = await createExperiment(server.client);
    const traceId = await startTrace(server, experimentId);
    const names = Array.from({ length: 16 }, (_, i) => `prompt-${i}`);
    const responses = await Promise.all(
      names.map((name) =>
        server.client.post(LINK, { trace_id: traceId, prompt_versions: [{ name, version: '1' }] }),
      ),
    );
    for (const response of responses) expectEmptyOk(response);
    const linked = JSON.parse((await tags(server, traceId))[TAG]!) as Array<{ name: string }>;
    expect(linked.map((link) => link.name).sort()).toEqual([...names].sort());
  });
});
