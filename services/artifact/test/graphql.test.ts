import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { HttpClient } from '@mast/test-support';
import { useAllInOne } from '../../gateway/test/harness.js';
import { S3_KEY, type S3Server, startS3rver, upload } from './harness.js';

const RUN_ARTIFACTS = `query RunArtifacts($id: ID!, $path: String) {
  run(id: $id) { name artifactUri artifacts(path: $path) { path isDir fileSize downloadUrl } }
}`;

interface ArtifactFile {
  path: string;
  isDir: boolean;
  fileSize: number | null;
  downloadUrl: string | null;
}

interface GraphQLAnswer {
  data?: { run: { name: string; artifactUri: string; artifacts: ArtifactFile[] } | null };
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

async function query(http: HttpClient, variables: Record<string, unknown>): Promise<GraphQLAnswer> {
  const response = await http.request('POST', '/graphql', { query: RUN_ARTIFACTS, variables });
  expect(response.status).toBe(200);
  return response.body as GraphQLAnswer;
}

async function createRun(http: HttpClient, experimentId = '0', name = 'with-artifacts') {
  const created = await http.post('/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: name,
  });
  expect(created.status).toBe(200);
  return created.body.run.info as { run_id: string; artifact_uri: string };
}

/** Downloads a `downloadUrl` (server-relative or absolute), following no redirect. */
async function download(baseUrl: string, url: string): Promise<Buffer> {
  const response = await fetch(url.startsWith('/') ? `${baseUrl}${url}` : url, { redirect: 'manual' });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

const FILES = {
  'model/MLmodel': Buffer.from('flavors: {}\n'),
  'model/conda.yaml': Buffer.from('name: env\n'),
  'model/data/weights bin': randomBytes(4096),
  'model/data/nested/deeper.txt': Buffer.from('deep'),
  'metrics.json': Buffer.from('{}'),
};

describe('Run.artifacts through the all-in-one gateway (local destination)', () => {
  const direct = mkdtempSync(join(tmpdir(), 'mast-graphql-direct-'));
  const mast = useAllInOne({
    name: 'mast-graphql-artifacts-',
    env: { MAST_ARTIFACT_ALLOWED_ROOTS: direct },
  });
  let run: { run_id: string; artifact_uri: string };

  beforeAll(async () => {
    run = await createRun(mast.http);
    const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const [path, body] of Object.entries(FILES)) {
      expect((await upload(mast.url, `${root}/${path}`, body)).status).toBe(200);
    }
  });
  afterAll(() => rmSync(direct, { recursive: true, force: true }));

  test('one query gives the run and its files; every downloadUrl serves the bytes', async () => {
    const answer = await query(mast.http, { id: run.run_id, path: 'model' });
    expect(answer.errors).toBeUndefined();
    const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
    expect(answer.data!.run).toEqual({
      name: 'with-artifacts',
      artifactUri: run.artifact_uri,
      artifacts: [
        {
          path: 'model/MLmodel',
          isDir: false,
          fileSize: 12,
          downloadUrl: `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`,
        },
        {
          path: 'model/conda.yaml',
          isDir: false,
          fileSize: 10,
          downloadUrl: `/api/2.0/mlflow-artifacts/artifacts/${root}/model/conda.yaml`,
        },
        { path: 'model/data', isDir: true, fileSize: null, downloadUrl: null },
      ],
    });
    for (const file of answer.data!.run!.artifacts.filter((f) => !f.isDir)) {
      expect(await download(mast.url, file.downloadUrl!)).toEqual(FILES[file.path as keyof typeof FILES]);
    }
    const nested = await query(mast.http, { id: run.run_id, path: 'model/data' });
    expect(
      nested.data!.run!.artifacts.map(({ path, isDir, fileSize }) => ({ path, isDir, fileSize })),
    ).toEqual([
      { path: 'model/data/nested', isDir: true, fileSize: null },
      { path: 'model/data/weights bin', isDir: false, fileSize: 4096 },
    ]);
    const weights = nested.data!.run!.artifacts[1]!;
    expect(weights.downloadUrl).toContain('/model/data/weights%20bin');
    expect(await download(mast.url, weights.downloadUrl!)).toEqual(FILES['model/data/weights bin']);
  });

  test('without a path, the run root; a missing directory is an empty list', async () => {
    const top = await query(mast.http, { id: run.run_id });
    expect(top.data!.run!.artifacts.map((f) => [f.path, f.isDir])).toEqual([
      ['metrics.json', false],
      ['model', true],
    ]);
    const missing = await query(mast.http, { id: run.run_id, path: 'nothing/here' });
    expect(missing.errors).toBeUndefined();
    expect(missing.data!.run!.artifacts).toEqual([]);
  });

  test.each(['../other-run', 'model/../../x', '%2e%2e/x', '/etc', 's3://bucket/key', 'a\\b'])(
    'a path that could leave the run root (%s) is INVALID_PARAMETER_VALUE',
    async (path) => {
      const answer = await query(mast.http, { id: run.run_id, path });
      expect(answer.errors?.[0]?.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
      expect(answer.errors?.[0]?.path).toEqual(['run', 'artifacts']);
    },
  );

  test('an unknown run is null with RESOURCE_DOES_NOT_EXIST, as the tracking subgraph answers', async () => {
    const answer = await query(mast.http, { id: 'f'.repeat(32), path: 'model' });
    expect(answer.data?.run).toBeNull();
    expect(answer.errors?.[0]?.extensions?.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  test('a run with a direct (allowed local) root downloads through /get-artifact', async () => {
    const created = await mast.http.post('/api/2.0/mlflow/experiments/create', {
      name: 'direct-root',
      artifact_location: direct,
    });
    expect(created.status).toBe(200);
    const directRun = await createRun(mast.http, created.body.experiment_id, 'direct');
    const files = join(direct, directRun.run_id, 'artifacts', 'model');
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'model.pkl'), 'pickled');
    const answer = await query(mast.http, { id: directRun.run_id, path: 'model' });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.run!.artifacts).toEqual([
      {
        path: 'model/model.pkl',
        isDir: false,
        fileSize: 7,
        downloadUrl: `/get-artifact?${new URLSearchParams({ run_id: directRun.run_id, path: 'model/model.pkl' })}`,
      },
    ]);
    expect((await download(mast.url, answer.data!.run!.artifacts[0]!.downloadUrl!)).toString()).toBe(
      'pickled',
    );
  });

  test('a root outside the allowed ones is PERMISSION_DENIED', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mast-graphql-elsewhere-'));
    try {
      const created = await mast.http.post('/api/2.0/mlflow/experiments/create', {
        name: 'elsewhere',
        artifact_location: elsewhere,
      });
      const elsewhereRun = await createRun(mast.http, created.body.experiment_id, 'elsewhere');
      const answer = await query(mast.http, { id: elsewhereRun.run_id });
      expect(answer.data?.run).toBeNull();
      expect(answer.errors?.[0]?.extensions?.code).toBe('PERMISSION_DENIED');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe.each([true, false])('Run.artifacts on S3 (presigned downloads: %s)', (presigned) => {
  let s3: S3Server;

  beforeAll(async () => {
    s3 = await startS3rver();
  });
  const mast = useAllInOne({
    name: 'mast-graphql-s3-',
    env: () => ({
      MAST_ARTIFACTS_DESTINATION: `s3://${s3.bucket}/mast-${randomBytes(4).toString('hex')}`,
      MAST_S3_ENDPOINT_URL: s3.endpointUrl,
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_KEY,
      MAST_S3_PRESIGNED_DOWNLOADS: String(presigned),
    }),
  });
  afterAll(async () => {
    await s3?.close();
  });

  test('files list with their sizes; downloadUrl is presigned only when enabled', async () => {
    const run = await createRun(mast.http);
    const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
    const weights = randomBytes(2048);
    expect((await upload(mast.url, `${root}/model/MLmodel`, 'flavors: {}\n')).status).toBe(200);
    expect((await upload(mast.url, `${root}/model/data/weights.bin`, weights)).status).toBe(200);
    const answer = await query(mast.http, { id: run.run_id, path: 'model' });
    expect(answer.errors).toBeUndefined();
    const files = answer.data!.run!.artifacts;
    expect(files.map(({ path, isDir, fileSize }) => ({ path, isDir, fileSize }))).toEqual([
      { path: 'model/MLmodel', isDir: false, fileSize: 12 },
      { path: 'model/data', isDir: true, fileSize: null },
    ]);
    const url = files[0]!.downloadUrl!;
    if (presigned) {
      expect(url.startsWith(`${s3.endpointUrl}/${s3.bucket}/`)).toBe(true);
      expect(url).toContain('X-Amz-Signature=');
    } else {
      expect(url).toBe(`/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`);
    }
    expect((await download(mast.url, url)).toString()).toBe('flavors: {}\n');
    const nested = await query(mast.http, { id: run.run_id, path: 'model/data' });
    const file = nested.data!.run!.artifacts[0]!;
    expect(file).toMatchObject({ path: 'model/data/weights.bin', isDir: false, fileSize: 2048 });
    expect(await download(mast.url, file.downloadUrl!)).toEqual(weights);
  });
});

describe('LoggedModel.artifacts through the all-in-one gateway (local destination)', () => {
  const direct = mkdtempSync(join(tmpdir(), 'mast-graphql-models-direct-'));
  const mast = useAllInOne({
    name: 'mast-graphql-models-',
    env: { MAST_ARTIFACT_ALLOWED_ROOTS: direct },
  });

  const MODEL_ARTIFACTS = `query($id: ID!, $path: String) {
    loggedModel(id: $id) { name artifacts(path: $path) { path isDir fileSize downloadUrl } }
  }`;

  async function createModel(experimentId: string) {
    const created = await mast.http.post('/api/2.0/mlflow/logged-models', {
      experiment_id: experimentId,
      name: 'm',
    });
    expect(created.status).toBe(200);
    return created.body.model.info as { model_id: string; artifact_uri: string };
  }

  async function modelArtifacts(id: string, path?: string) {
    const response = await mast.http.request('POST', '/graphql', {
      query: MODEL_ARTIFACTS,
      variables: { id, path },
    });
    expect(response.status).toBe(200);
    return response.body as {
      data?: { loggedModel: { name: string; artifacts: ArtifactFile[] } | null };
      errors?: Array<{ path?: unknown[]; extensions?: Record<string, unknown> }>;
    };
  }

  afterAll(() => rmSync(direct, { recursive: true, force: true }));

  test('a proxied root: files with proxy download URLs; bad paths are INVALID_PARAMETER_VALUE', async () => {
    const model = await createModel('0');
    const root = model.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const [path, body] of Object.entries(FILES)) {
      expect((await upload(mast.url, `${root}/${path}`, body)).status).toBe(200);
    }
    const answer = await modelArtifacts(model.model_id, 'model');
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.loggedModel!.artifacts).toEqual([
      {
        path: 'model/MLmodel',
        isDir: false,
        fileSize: 12,
        downloadUrl: `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`,
      },
      {
        path: 'model/conda.yaml',
        isDir: false,
        fileSize: 10,
        downloadUrl: `/api/2.0/mlflow-artifacts/artifacts/${root}/model/conda.yaml`,
      },
      { path: 'model/data', isDir: true, fileSize: null, downloadUrl: null },
    ]);
    const outside = await modelArtifacts(model.model_id, '../x');
    expect(outside.errors?.[0]?.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
    expect(outside.errors?.[0]?.path).toEqual(['loggedModel', 'artifacts']);
  });

  test("a direct root downloads through the logged model's files route", async () => {
    const created = await mast.http.post('/api/2.0/mlflow/experiments/create', {
      name: 'models-direct',
      artifact_location: direct,
    });
    expect(created.status).toBe(200);
    const model = await createModel(created.body.experiment_id);
    const files = join(direct, 'models', model.model_id, 'artifacts');
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'model.pkl'), 'pickled');
    const answer = await modelArtifacts(model.model_id);
    expect(answer.errors).toBeUndefined();
    const url = `/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/files?artifact_file_path=model.pkl`;
    expect(answer.data!.loggedModel!.artifacts).toEqual([
      { path: 'model.pkl', isDir: false, fileSize: 7, downloadUrl: url },
    ]);
    expect((await download(mast.url, url)).toString()).toBe('pickled');
  });
});
