import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '@mast/common';
import { fetchModel } from '@mast/model-server';
import { HttpClient } from '@mast/test-support';
import { buildGateway, type Gateway } from '../src/cluster.js';
import { type AllInOneServer, startAllInOne, useAllInOne } from './harness.js';

const API = '/api/2.0/mlflow';

/**
 * `mast server --static-prefix /mlflow --allowed-hosts '127.0.0.1:*'` over HTTP: the routes where one service asks another on the
 * same app (artifact → tracking, registry → tracking) and the registry's download redirect answer under
 * the prefix, as MLflow's do.
 */
describe('all-in-one under --static-prefix', () => {
  const mast = useAllInOne({
    name: 'mast-static-prefix-',
    env: {
      MAST_STATIC_PREFIX: '/mlflow',
      // A list without localhost: in-process calls between services pass the Host check all the same.
      MAST_ALLOWED_HOSTS: '127.0.0.1:*',
    },
  });

  /** Uploads `text` to `<artifactUri>/<path>` through the artifact proxy. */
  async function upload(artifactUri: string, path: string, text: string): Promise<void> {
    const root = artifactUri.replace(/^mlflow-artifacts:\//, '');
    const put = await mast.http.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, text, {
      'content-type': 'text/plain',
    });
    expect(put.status).toBe(200);
  }

  test("a run's artifacts: artifacts/list and get-artifact", async () => {
    const experiment = await mast.http.post(`${API}/experiments/create`, { name: 'prefixed-runs' });
    expect(experiment.status).toBe(200);
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: experiment.body.experiment_id }))
      .body.run.info;
    await upload(run.artifact_uri, 'model/MLmodel', 'flavors: {}\n');

    const listed = await mast.http.get(`${API}/artifacts/list`, { run_id: run.run_id, path: 'model' });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      root_uri: run.artifact_uri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }],
    });
    const download = await mast.http.get('/get-artifact', { run_id: run.run_id, path: 'model/MLmodel' });
    expect(download.status).toBe(200);
    expect(download.text).toBe('flavors: {}\n');
  });

  test("a logged model's artifacts: directories and files", async () => {
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: '0' })).body.run.info;
    const logged = await mast.http.post(`${API}/logged-models`, {
      experiment_id: '0',
      source_run_id: run.run_id,
    });
    expect(logged.status).toBe(200);
    const { model_id: modelId, artifact_uri: location } = logged.body.model.info;
    await upload(location, 'MLmodel', 'flavors: {onnx: {}}\n');

    const directories = await mast.http.get(`${API}/logged-models/${modelId}/artifacts/directories`);
    expect(directories.status).toBe(200);
    expect(directories.body.files).toEqual([{ path: 'MLmodel', is_dir: false, file_size: 20 }]);
    const file = await mast.http.get(`/ajax-api/2.0/mlflow/logged-models/${modelId}/artifacts/files`, {
      artifact_file_path: 'MLmodel',
    });
    expect(file.status).toBe(200);
    expect(file.text).toBe('flavors: {onnx: {}}\n');
  });

  test('model-versions/create with a run_id, and model-versions/get-artifact redirecting under the prefix', async () => {
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: '0' })).body.run.info;
    await upload(run.artifact_uri, 'model/MLmodel', 'flavors: {sklearn: {}}\n');
    expect((await mast.http.post(`${API}/registered-models/create`, { name: 'lin' })).status).toBe(200);
    const version = await mast.http.post(`${API}/model-versions/create`, {
      name: 'lin',
      source: `runs:/${run.run_id}/model`,
      run_id: run.run_id,
    });
    expect(version.status).toBe(200);
    expect(version.body.model_version).toMatchObject({ version: '1', run_id: run.run_id });

    for (const route of [
      '/model-versions/get-artifact',
      `/ajax-api/2.0/mlflow/model-versions/get-artifact`,
    ]) {
      const query = new URLSearchParams({ name: 'lin', version: '1', path: 'MLmodel' });
      const redirect = await fetch(`${mast.url}/mlflow${route}?${query}`, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const location = redirect.headers.get('location')!;
      expect(location).toMatch(/^\/mlflow\//);
      const followed = await fetch(new URL(location, mast.url));
      expect(followed.status).toBe(200);
      expect(await followed.text()).toBe('flavors: {sklearn: {}}\n');
    }

    // What `MLFLOW_TRACKING_URI=<origin>/mlflow mast models serve -m models:/lin/1` downloads.
    const fetched = await fetchModel('models:/lin/1', {
      trackingUri: `${mast.url}/mlflow`,
      downloadRoot: mast.dir,
    });
    try {
      expect(readFileSync(join(fetched.dir, 'MLmodel'), 'utf8')).toBe('flavors: {sklearn: {}}\n');
    } finally {
      await fetched.remove();
    }
  });
});

/**
 * The cluster wiring's gateway under `--static-prefix /mlflow`, forwarding to services served under a
 * path of their own (`MAST_SERVICE_URLS=registry=http://host:port/inner`, here every service on one
 * app under `/inner`): a service's redirect to one of its paths is followed through the gateway.
 */
describe('cluster gateway under --static-prefix', () => {
  let services: AllInOneServer;
  let gateway: Gateway;
  let origin: string;
  let http: HttpClient;

  beforeAll(async () => {
    services = await startAllInOne({
      name: 'mast-static-prefix-cluster-',
      env: { MAST_STATIC_PREFIX: '/inner' },
    });
    const upstream = `${services.url}/inner`;
    gateway = await buildGateway(
      loadConfig({
        MAST_LOG_LEVEL: 'silent',
        MAST_STATIC_PREFIX: '/mlflow',
        MAST_SERVICE_URLS: ['tracking', 'artifact', 'registry']
          .map((name) => `${name}=${upstream}`)
          .join(','),
      }),
    );
    origin = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    http = new HttpClient(`${origin}/mlflow`);
  });
  afterAll(async () => {
    await gateway?.close();
    await services?.close();
  });

  test("model-versions/get-artifact redirects under the gateway's prefix", async () => {
    const run = (await http.post(`${API}/runs/create`, { experiment_id: '0' })).body.run.info;
    const root = run.artifact_uri.replace(/^mlflow-artifacts:\//, '');
    const put = await http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`,
      'x\n',
      {
        'content-type': 'text/plain',
      },
    );
    expect(put.status).toBe(200);
    expect((await http.post(`${API}/registered-models/create`, { name: 'lin' })).status).toBe(200);
    const version = await http.post(`${API}/model-versions/create`, {
      name: 'lin',
      source: `runs:/${run.run_id}/model`,
      run_id: run.run_id,
    });
    expect(version.status).toBe(200);

    const query = new URLSearchParams({ name: 'lin', version: '1', path: 'MLmodel' });
    const redirect = await fetch(`${origin}/mlflow/model-versions/get-artifact?${query}`, {
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(/^\/mlflow\/get-artifact\?/);
    const followed = await fetch(new URL(location, origin));
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('x\n');
  });
});
