import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, MlflowError } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { type RunArtifactRoots, runArtifactRootsVia } from '../src/run-roots.js';
import {
  type ArtifactServer,
  rawRequest,
  type S3Server,
  startArtifactServer,
  startS3rver,
  upload,
} from './harness.js';

const LIST = '/api/2.0/mlflow/artifacts/list';

describe('run artifact routes: /mlflow/artifacts/list and /get-artifact', () => {
  let s3: S3Server;
  let sandbox: string;
  let server: ArtifactServer;
  const roots: Record<string, string> = {};
  const runs: RunArtifactRoots = {
    async artifactUri(runId) {
      const uri = roots[runId];
      if (uri === undefined) throw MlflowError.notFound(`Run with id=${runId} not found`);
      return uri;
    },
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    sandbox = await mkdtemp(join(tmpdir(), 'mast-runs-'));
    const allowed = join(sandbox, 'allowed');
    const forbidden = join(sandbox, 'forbidden');
    Object.assign(roots, {
      proxied: 'mlflow-artifacts:/1/proxied/artifacts',
      http: 'http://mast.example:5000/api/2.0/mlflow-artifacts/artifacts/1/proxied/artifacts',
      s3direct: `s3://${s3.bucket}/direct/2/s3direct/artifacts`,
      s3forbidden: `s3://${s3.bucket}/elsewhere/2/x/artifacts`,
      local: `file://${allowed}/3/local/artifacts`,
      forbidden: `${forbidden}/4/forbidden/artifacts`,
      gcs: 'gs://bucket/5/gcs/artifacts',
      empty: 'mlflow-artifacts:/1/empty/artifacts',
    });
    server = await startArtifactServer({
      backend: 'local',
      s3,
      runs,
      allowedRoots: [`s3://${s3.bucket}/direct`, allowed],
    });
    for (const [path, body] of [
      ['model/MLmodel', 'flavors: {}\n'],
      ['model/model.pkl', 'pickle'],
      ['metrics.json', '{}'],
    ]) {
      await upload(server.baseUrl, `1/proxied/artifacts/${path}`, body!);
      await s3.client.putObject(s3.bucket, `direct/2/s3direct/artifacts/${path}`, Buffer.from(body!));
      await mkdir(join(allowed, '3/local/artifacts/model'), { recursive: true });
      await writeFile(join(allowed, '3/local/artifacts', path!), body!);
    }
    await mkdir(join(forbidden, '4/forbidden/artifacts'), { recursive: true });
    await writeFile(join(forbidden, '4/forbidden/artifacts/secret.txt'), 'secret');
  });
  afterAll(async () => {
    await server.close();
    await s3.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  test.each(['proxied', 'http', 's3direct', 'local'])(
    'lists and downloads a run whose root is %s',
    async (runId) => {
      const top = await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=${runId}`);
      expect(top.status).toBe(200);
      expect(top.json).toEqual({
        root_uri: roots[runId],
        files: [
          { path: 'metrics.json', is_dir: false, file_size: 2 },
          { path: 'model', is_dir: true },
        ],
      });
      const nested = await rawRequest(server.baseUrl, 'GET', `${LIST}?run_uuid=${runId}&path=model`);
      expect(nested.json.files).toEqual([
        { path: 'model/MLmodel', is_dir: false, file_size: 12 },
        { path: 'model/model.pkl', is_dir: false, file_size: 6 },
      ]);
      const ajax = await rawRequest(
        server.baseUrl,
        'GET',
        `/ajax-api/2.0/mlflow/artifacts/list?run_id=${runId}&path=model/`,
      );
      expect(ajax.json.files).toHaveLength(2);

      const file = await rawRequest(
        server.baseUrl,
        'GET',
        `/get-artifact?run_uuid=${runId}&path=model/MLmodel`,
      );
      expect(file.status).toBe(200);
      expect(file.body.toString()).toBe('flavors: {}\n');
      expect(file.headers['content-disposition']).toBe('attachment; filename=MLmodel');
      expect(file.headers['content-type']).toBe('text/plain');
      const byRunId = await rawRequest(
        server.baseUrl,
        'GET',
        `/get-artifact?run_id=${runId}&path=metrics.json`,
      );
      expect(byRunId.headers['content-type']).toBe('text/plain');
      const ranged = await rawRequest(
        server.baseUrl,
        'GET',
        `/get-artifact?run_id=${runId}&path=model/model.pkl`,
        undefined,
        {
          range: 'bytes=1-2',
        },
      );
      expect(ranged.status).toBe(206);
      expect(ranged.body.toString()).toBe('ic');
    },
  );

  test('an empty or missing directory lists as just the root', async () => {
    expect((await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=empty`)).json).toEqual({
      root_uri: roots.empty,
    });
    expect(
      (await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=proxied&path=nothing/here`)).json,
    ).toEqual({
      root_uri: roots.proxied,
    });
  });

  test('errors: unknown run, missing parameters, missing file, roots not served', async () => {
    const unknown = await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Run with id=nope not found',
    });
    const noRun = await rawRequest(server.baseUrl, 'GET', LIST);
    expect(noRun.status).toBe(400);
    expect(noRun.json.message).toMatch(/'run_id'/);
    const noPath = await rawRequest(server.baseUrl, 'GET', '/get-artifact?run_id=proxied');
    expect(noPath.status).toBe(400);
    expect(noPath.json.message).toMatch(/'path'/);
    const missing = await rawRequest(server.baseUrl, 'GET', '/get-artifact?run_id=proxied&path=model/none');
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    for (const runId of ['forbidden', 's3forbidden']) {
      const denied = await rawRequest(server.baseUrl, 'GET', `/get-artifact?run_id=${runId}&path=secret.txt`);
      expect(denied.status).toBe(403);
      expect(denied.json.error_code).toBe('PERMISSION_DENIED');
      expect((await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=${runId}`)).status).toBe(403);
    }
    const gcs = await rawRequest(server.baseUrl, 'GET', `${LIST}?run_id=gcs`);
    expect(gcs.status).toBe(501);
    expect(gcs.json.error_code).toBe('NOT_IMPLEMENTED');
  });
});

