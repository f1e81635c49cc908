import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { API_PREFIXES, owningService } from '@mast/common';
import type { HTTPMethods } from 'fastify';
import { SUBGRAPH_SERVICES } from '../src/cluster.js';
import { REST_ROUTES } from '../src/rest-proxy.js';
import { SERVICES } from '../src/services.js';
import { useAllInOne } from './harness.js';

/** MLflow serves these under `/ajax-api` only (its web UI's endpoints). */
const UI_ONLY = new Set([
  '/mlflow/metrics/get-history-bulk',
  '/mlflow/logged-models/:model_id/artifacts/files',
  '/mlflow/get-trace-artifact',
]);

/** A request path a route answers: each parameter filled in, a wildcard dropped. */
function samplePath(url: string): string {
  return url.replace(/:[^/]+/g, 'x').replace(/\*.*$/, '');
}

/** The API prefix a path starts with (the longest: `/api/2.0/preview` before `/api/2.0`). */
function apiPrefixOf(url: string): string | undefined {
  return [...API_PREFIXES].sort((a, b) => b.length - a.length).find((prefix) => url.startsWith(`${prefix}/`));
}

describe('the services, from their descriptors', () => {
  const mast = useAllInOne({ name: 'mast-routes-' });

  test('the all-in-one server hosts every service of the list', () => {
    expect(mast.server.services.map(({ descriptor }) => descriptor.name)).toEqual(
      SERVICES.map((s) => s.name),
    );
    for (const { descriptor, routes } of mast.server.services) {
      expect({ service: descriptor.name, routes: routes.length > 0 }).toEqual({
        service: descriptor.name,
        routes: true,
      });
    }
  });

  test('every MLflow RPC answers under /api/2.0, /ajax-api/2.0 and /api/2.0/preview', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const { routes } of mast.server.services) {
      for (const route of routes) {
        const prefix = apiPrefixOf(route.url);
        if (prefix === undefined) continue;
        const path = route.url.slice(prefix.length);
        if (UI_ONLY.has(path)) continue;
        checked += 1;
        for (const method of [route.method].flat()) {
          for (const other of API_PREFIXES) {
            if (!mast.server.app.hasRoute({ method: method as HTTPMethods, url: `${other}${path}` }))
              missing.push(`${method} ${other}${path}`);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  test('the cluster REST proxy sends every route to the service that registered it', () => {
    const misrouted: string[] = [];
    for (const { descriptor, routes } of mast.server.services) {
      for (const route of routes) {
        const owner = owningService(REST_ROUTES, samplePath(route.url));
        if (owner !== descriptor.name)
          misrouted.push(`${route.url}: ${owner ?? 'nobody'}, not ${descriptor.name}`);
      }
    }
    expect(misrouted).toEqual([]);
  });

  test('real requests under the preview prefix', async () => {
    const got = await mast.http.get('/api/2.0/preview/mlflow/experiments/get-by-name', {
      experiment_name: 'Default',
    });
    expect({ status: got.status, id: got.body.experiment?.experiment_id }).toEqual({ status: 200, id: '0' });
    const run = (await mast.http.post('/api/2.0/preview/mlflow/runs/create', { experiment_id: '0' })).body.run
      .info;
    const path = run.artifact_uri.replace('mlflow-artifacts:/', '');
    const put = await mast.http.request(
      'PUT',
      `/api/2.0/preview/mlflow-artifacts/artifacts/${path}/a.txt`,
      'hello',
      {
        'content-type': 'text/plain',
      },
    );
    expect(put.status).toBe(200);
    const listed = await mast.http.get('/api/2.0/preview/mlflow/artifacts/list', { run_id: run.run_id });
    expect(listed.body.files).toEqual([{ path: 'a.txt', is_dir: false, file_size: 5 }]);
  });

  test("a logged model's artifacts: tracking has the model, the artifact service its files", async () => {
    const model = (await mast.http.post('/api/2.0/mlflow/logged-models', { experiment_id: '0', name: 'm' }))
      .body.model.info;
    const path = model.artifact_uri.replace('mlflow-artifacts:/', '');
    const put = await mast.http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${path}/MLmodel`,
      'flavors: {}\n',
      {
        'content-type': 'text/plain',
      },
    );
    expect(put.status).toBe(200);
    const listed = await mast.http.get(
      `/api/2.0/preview/mlflow/logged-models/${model.model_id}/artifacts/directories`,
    );
    expect(listed.body).toEqual({
      root_uri: model.artifact_uri,
      files: [{ path: 'MLmodel', is_dir: false, file_size: 12 }],
    });
    const file = await mast.http.get(`/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/files`, {
      artifact_file_path: 'MLmodel',
    });
    expect({ status: file.status, text: file.text }).toEqual({ status: 200, text: 'flavors: {}\n' });
  });

  test('the gateway routes to and composes the subgraphs the descriptors declare', () => {
    expect(SUBGRAPH_SERVICES).toEqual(SERVICES.filter((s) => s.subgraph !== undefined).map((s) => s.name));
    // The supergraph build (scripts/generate.mjs) finds subgraphs by convention:
    // services/<name>/src/graphql/schema.graphql. It must find exactly the descriptors' subgraphs.
    const services = fileURLToPath(new URL('../../', import.meta.url));
    const withSchema = readdirSync(services).filter((name) =>
      existsSync(join(services, name, 'src/graphql/schema.graphql')),
    );
    expect(withSchema.sort()).toEqual(
      SERVICES.flatMap((s) => (s.subgraph === undefined ? [] : [s.subgraph.name])).sort(),
    );
  });
});
