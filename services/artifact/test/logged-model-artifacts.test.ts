import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { API_PREFIXES, createHttpApp, MlflowError } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { type LoggedModelArtifactRoots, loggedModelArtifactRootsVia } from '../src/run-roots.js';
import {
  type ArtifactServer,
  rawRequest,
  type S3Server,
  STORAGE_BACKENDS,
  startArtifactServer,
  startS3rver,
  upload,
} from './harness.js';

const MODEL = 'm-0123456789abcdef0123456789abcdef';
const directories = (prefix: string, modelId: string, query = '') =>
  `${prefix}/mlflow/logged-models/${modelId}/artifacts/directories${query}`;
const files = (modelId: string, query: string) =>
  `/ajax-api/2.0/mlflow/logged-models/${modelId}/artifacts/files${query}`;
const FILES = [
  ['MLmodel', 'flavors: {}\n'],
  ['model.pkl', 'pickle'],
  ['data/weights.bin', '0123456789'],
] as const;

describe.each(STORAGE_BACKENDS)('logged-model artifact routes (%s destination)', (backend) => {
  let s3: S3Server;
  let sandbox: string;
  let server: ArtifactServer;
  const roots: Record<string, string> = {};
  const loggedModels: LoggedModelArtifactRoots = {
    async artifactUri(modelId) {
      const uri = roots[modelId];
      if (uri === undefined) throw MlflowError.notFound(`Logged model with ID '${modelId}' not found.`);
      return uri;
    },
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    sandbox = await mkdtemp(join(tmpdir(), 'mast-models-'));
    const allowed = join(sandbox, 'allowed');
    Object.assign(roots, {
      [MODEL]: `mlflow-artifacts:/1/models/${MODEL}/artifacts`,
      's3-direct': `s3://${s3.bucket}/direct/1/models/s3-direct/artifacts`,
      local: `file://${allowed}/1/models/local/artifacts`,
      empty: 'mlflow-artifacts:/1/models/empty/artifacts',
      forbidden: `${join(sandbox, 'forbidden')}/artifacts`,
    });
    server = await startArtifactServer({
      backend,
      s3,
      loggedModels,
      allowedRoots: [`s3://${s3.bucket}/direct`, allowed],
    });
    await mkdir(join(allowed, '1/models/local/artifacts/data'), { recursive: true });
    for (const [path, body] of FILES) {
      expect((await upload(server.baseUrl, `1/models/${MODEL}/artifacts/${path}`, body)).status).toBe(200);
      await s3.client.putObject(s3.bucket, `direct/1/models/s3-direct/artifacts/${path}`, Buffer.from(body));
      await writeFile(join(allowed, '1/models/local/artifacts', path), body);
    }
  });
  afterAll(async () => {
    await server.close();
    await s3.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  test.each([MODEL, 's3-direct', 'local'])(
    'lists and downloads a model whose root is %s',
    async (modelId) => {
      for (const prefix of API_PREFIXES) {
        const top = await rawRequest(server.baseUrl, 'GET', directories(prefix, modelId));
        expect({ prefix, status: top.status, body: top.json }).toEqual({
          prefix,
          status: 200,
          body: {
            root_uri: roots[modelId],
            files: [
              { path: 'MLmodel', is_dir: false, file_size: 12 },
              { path: 'data', is_dir: true },
              { path: 'model.pkl', is_dir: false, file_size: 6 },
            ],
          },
        });
      }
      // MLflow accepts a page token and answers everything in one page (no next_page_token).
      const nested = await rawRequest(
        server.baseUrl,
        'GET',
        directories('/api/2.0', modelId, '?artifact_directory_path=data/&page_token=abc'),
      );
      expect(nested.json).toEqual({
        root_uri: roots[modelId],
        files: [{ path: 'data/weights.bin', is_dir: false, file_size: 10 }],
      });

      const file = await rawRequest(server.baseUrl, 'GET', files(modelId, '?artifact_file_path=MLmodel'));
      expect(file.status).toBe(200);
      expect(file.body.toString()).toBe('flavors: {}\n');
      expect(file.headers['content-disposition']).toBe('attachment; filename=MLmodel');
      expect(file.headers['x-content-type-options']).toBe('nosniff');
      const ranged = await rawRequest(
        server.baseUrl,
        'GET',
        files(modelId, '?artifact_file_path=data%2Fweights.bin'),
        undefined,
        { range: 'bytes=2-4' },
      );
      expect({ status: ranged.status, body: ranged.body.toString() }).toEqual({ status: 206, body: '234' });
      expect(ranged.headers['content-range']).toBe('bytes 2-4/10');
      const head = await rawRequest(server.baseUrl, 'HEAD', files(modelId, '?artifact_file_path=model.pkl'));
      expect({ status: head.status, length: head.headers['content-length'], body: head.body.length }).toEqual(
        {
          status: 200,
          length: '6',
          body: 0,
        },
      );
    },
  );

  test('an empty or missing directory lists as just the root', async () => {
    expect((await rawRequest(server.baseUrl, 'GET', directories('/api/2.0', 'empty'))).json).toEqual({
      root_uri: roots.empty,
    });
    const missing = await rawRequest(
      server.baseUrl,
      'GET',
      directories('/api/2.0', MODEL, '?artifact_directory_path=nothing/here'),
    );
    expect(missing.json).toEqual({ root_uri: roots[MODEL] });
  });

  test("errors as MLflow's: unknown model, bad paths, missing parameter and file, roots not served", async () => {
    const unknown = await rawRequest(server.baseUrl, 'GET', directories('/api/2.0', 'm-nope'));
    expect({ status: unknown.status, body: unknown.json }).toEqual({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Logged model with ID 'm-nope' not found." },
    });
    const unknownFile = await rawRequest(
      server.baseUrl,
      'GET',
      files('m-nope', '?artifact_file_path=MLmodel'),
    );
    expect(unknownFile.status).toBe(404);
    for (const bad of ['../outside', '/etc/passwd', 'a/../../x', '%2e%2e%2fx']) {
      const listed = await rawRequest(
        server.baseUrl,
        'GET',
        directories('/api/2.0', MODEL, `?artifact_directory_path=${bad}`),
      );
      const fetched = await rawRequest(server.baseUrl, 'GET', files(MODEL, `?artifact_file_path=${bad}`));
      expect({
        bad,
        list: [listed.status, listed.json?.error_code],
        file: [fetched.status, fetched.json?.error_code],
      }).toEqual({
        bad,
        list: [400, 'INVALID_PARAMETER_VALUE'],
        file: [400, 'INVALID_PARAMETER_VALUE'],
      });
    }
    const noPath = await rawRequest(server.baseUrl, 'GET', files(MODEL, ''));
    expect({ status: noPath.status, code: noPath.json.error_code }).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
    });
    expect(noPath.json.message).toMatch(/artifact_file_path/);
    const missing = await rawRequest(server.baseUrl, 'GET', files(MODEL, '?artifact_file_path=none.txt'));
    expect({ status: missing.status, code: missing.json.error_code }).toEqual({
      status: 404,
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    const forbidden = await rawRequest(server.baseUrl, 'GET', directories('/api/2.0', 'forbidden'));
    expect({ status: forbidden.status, code: forbidden.json.error_code }).toEqual({
      status: 403,
      code: 'PERMISSION_DENIED',
    });
    // MLflow serves the download under /ajax-api only.
    expect(
      (
        await rawRequest(
          server.baseUrl,
          'GET',
          `/api/2.0/mlflow/logged-models/${MODEL}/artifacts/files?artifact_file_path=MLmodel`,
        )
      ).status,
    ).toBe(404);
  });
});

describe('LoggedModelArtifactRoots over the tracking REST API', () => {
  function fakeTrackingRoutes(app: FastifyInstance) {
    app.get('/api/2.0/mlflow/logged-models/:model_id', async (request, reply) => {
      const modelId = (request.params as { model_id: string }).model_id;
      if (modelId === MODEL)
        return {
          model: { info: { model_id: MODEL, artifact_uri: `mlflow-artifacts:/1/models/${MODEL}/artifacts` } },
        };
      return reply.code(404).send({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: `Logged model with ID '${modelId}' not found.`,
      });
    });
  }

  test('over HTTP (cluster mode) and in process (all-in-one)', async () => {
    const tracking = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 }).app;
    fakeTrackingRoutes(tracking);
    const url = await tracking.listen({ host: '127.0.0.1', port: 0 });
    try {
      for (const models of [
        loggedModelArtifactRootsVia({ kind: 'http', url }),
        loggedModelArtifactRootsVia({ kind: 'in-process', app: tracking }),
      ]) {
        await expect(models.artifactUri(MODEL)).resolves.toBe(
          `mlflow-artifacts:/1/models/${MODEL}/artifacts`,
        );
        await expect(models.artifactUri('m-other')).rejects.toMatchObject({
          code: 'RESOURCE_DOES_NOT_EXIST',
          message: "Logged model with ID 'm-other' not found.",
        });
      }
    } finally {
      await tracking.close();
    }
  });
});