describe('RunArtifactRoots over the tracking REST API', () => {
  let tracking: FastifyInstance;
  let trackingUrl: string;

  function fakeTrackingRoutes(app: FastifyInstance) {
    app.get('/api/2.0/mlflow/runs/get', async (request, reply) => {
      const runId = (request.query as { run_id?: string }).run_id;
      if (runId === 'known')
        return { run: { info: { run_id: 'known', artifact_uri: 'mlflow-artifacts:/1/known/artifacts' } } };
      if (runId === 'broken')
        return reply.code(500).send({ error_code: 'INTERNAL_ERROR', message: 'db down' });
      return reply
        .code(404)
        .send({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run with id=${runId} not found` });
    });
  }

  beforeAll(async () => {
    tracking = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 }).app;
    fakeTrackingRoutes(tracking);
    trackingUrl = await tracking.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => tracking.close());

  test('over HTTP (cluster mode)', async () => {
    const runs = runArtifactRootsVia({ kind: 'http', url: `${trackingUrl}/` });
    await expect(runs.artifactUri('known')).resolves.toBe('mlflow-artifacts:/1/known/artifacts');
    await expect(runs.artifactUri('other')).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Run with id=other not found',
    });
    await expect(runs.artifactUri('broken')).rejects.toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE' });
    const down = runArtifactRootsVia({ kind: 'http', url: 'http://127.0.0.1:1' }, 2000);
    const failure = await down.artifactUri('known').then(
      () => undefined,
      (error: { code: string; message: string }) => error,
    );
    expect(failure?.code).toBe('TEMPORARILY_UNAVAILABLE');
    // names the service, never its internal address
    expect(failure?.message).toMatch(/^The tracking service is unavailable \(.+\); retry later\.$/);
    expect(failure?.message).not.toContain('127.0.0.1');
  });

  test('in process, through the app the tracking routes are on (all-in-one)', async () => {
    const { app } = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 });
    fakeTrackingRoutes(app);
    await app.ready();
    const runs = runArtifactRootsVia({ kind: 'in-process', app });
    await expect(runs.artifactUri('known')).resolves.toBe('mlflow-artifacts:/1/known/artifacts');
    await expect(runs.artifactUri('other')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
    await app.close();
  });
});
