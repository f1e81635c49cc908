/**
 * The web UI's span download (`/ajax-api/{2,3}.0/mlflow/get-trace-artifact`) in the all-in-one wiring:
 * tracking looks the trace up and redirects to the artifact service's download of its `traces.json`,
 * which the client uploaded through the artifact proxy; the cluster REST proxy routes it to tracking.
 */
import { describe, expect, test } from '@jest/globals';
import { owningService } from '@mast/common';
import { SERVICE_REST_ROUTES } from '../src/services.js';
import { useAllInOne } from './harness.js';

describe('trace span download in mast server (all-in-one)', () => {
  const mast = useAllInOne({ name: 'mast-trace-artifacts-' });

  async function startTrace(traceId: string): Promise<string> {
    const started = await mast.http.post('/api/3.0/mlflow/traces', {
      trace: {
        trace_info: {
          trace_id: traceId,
          trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '0' } },
          request_time: '2025-02-03T04:05:06.789Z',
          state: 'OK',
        },
      },
    });
    expect(started.status).toBe(200);
    return started.body.trace.trace_info.tags['mlflow.artifactLocation'];
  }

  test('answers the traces.json the client uploaded, with MLflow download headers', async () => {
    const location = await startTrace('tr-0000000000000000000000000000abcd');
    const spans = '{"spans": [{"name": "predict", "attributes": {"x": "\\u00e9"}}], "request": "{}"}';
    const upload = await mast.http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${location.replace('mlflow-artifacts:/', '')}/traces.json`,
      spans,
      { 'content-type': 'application/json' },
    );
    expect(upload.status).toBe(200);
    for (const prefix of ['/ajax-api/2.0', '/ajax-api/3.0']) {
      const got = await mast.http.get(`${prefix}/mlflow/get-trace-artifact`, {
        request_id: 'tr-0000000000000000000000000000abcd',
      });
      expect({
        status: got.status,
        text: got.text,
        type: got.headers.get('content-type'),
        disposition: got.headers.get('content-disposition'),
        nosniff: got.headers.get('x-content-type-options'),
      }).toEqual({
        status: 200,
        text: spans,
        type: 'text/plain',
        disposition: 'attachment; filename=traces.json',
        nosniff: 'nosniff',
      });
    }
  });

  test('spans never uploaded (or empty) are MLflow’s trace data 404; an unknown trace is 404', async () => {
    const location = await startTrace('tr-0000000000000000000000000000dcba');
    const file = `${location.replace('mlflow-artifacts:/', '')}/traces.json`;
    const notFound = {
      status: 404,
      body: { error_code: 'NOT_FOUND', message: `Trace data not found for path=${file}` },
    };
    const download = () =>
      mast.http.get('/ajax-api/3.0/mlflow/get-trace-artifact', {
        request_id: 'tr-0000000000000000000000000000dcba',
      });
    const missing = await download();
    expect({ status: missing.status, body: missing.body }).toEqual(notFound);
    const upload = await mast.http.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${file}`, '', {
      'content-type': 'application/json',
    });
    expect(upload.status).toBe(200);
    const empty = await download();
    expect({ status: empty.status, body: empty.body }).toEqual(notFound);
    const unknown = await mast.http.get('/ajax-api/2.0/mlflow/get-trace-artifact', { request_id: 'tr-nope' });
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Trace with ID 'tr-nope' not found." },
    });
  });

  test('the cluster REST proxy routes the download and prompt links to tracking', () => {
    for (const path of [
      '/ajax-api/2.0/mlflow/get-trace-artifact',
      '/ajax-api/3.0/mlflow/get-trace-artifact',
      '/api/2.0/mlflow/traces/link-prompts',
    ]) {
      expect({ path, owner: owningService(SERVICE_REST_ROUTES, path) }).toEqual({ path, owner: 'tracking' });
    }
  });
});
