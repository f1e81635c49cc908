import { expect } from '@jest/globals';
import type { HttpClient, JsonResponse } from '@mast/test-support';

export const API = '/api/2.0/mlflow';
export const AJAX = '/ajax-api/2.0/mlflow';
export const DOCS_HINT = ' See the API docs for more information about request parameters.';

let counter = 0;

/** A name no other test of the same server uses. */
export function uniqueName(prefix = 'model'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export function expectError(
  response: JsonResponse,
  status: number,
  errorCode: string,
  message?: string | RegExp,
) {
  expect({ status: response.status, error_code: response.body?.error_code }).toEqual({
    status,
    error_code: errorCode,
  });
  expect(typeof response.body.message).toBe('string');
  if (typeof message === 'string') expect(response.body.message).toBe(message);
  else if (message) expect(response.body.message).toMatch(message);
}

export function expectEmptyOk(response: JsonResponse): void {
  expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: {} });
}

export async function createModel(
  http: HttpClient,
  name = uniqueName(),
  extra: Record<string, unknown> = {},
) {
  const response = await http.post(`${API}/registered-models/create`, { name, ...extra });
  expect(response.status).toBe(200);
  return response.body.registered_model;
}

export async function createVersion(http: HttpClient, name: string, extra: Record<string, unknown> = {}) {
  const response = await http.post(`${API}/model-versions/create`, {
    name,
    source: 'mlflow-artifacts:/1/abc/artifacts/model',
    ...extra,
  });
  expect(response.status).toBe(200);
  return response.body.model_version;
}

export function del(http: HttpClient, path: string, body: unknown) {
  return http.request('DELETE', path, body);
}

export function patch(http: HttpClient, path: string, body: unknown) {
  return http.request('PATCH', path, body);
}
