import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  type ArtifactServer,
  downloadHash,
  PROXY,
  rawRequest,
  type S3Server,
  STORAGE_BACKENDS,
  sha256,
  startArtifactServer,
  startS3rver,
  upload,
} from './harness.js';

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => s3.close());

/** Keys under the server's prefix in the bucket, or files under its directory (staging excluded). */
async function storedNames(server: ArtifactServer): Promise<string[]> {
  if (server.directory !== undefined) {
    const names: string[] = [];
    const walk = async (dir: string, prefix: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (prefix === '' && entry.name === '.mast-uploads') continue;
        if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}${entry.name}/`);
        else names.push(`${prefix}${entry.name}`);
      }
    };
    await walk(server.directory, '');
    return names.sort();
  }
  const prefix = `${server.destination.replace(`s3://${s3.bucket}/`, '')}/`;
  const names: string[] = [];
  for await (const item of s3.client.listObjectsV2(s3.bucket, prefix, true)) {
    if (item.name) names.push(item.name.slice(prefix.length));
  }
  return names.sort();
}

describe.each(STORAGE_BACKENDS)('artifact proxy (%s)', (backend) => {
  let server: ArtifactServer;
  beforeAll(async () => {
    server = await startArtifactServer({ backend, s3 });
  });
  afterAll(async () => server.close());

  test('log_artifact, list_artifacts and download_artifacts as the Python client sends them', async () => {
    const run = '1/0123456789abcdef0123456789abcdef/artifacts';
    const model = randomBytes(300_000);
    const files: Array<[string, Buffer | string, string]> = [
      ['model/model.pkl', model, 'application/octet-stream'],
      ['model/MLmodel', 'flavors:\n  python_function: {}\n', 'application/octet-stream'],
      ['model/data/weights.json', '{"w": [1, 2, 3]}', 'application/json'],
      ['metrics.txt', 'loss 0.25\n', 'text/plain'],
      ['empty.bin', '', 'application/octet-stream'],
    ];
    for (const [path, body, type] of files) {
      const put = await upload(server.baseUrl, `${run}/${path}`, body, type);
      expect(put.status).toBe(200);
      expect(put.json).toEqual({});
    }

    const root = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=${encodeURIComponent(run)}`);
    expect(root.status).toBe(200);
    expect(root.json).toEqual({
      files: [
        { path: 'empty.bin', is_dir: false, file_size: 0 },
        { path: 'metrics.txt', is_dir: false, file_size: 10 },
        { path: 'model', is_dir: true },
      ],
    });
    const nested = await rawRequest(
      server.baseUrl,
      'GET',
      `${PROXY}?path=${encodeURIComponent(`${run}/model`)}`,
    );
    expect(nested.json).toEqual({
      files: [
        { path: 'MLmodel', is_dir: false, file_size: Buffer.byteLength(files[1]![1]) },
        { path: 'data', is_dir: true },
        { path: 'model.pkl', is_dir: false, file_size: model.length },
      ],
    });
    const deeper = await rawRequest(
      server.baseUrl,
      'GET',
      `${PROXY}?path=${encodeURIComponent(`${run}/model/data`)}`,
    );
    expect(deeper.json).toEqual({ files: [{ path: 'weights.json', is_dir: false, file_size: 16 }] });

    for (const [path, body] of files) {
      const got = await downloadHash(server.baseUrl, `${PROXY}/${run}/${path}`);
      expect(got.status).toBe(200);
      expect(got.sha256).toBe(sha256(body));
      expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    }
  });

  test('download headers: type, disposition, nosniff, ETag, ranges, HEAD, 304, 416', async () => {
    const body = Buffer.from('0123456789abcdefghij');
    await upload(server.baseUrl, 'headers/report data ü.json', body, 'application/json');
    const path = `${PROXY}/headers/report%20data%20%C3%BC.json`;
    const full = await rawRequest(server.baseUrl, 'GET', path);
    expect(full.status).toBe(200);
    expect(full.body.equals(body)).toBe(true);
    // MLflow's types and Werkzeug's disposition: JSON is a text extension; ü folds to u in the fallback.
    expect(full.headers['content-type']).toBe('text/plain');
    expect(full.headers['content-disposition']).toBe(
      `attachment; filename="report data u.json"; filename*=UTF-8''report%20data%20%C3%BC.json`,
    );
    expect(full.headers['x-content-type-options']).toBe('nosniff');
    expect(full.headers['accept-ranges']).toBe('bytes');
    const etag = full.headers.etag!;
    expect(etag).toMatch(/^".+"$/);

    const partial = await rawRequest(server.baseUrl, 'GET', path, undefined, { range: 'bytes=5-9' });
    expect(partial.status).toBe(206);
    expect(partial.body.toString()).toBe('56789');
    expect(partial.headers['content-range']).toBe('bytes 5-9/20');
    expect(partial.headers['content-length']).toBe('5');
    const suffix = await rawRequest(server.baseUrl, 'GET', path, undefined, { range: 'bytes=-3' });
    expect(suffix.body.toString()).toBe('hij');
    const open = await rawRequest(server.baseUrl, 'GET', path, undefined, { range: 'bytes=18-' });
    expect(open.body.toString()).toBe('ij');
    const stale = await rawRequest(server.baseUrl, 'GET', path, undefined, {
      range: 'bytes=0-1',
      'if-range': '"old"',
    });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(20);
    const fresh = await rawRequest(server.baseUrl, 'GET', path, undefined, {
      range: 'bytes=0-1',
      'if-range': etag,
    });
    expect(fresh.status).toBe(206);

    const beyond = await rawRequest(server.baseUrl, 'GET', path, undefined, { range: 'bytes=20-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */20');

    const head = await rawRequest(server.baseUrl, 'HEAD', path);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('20');
    expect(head.body.length).toBe(0);

    const cached = await rawRequest(server.baseUrl, 'GET', path, undefined, { 'if-none-match': etag });
    expect(cached.status).toBe(304);

    await upload(server.baseUrl, 'headers/report data ü.json', 'changed');
    const changed = await rawRequest(server.baseUrl, 'GET', path, undefined, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.body.toString()).toBe('changed');
  });

  test.each([
    ['a.txt', 'text/plain'],
    ['b.pkl', 'application/octet-stream'],
    ['c.png', 'image/png'],
    ['d.pdf', 'application/pdf'],
    ['MLmodel', 'text/plain'],
    ['mlproject', 'text/plain'],
    ['conda.yaml', 'text/plain'],
  ])("download type of %s is MLflow's %s, whatever the upload said", async (name, type) => {
    await upload(server.baseUrl, `mime/${name}`, Buffer.from('x'), 'text/html');
    const got = await rawRequest(server.baseUrl, 'GET', `${PROXY}/mime/${name}`);
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe(type);
    expect(got.headers['content-disposition']).toBe(`attachment; filename=${name}`);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
  });

  test('missing files are 404 RESOURCE_DOES_NOT_EXIST; missing directories list as {}', async () => {
    const missing = await rawRequest(server.baseUrl, 'GET', `${PROXY}/nowhere/model.pkl`);
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    await upload(server.baseUrl, 'dir-only/file.txt', 'x');
    const directory = await rawRequest(server.baseUrl, 'GET', `${PROXY}/dir-only`);
    expect(directory.status).toBe(404);
    const listing = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=nowhere`);
    expect(listing.status).toBe(200);
    expect(listing.json).toEqual({});
    const ofFile = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=dir-only/file.txt`);
    expect(ofFile.json).toEqual({});
  });

  test('the span download (?trace_data=true): a missing or empty traces.json is MLflow’s trace data 404', async () => {
    const file = '7/traces/tr-0123456789abcdef0123456789abcdef/artifacts/traces.json';
    const traceData = () => rawRequest(server.baseUrl, 'GET', `${PROXY}/${file}?trace_data=true`);
    const notFound = {
      status: 404,
      body: { error_code: 'NOT_FOUND', message: `Trace data not found for path=${file}` },
    };
    const missing = await traceData();
    expect({ status: missing.status, body: missing.json }).toEqual(notFound);
    // Without the query it stays an ordinary missing artifact.
    const plainMissing = await rawRequest(server.baseUrl, 'GET', `${PROXY}/${file}`);
    expect(plainMissing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    expect((await upload(server.baseUrl, file, '', 'application/json')).status).toBe(200);
    const empty = await traceData();
    expect({ status: empty.status, body: empty.json }).toEqual(notFound);
    const plainEmpty = await rawRequest(server.baseUrl, 'GET', `${PROXY}/${file}`);
    expect({ status: plainEmpty.status, length: plainEmpty.body.length }).toEqual({ status: 200, length: 0 });

    const spans = '{"spans": [], "request": "{}"}';
    expect((await upload(server.baseUrl, file, spans, 'application/json')).status).toBe(200);
    const got = await traceData();
    expect({
      status: got.status,
      text: got.body.toString('utf8'),
      disposition: got.headers['content-disposition'],
    }).toEqual({ status: 200, text: spans, disposition: 'attachment; filename=traces.json' });
    // Any other value of the query is no span download.
    const other = await rawRequest(server.baseUrl, 'GET', `${PROXY}/nowhere/traces.json?trace_data=1`);
    expect(other.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  test('delete removes a file or a directory tree, and nothing else', async () => {
    for (const path of ['del/a/1.txt', 'del/a/sub/2.txt', 'del/ab.txt', 'del/keep.txt']) {
      await upload(server.baseUrl, path, path);
    }
    expect((await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/del/a`)).json).toEqual({});
    expect((await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/del/ab.txt`)).status).toBe(200);
    expect((await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/del/never-existed`)).status).toBe(200);
    const listing = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=del`);
    expect(listing.json).toEqual({ files: [{ path: 'keep.txt', is_dir: false, file_size: 12 }] });
    const root = await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/`);
    expect(root.status).toBe(400);
    expect(root.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  test('uploads of any content type are stored raw, chunked bodies too, and replace older versions', async () => {
    const json = '{"not": "parsed"}';
    expect((await upload(server.baseUrl, 'types/a.json', json, 'application/json')).status).toBe(200);
    expect(
      (await upload(server.baseUrl, 'types/b.bin', 'x', 'multipart/form-data; boundary=zz')).status,
    ).toBe(200);
    expect((await upload(server.baseUrl, 'types/c.txt', 'text')).status).toBe(200);
    const noType = await rawRequest(server.baseUrl, 'PUT', `${PROXY}/types/d.bin`, Buffer.from('raw'), {
      'content-length': '3',
    });
    expect(noType.status).toBe(200);
    expect((await downloadHash(server.baseUrl, `${PROXY}/types/a.json`)).sha256).toBe(sha256(json));
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/types/d.bin`)).body.toString()).toBe('raw');

    const chunks = [randomBytes(3 * 1024 * 1024), randomBytes(4 * 1024 * 1024), randomBytes(10)];
    const chunked = await rawRequest(
      server.baseUrl,
      'PUT',
      `${PROXY}/types/chunked.bin`,
      Readable.from(chunks),
      {
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
      },
    );
    expect(chunked.status).toBe(200);
    expect((await downloadHash(server.baseUrl, `${PROXY}/types/chunked.bin`)).sha256).toBe(
      sha256(Buffer.concat(chunks)),
    );

    await upload(server.baseUrl, 'types/c.txt', 'newer text');
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/types/c.txt`)).body.toString()).toBe(
      'newer text',
    );
  });

  test('a multi-part upload (bigger than one part) round-trips', async () => {
    const body = randomBytes(12 * 1024 * 1024 + 17);
    expect((await upload(server.baseUrl, 'big/twelve.bin', body)).status).toBe(200);
    const got = await downloadHash(server.baseUrl, `${PROXY}/big/twelve.bin`);
    expect(got.sha256).toBe(sha256(body));
    const range = await rawRequest(server.baseUrl, 'GET', `${PROXY}/big/twelve.bin`, undefined, {
      range: 'bytes=5242870-5242889',
    });
    expect(range.status).toBe(206);
    expect(range.body.equals(body.subarray(5242870, 5242890))).toBe(true);
  });

  test('writing over a directory, or under a file, is refused', async () => {
    await upload(server.baseUrl, 'shape/dir/file.txt', 'x');
    if (backend === 'local') {
      const overDir = await upload(server.baseUrl, 'shape/dir', 'x');
      expect(overDir.status).toBe(400);
      const underFile = await upload(server.baseUrl, 'shape/dir/file.txt/child', 'x');
      expect(underFile.status).toBe(400);
      expect(underFile.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    const fileName = await upload(server.baseUrl, '.mast-uploads/x', 'x');
    expect(fileName.status).toBe(backend === 'local' ? 400 : 200);
  });

  test('an aborted upload leaves no partial file visible', async () => {
    const before = await storedNames(server);
    const url = new URL(server.baseUrl);
    const size = 20 * 1024 * 1024;
    await new Promise<void>((resolve) => {
      const request = http.request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: `${PROXY}/aborted/half.bin`,
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
      });
      request.on('error', () => resolve());
      request.write(randomBytes(9 * 1024 * 1024), () => {
        setTimeout(() => {
          request.destroy();
          resolve();
        }, 300);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await storedNames(server)).toEqual(before);
    const got = await rawRequest(server.baseUrl, 'GET', `${PROXY}/aborted/half.bin`);
    expect(got.status).toBe(404);
    if (server.directory !== undefined) {
      expect(await readdir(join(server.directory, '.mast-uploads'))).toEqual([]);
    }
  });

  test('/ajax-api mirrors /api', async () => {
    await upload(server.baseUrl, 'ajax/x.txt', 'ajax');
    const got = await rawRequest(
      server.baseUrl,
      'GET',
      '/ajax-api/2.0/mlflow-artifacts/artifacts/ajax/x.txt',
    );
    expect(got.body.toString()).toBe('ajax');
    const listing = await rawRequest(
      server.baseUrl,
      'GET',
      '/ajax-api/2.0/mlflow-artifacts/artifacts?path=ajax',
    );
    expect(listing.json.files).toHaveLength(1);
  });
});

describe('upload limits and disabled proxy', () => {
  let limitedServer: ArtifactServer;
  let disabled: ArtifactServer;
  beforeAll(async () => {
    limitedServer = await startArtifactServer({ backend: 'local', maxUploadBytes: 1000 });
    disabled = await startArtifactServer({ backend: 'local', serveArtifacts: false });
  });
  afterAll(async () => {
    await limitedServer.close();
    await disabled.close();
  });

  test('an upload over the limit is refused, announced or streamed', async () => {
    const announced = await upload(limitedServer.baseUrl, 'big.bin', randomBytes(1001));
    expect(announced.status).toBe(400);
    expect(announced.json.message).toMatch(/limit of 1000 bytes/);
    const streamed = await rawRequest(
      limitedServer.baseUrl,
      'PUT',
      `${PROXY}/big2.bin`,
      Readable.from([randomBytes(600), randomBytes(600)]),
      { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' },
    );
    expect(streamed.status).toBe(400);
    expect(streamed.json.message).toMatch(/limit of 1000 bytes/);
    expect((await rawRequest(limitedServer.baseUrl, 'GET', `${PROXY}?path=`)).json).toEqual({});
    expect((await upload(limitedServer.baseUrl, 'ok.bin', randomBytes(1000))).status).toBe(200);
  });

  test('with --no-serve-artifacts the proxy answers 503', async () => {
    for (const [method, path] of [
      ['GET', `${PROXY}/a.txt`],
      ['GET', `${PROXY}?path=a`],
      ['PUT', `${PROXY}/a.txt`],
      ['DELETE', `${PROXY}/a.txt`],
    ]) {
      const response = await rawRequest(disabled.baseUrl, method!, path!, method === 'PUT' ? 'x' : undefined);
      expect(response.status).toBe(503);
      expect(response.json.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      expect(response.json.message).toMatch(/--no-serve-artifacts/);
    }
  });
});
