import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  type ArtifactServer,
  downloadHash,
  PROXY,
  rawRequest,
  type S3Server,
  sha256,
  startArtifactServer,
  startS3rver,
  upload,
} from './harness.js';

const MPU = '/api/2.0/mlflow-artifacts/mpu';
const json = (body: unknown) => JSON.stringify(body);
const JSON_HEADERS = { 'content-type': 'application/json' };

/** What the Python client does with each credential: PUT the bytes to the presigned URL, keep the ETag. */
function putPart(url: string, body: Buffer, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'PUT',
      headers: { ...headers, 'content-length': String(body.length) },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(String(response.headers.etag))
          : reject(new Error(`part ${response.statusCode}`)),
      );
    });
    request.end(body);
  });
}

describe('multipart uploads with presigned part URLs (s3)', () => {
  let s3: S3Server;
  let server: ArtifactServer;
  beforeAll(async () => {
    s3 = await startS3rver();
    server = await startArtifactServer({ backend: 's3', s3 });
  });
  afterAll(async () => {
    await server.close();
    await s3.close();
  });

  test('create, PUT the parts straight to storage, complete: the file is there', async () => {
    const part = 5 * 1024 * 1024;
    const data = randomBytes(2 * part + 1234);
    const dir = '1/0123456789abcdef0123456789abcdef/artifacts/model';
    const created = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/create/${dir}`,
      json({ path: '/home/ada/work/model.bin', num_parts: 3 }),
      JSON_HEADERS,
    );
    expect(created.status).toBe(200);
    expect(typeof created.json.upload_id).toBe('string');
    expect(created.json.credentials.map((c: any) => c.part_number)).toEqual([1, 2, 3]);
    expect(created.json.credentials[0].url).toContain(s3.endpointUrl);
    expect(created.json.credentials[0].headers).toEqual({});

    // Not visible before completion.
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/${dir}/model.bin`)).status).toBe(404);

    const parts = await Promise.all(
      created.json.credentials.map(async (credential: any, i: number) => ({
        part_number: credential.part_number,
        etag: await putPart(credential.url, data.subarray(i * part, (i + 1) * part), credential.headers),
        url: credential.url,
      })),
    );
    const completed = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/complete/${dir}`,
      json({ path: '/home/ada/work/model.bin', upload_id: created.json.upload_id, parts }),
      JSON_HEADERS,
    );
    expect(completed.status).toBe(200);
    expect(completed.json).toEqual({});
    const got = await downloadHash(server.baseUrl, `${PROXY}/${dir}/model.bin`);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(sha256(data));
  });

  test('abort: the upload never becomes visible', async () => {
    const created = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/create/aborted`,
      json({ path: 'weights.bin', num_parts: 2 }),
      JSON_HEADERS,
    );
    await putPart(created.json.credentials[0].url, randomBytes(5 * 1024 * 1024), {});
    const aborted = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/abort/aborted`,
      json({ path: 'weights.bin', upload_id: created.json.upload_id }),
      JSON_HEADERS,
    );
    expect(aborted.status).toBe(200);
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/aborted/weights.bin`)).status).toBe(404);
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=aborted`)).json).toEqual({});
  });

  test('bad requests', async () => {
    const noParts = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/create/x`,
      json({ path: 'a.bin', num_parts: 0 }),
      JSON_HEADERS,
    );
    expect(noParts.status).toBe(400);
    const noPath = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/create/x`,
      json({ num_parts: 1 }),
      JSON_HEADERS,
    );
    expect(noPath.json.message).toMatch(/Missing value for required parameter 'path'/);
    const notJson = await rawRequest(server.baseUrl, 'POST', `${MPU}/create/x`, 'path=a', {
      'content-type': 'text/plain',
    });
    expect(notJson.status).toBe(400);
    const emptyParts = await rawRequest(
      server.baseUrl,
      'POST',
      `${MPU}/complete/x`,
      json({ path: 'a.bin', upload_id: 'u', parts: [] }),
      JSON_HEADERS,
    );
    expect(emptyParts.status).toBe(400);
  });
});

describe('presigned downloads (MAST_S3_PRESIGNED_DOWNLOADS)', () => {
  let s3: S3Server;
  let server: ArtifactServer;
  beforeAll(async () => {
    s3 = await startS3rver();
    server = await startArtifactServer({ backend: 's3', s3, presignedDownloads: true });
  });
  afterAll(async () => {
    await server.close();
    await s3.close();
  });

  test('a download is a redirect to a presigned URL of the backend; a missing file is still 404', async () => {
    const body = randomBytes(1000);
    await upload(server.baseUrl, 'pre/signed.bin', body);
    const redirect = await rawRequest(server.baseUrl, 'GET', `${PROXY}/pre/signed.bin`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.location!;
    expect(location.startsWith(`${s3.endpointUrl}/${s3.bucket}/`)).toBe(true);
    const direct = await fetch(location);
    expect(direct.status).toBe(200);
    expect(Buffer.from(await direct.arrayBuffer()).equals(body)).toBe(true);
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/pre/none.bin`)).status).toBe(404);
  });
});

