import { expect } from '@jest/globals';
import type { HttpClient, JsonResponse } from '@mast/test-support';

/** Prefix of every MLflow RPC the SDK clients call. */
export const API = '/api/2.0/mlflow';
/** The same RPCs as the web UI calls them. */
export const AJAX = '/ajax-api/2.0/mlflow';

/** The suffix MLflow appends to request-validation messages. */
export const DOCS_HINT = ' See the API docs for more information about request parameters.';

let counter = 0;

/** A name no other test of the same server uses. */
export function uniqueName(prefix = 'exp'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Asserts MLflow's error contract: the status, `{error_code, message}`, and optionally the message. */
export function expectError(
  response: JsonResponse,
  status: number,
  errorCode: string,
  message?: string | RegExp,
): void {
  expect({ status: response.status, error_code: response.body?.error_code }).toEqual({
    status,
    error_code: errorCode,
  });
  expect(typeof response.body.message).toBe('string');
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  if (typeof message === 'string') expect(response.body.message).toBe(message);
  else if (message) expect(response.body.message).toMatch(message);
}

/** Asserts a 200 with an empty JSON object, what every write RPC answers. */
export function expectEmptyOk(response: JsonResponse): void {
  expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: {} });
}

export async function createExperiment(
  http: HttpClient,
  name = uniqueName(),
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await http.post(`${API}/experiments/create`, { name, ...extra });
  expect(response.status).toBe(200);
  return response.body.experiment_id;
}

/** Creates a run and returns the `run` of the response. */
export async function createRun(
  http: HttpClient,
  experimentId: string,
  extra: Record<string, unknown> = {},
): Promise<any> {
  const response = await http.post(`${API}/runs/create`, { experiment_id: experimentId, ...extra });
  expect(response.status).toBe(200);
  return response.body.run;
}

export async function createRunId(
  http: HttpClient,
  experimentId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  return (await createRun(http, experimentId, extra)).info.run_id;
}

export async function getRun(http: HttpClient, runId: string): Promise<any> {
  const response = await http.get(`${API}/runs/get`, { run_id: runId });
  expect(response.status).toBe(200);
  return response.body.run;
}

export async function getExperiment(http: HttpClient, experimentId: string): Promise<any> {
  const response = await http.get(`${API}/experiments/get`, { experiment_id: experimentId });
  expect(response.status).toBe(200);
  return response.body.experiment;
}

export async function logBatch(
  http: HttpClient,
  runId: string,
  batch: Record<string, unknown>,
): Promise<void> {
  expectEmptyOk(await http.post(`${API}/runs/log-batch`, { run_id: runId, ...batch }));
}

/** The full metric history of a key, as the values MLflow returns. */
export async function history(http: HttpClient, runId: string, key: string): Promise<any[]> {
  const response = await http.get(`${API}/metrics/get-history`, { run_id: runId, metric_key: key });
  expect(response.status).toBe(200);
  return response.body.metrics ?? [];
}

/** A run's tags without the `mlflow.runName` tag every run has. */
export function userTags(run: any): Array<{ key: string; value: string }> {
  return (run.data.tags ?? []).filter((tag: { key: string }) => tag.key !== 'mlflow.runName');
}

/** Looks up one tag value of a run (or experiment) response. */
export function tagValue(entity: { tags?: any[]; data?: { tags?: any[] } }, key: string): string | undefined {
  const tags = entity.data?.tags ?? entity.tags ?? [];
  return tags.find((tag: { key: string }) => tag.key === key)?.value;
}
