/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
/**
 * Models on S3 (s3rver on loopback): an `s3://` model URI read with this process's S3 settings
 * through the artifact service's store, and a registry version whose source is an `s3://` URI under
 * its run's artifact root, fetched through the artifact service's run routes (the server's
 * credentials, none on the client).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ArtifactStorage } from '@mast/artifact';
import { loadAllInOneConfig } from '@mast/gateway';
import { S3_KEY, type S3Server, startS3rver } from '../../artifact/test/harness.js';
import { useAllInOne } from '../../gateway/test/harness.js';
import { type FetchModelOptions, fetchModel } from '../src/model-uri/index.js';
import { serveModel } from '../src/serve.js';
import { filesUnder, LINEAR_INPUT, LINEAR_OUTPUT, numbers } from './serve-support.js';
import { generateTestModels } from './support/models.js';

const API = '/api/2.0/mlflow';

describe('models on S3', () => {
  let s3: S3Server;
  let trackingUri: string;
  let modelDir: string;
  let openStore: FetchModelOptions['openStore'];
  const downloadRoot = mkdtempSync(join(tmpdir(), 'mast-s3-downloads-'));

  /** Puts the linear model's files under `prefix` in the bucket. */
  async function putModel(prefix: string): Promise<void> {
    for (const file of filesUnder(modelDir)) {
      await s3.client.putObject(s3.bucket, `${prefix}/${file}`, readFileSync(join(modelDir, file)));
    }
  }

  let s3Env: Record<string, string>;
  beforeAll(async () => {
    modelDir = (await generateTestModels()).linear;
    s3 = await startS3rver();
    s3Env = {
      MAST_S3_ENDPOINT_URL: s3.endpointUrl,
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_KEY,
    };
    // What the CLI hands over: the artifact service's S3 store, with the process's S3 settings.
    const { s3: settings } = loadAllInOneConfig(s3Env);
    openStore = async (uri) => {
      const storage = await ArtifactStorage.open({ destination: uri, allowedRoots: [], s3: settings });
      return { store: storage.destination, close: () => storage.close() };
    };
  });
  // Closed before S3 (jest runs afterAll hooks in the order they are declared).
  const mast = useAllInOne({
    name: 'mast-s3-server-',
    postgres: true,
    env: () => ({ ...s3Env, MAST_DEFAULT_ARTIFACT_ROOT: `s3://${s3.bucket}/roots` }),
  });
  beforeAll(() => {
    trackingUri = mast.url;
  });
  afterAll(async () => {
    await s3?.close();
    rmSync(downloadRoot, { recursive: true, force: true });
  });

  test('an s3:// model URI is downloaded with the S3 settings and served', async () => {
    await putModel('models/churn');
    const served = await serveModel({
      modelUri: `s3://${s3.bucket}/models/churn/`,
      host: '127.0.0.1',
      port: 0,
      logger: false,
      openStore,
      downloadRoot,
    });
    try {
      expect(served.model.source).toBe(`s3://${s3.bucket}/models/churn/`);
      expect(filesUnder(served.model.dir)).toEqual(filesUnder(modelDir));
      const response = await fetch(`${served.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(LINEAR_INPUT),
      });
      expect(response.status).toBe(200);
      const predictions = numbers(((await response.json()) as { predictions: unknown }).predictions);
      expect(predictions.map((value) => Math.round(value * 1e4) / 1e4)).toEqual(LINEAR_OUTPUT);
    } finally {
      await served.close();
    }
  });

  test('S3 failures and a missing store are one line naming the URI', async () => {
    await expect(fetchModel(`s3://${s3.bucket}/nothing`, { openStore, downloadRoot })).rejects.toThrow(
      `No model at s3://${s3.bucket}/nothing: there are no files there.`,
    );
    await expect(fetchModel('s3://no-such-bucket/model', { openStore, downloadRoot })).rejects.toThrow(
      /^Cannot read s3:\/\/no-such-bucket\/model: .*bucket/i,
    );
    await expect(fetchModel(`s3://${s3.bucket}/models/churn`, { downloadRoot })).rejects.toThrow(
      `Cannot read s3://${s3.bucket}/models/churn: this process has no S3 settings to read it with.`,
    );
  });

  test("a version whose source is on S3 under its run's root is fetched through the artifact service", async () => {
    const post = async (path: string, body: object) => {
      const response = await fetch(`${trackingUri}${API}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as any;
    };
    const run = (await post('/runs/create', { experiment_id: '0' })).run.info;
    const root = `s3://${s3.bucket}/`;
    expect(run.artifact_uri.startsWith(`${root}roots/0/`)).toBe(true);
    await putModel(`${run.artifact_uri.slice(root.length)}/model`);
    await post('/registered-models/create', { name: 'churn-s3' });
    await post('/model-versions/create', {
      name: 'churn-s3',
      source: `${run.artifact_uri}/model`,
      run_id: run.run_id,
    });
    // No openStore: the client has no S3 settings, the server reads S3.
    const fetched = await fetchModel('models:/churn-s3/1', { trackingUri, downloadRoot });
    try {
      expect(fetched.source).toBe(`models:/churn-s3/1 -> runs:/${run.run_id}/model`);
      expect(filesUnder(fetched.dir)).toEqual([...filesUnder(modelDir), 'registered_model_meta'].sort());
    } finally {
      await fetched.remove();
    }
  });
});