describe('multipart on the local backend', () => {
  let server: ArtifactServer;
  beforeAll(async () => {
    server = await startArtifactServer({ backend: 'local' });
  });
  afterAll(async () => server.close());

  test('answers 501 with the message the Python client falls back on', async () => {
    for (const [action, body] of [
      ['create', { path: 'a.bin', num_parts: 2 }],
      ['complete', { path: 'a.bin', upload_id: 'u', parts: [{ part_number: 1, etag: 'e' }] }],
      ['abort', { path: 'a.bin', upload_id: 'u' }],
    ] as const) {
      const response = await rawRequest(
        server.baseUrl,
        'POST',
        `${MPU}/${action}/1/r/artifacts`,
        json(body),
        JSON_HEADERS,
      );
      expect(response.status).toBe(501);
      expect(response.json.error_code).toBe('NOT_IMPLEMENTED');
      expect(
        response.json.message.startsWith(
          'Multipart upload is not supported for the current artifact repository',
        ),
      ).toBe(true);
    }
  });
});

describe('a backend that is down answers 503 quickly', () => {
  let silent: net.Server;
  let silentPort: number;
  const sockets = new Set<net.Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: a hung backend.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  async function expectUnavailable(server: ArtifactServer, withinMs: number) {
    for (const [method, path, body] of [
      ['GET', `${PROXY}/a/b.bin`, undefined],
      ['GET', `${PROXY}?path=a`, undefined],
      ['PUT', `${PROXY}/a/b.bin`, randomBytes(1000)],
      ['DELETE', `${PROXY}/a/b.bin`, undefined],
    ] as const) {
      const started = Date.now();
      const response = await rawRequest(server.baseUrl, method, path, body);
      expect({ method, path, status: response.status, code: response.json?.error_code }).toEqual({
        method,
        path,
        status: 503,
        code: 'TEMPORARILY_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(withinMs);
    }
    await expect(server.storage.ping()).rejects.toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE' });
  }

  test('S3 refusing connections', async () => {
    const server = await startArtifactServer({
      backend: 's3',
      destination: 's3://mast-test/down',
      endpointUrl: 'http://127.0.0.1:1',
    });
    try {
      await expectUnavailable(server, 3000);
    } finally {
      await server.close();
    }
  });

  test('S3 accepting connections but never answering (timeout)', async () => {
    const server = await startArtifactServer({
      backend: 's3',
      destination: 's3://mast-test/hung',
      endpointUrl: `http://127.0.0.1:${silentPort}`,
      timeoutMs: 500,
    });
    try {
      await expectUnavailable(server, 3000);
    } finally {
      await server.close();
    }
  });

  test('a local root that disappeared', async () => {
    const server = await startArtifactServer({ backend: 'local' });
    try {
      await rm(server.directory!, { recursive: true, force: true });
      const put = await upload(server.baseUrl, 'a/b.txt', 'x');
      expect(put.status).toBe(503);
      expect(put.json.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      await expect(server.storage.ping()).rejects.toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE' });
    } finally {
      await server.close();
    }
  });
});
