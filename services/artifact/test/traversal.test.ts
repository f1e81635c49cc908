import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { RunArtifactRoots } from '../src/run-roots.js';
import {
  type ArtifactServer,
  PROXY,
  rawRequest,
  type S3Server,
  STORAGE_BACKENDS,
  startArtifactServer,
  startS3rver,
  upload,
} from './harness.js';

/** Every spelling of "leave the root" the proxy must refuse, as sent on the wire. */
const ESCAPES = [
  '../outside.txt',
  '../../../../../../etc/passwd',
  'a/../../outside.txt',
  'a/b/../../../outside.txt',
  '..',
  '%2e%2e/outside.txt',
  '%2E%2E%2Foutside.txt',
  'a%2f..%2f..%2foutside.txt',
  '%252e%252e%252foutside.txt',
  '%25252e%25252e%25252foutside.txt',
  '.%2e/outside.txt',
  '..%5coutside.txt',
  '..\\outside.txt',
  'a\\..\\..\\outside.txt',
  '/etc/passwd',
  '%2fetc%2fpasswd',
  '%252fetc%252fpasswd',
  'file:%2f%2f%2fetc%2fpasswd',
  'C:%5cWindows%5cwin.ini',
  'outside.txt%00.png',
  'a%00/../outside.txt',
];

const RUN_ID = '0123456789abcdef0123456789abcdef';

describe.each(STORAGE_BACKENDS)('path traversal (%s)', (backend) => {
  let s3: S3Server | undefined;
  let server: ArtifactServer;
  let sandbox: string;
  const runs: RunArtifactRoots = {
    artifactUri: async () => `mlflow-artifacts:/1/${RUN_ID}/artifacts`,
  };

  beforeAll(async () => {
    if (backend === 's3') s3 = await startS3rver();
    sandbox = await mkdtemp(join(tmpdir(), 'mast-sandbox-'));
    const destination = backend === 'local' ? join(sandbox, 'root') : undefined;
    server = await startArtifactServer({ backend, s3, runs, destination });
    await upload(server.baseUrl, `1/${RUN_ID}/artifacts/inside.txt`, 'inside');
    await writeFile(join(sandbox, 'outside.txt'), 'secret');
  });
  afterAll(async () => {
    await server.close();
    await s3?.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  function expectRejected(response: { status: number; json: any }, what: string) {
    expect({ what, status: response.status, code: response.json?.error_code }).toEqual({
      what,
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
    });
  }

  async function sandboxUnchanged() {
    const names = (await readdir(sandbox)).sort();
    expect(names).toEqual(backend === 'local' ? ['outside.txt', 'root'] : ['outside.txt']);
    expect(await readFile(join(sandbox, 'outside.txt'), 'utf8')).toBe('secret');
  }

  test("'../path' is answered with MLflow's exact body (its test_path_validation)", async () => {
    const invalid = { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' };
    for (const url of [
      `/api/2.0/mlflow/artifacts/list?run_id=${RUN_ID}&path=../path`,
      `/get-artifact?run_uuid=${RUN_ID}&path=../path`,
      `${PROXY}/../path`,
    ]) {
      const response = await rawRequest(server.baseUrl, 'GET', url);
      expect({ url, status: response.status, json: response.json }).toEqual({
        url,
        status: 400,
        json: invalid,
      });
    }
  });

  test.each(ESCAPES)('GET, PUT, DELETE and list refuse %s', async (attempt) => {
    expectRejected(await rawRequest(server.baseUrl, 'GET', `${PROXY}/${attempt}`), 'GET');
    expect((await rawRequest(server.baseUrl, 'HEAD', `${PROXY}/${attempt}`)).status).toBe(400);
    expectRejected(
      await rawRequest(server.baseUrl, 'PUT', `${PROXY}/${attempt}`, 'pwned', {
        'content-type': 'text/plain',
        'content-length': '5',
      }),
      'PUT',
    );
    expectRejected(await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/${attempt}`), 'DELETE');
    expectRejected(await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=${attempt}`), 'list');
    const mpu = JSON.stringify({
      path: 'x.bin',
      num_parts: 1,
      upload_id: 'u',
      parts: [{ part_number: 1, etag: 'e' }],
    });
    for (const action of ['create', 'complete', 'abort']) {
      expectRejected(
        await rawRequest(server.baseUrl, 'POST', `/api/2.0/mlflow-artifacts/mpu/${action}/${attempt}`, mpu, {
          'content-type': 'application/json',
        }),
        `mpu/${action}`,
      );
    }
    expectRejected(
      await rawRequest(
        server.baseUrl,
        'GET',
        `/api/2.0/mlflow/artifacts/list?run_id=${RUN_ID}&path=${attempt}`,
      ),
      'artifacts/list',
    );
    expectRejected(
      await rawRequest(server.baseUrl, 'GET', `/get-artifact?run_uuid=${RUN_ID}&path=${attempt}`),
      'get-artifact',
    );
    await sandboxUnchanged();
  });

  test('a multipart file name that is no file name is refused', async () => {
    for (const path of ['..', '.', '', 'a%2f..%2f..%2fb', '%2e%2e']) {
      const response = await rawRequest(
        server.baseUrl,
        'POST',
        '/api/2.0/mlflow-artifacts/mpu/create/1/x',
        JSON.stringify({ path, num_parts: 1 }),
        { 'content-type': 'application/json' },
      );
      expectRejected(response, `mpu path ${path}`);
    }
  });

  test("names with '%' (MLflow's log_image files) round-trip under their literal name", async () => {
    // MLflow >= 2.12 names step images `<key>%step%<step>%timestamp%<ms>%<uuid>`; the Python client
    // sends each '%' as '%25', so one decoding gives the name back. Decoded once more, `%17` would be a
    // control character, `%5c` a backslash and `%23` a '#': none of that is the name.
    const dir = `1/${RUN_ID}/artifacts/images`;
    const names = [
      'loss%step%0%timestamp%1712345678901%5c0e1f2a.png',
      'loss%step%23%timestamp%1712345678901%2f0e1f2a%compressed.webp',
      '50%off%2e%2e.txt',
    ];
    for (const name of names) {
      const put = await upload(server.baseUrl, `${dir}/${name}`, `body of ${name}`);
      expect({ name, status: put.status }).toEqual({ name, status: 200 });
      const encoded = `${dir}/${encodeURIComponent(name)}`;
      const got = await rawRequest(server.baseUrl, 'GET', `${PROXY}/${encoded}`);
      expect({ name, status: got.status, body: got.body.toString() }).toEqual({
        name,
        status: 200,
        body: `body of ${name}`,
      });
      const viaRun = await rawRequest(
        server.baseUrl,
        'GET',
        `/get-artifact?run_id=${RUN_ID}&path=${encodeURIComponent(`images/${name}`)}`,
      );
      expect(viaRun.body.toString()).toBe(`body of ${name}`);
    }
    // The same names one more level encoded on the wire are other (literal) names, not traversals...
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/${dir}/loss%25252e.png`)).status).toBe(404);
    // ...unless decoding them again would climb out: those stay refused.
    for (const attempt of [
      '%25252e%25252e%25252foutside.txt',
      'a%255c..%255c..%255coutside.txt',
      '%255cetc',
    ]) {
      expectRejected(await rawRequest(server.baseUrl, 'GET', `${PROXY}/${attempt}`), attempt);
      expectRejected(
        await rawRequest(server.baseUrl, 'PUT', `${PROXY}/${attempt}`, 'x', { 'content-length': '1' }),
        attempt,
      );
    }
    // Listing on S3 is not checked here: s3rver ignores ListObjectsV2's `encoding-type=url`, which the
    // minio client asks for (real S3 and MinIO honour it) and undoes, so a raw `%st` key breaks the fake.
    if (backend === 's3') return;
    const listing = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=${encodeURIComponent(dir)}`);
    expect(listing.json.files.map((f: { path: string }) => f.path).sort()).toEqual([...names].sort());
    const runListing = await rawRequest(
      server.baseUrl,
      'GET',
      `/api/2.0/mlflow/artifacts/list?run_id=${RUN_ID}&path=images`,
    );
    expect(runListing.json.files.map((f: { path: string }) => f.path).sort()).toEqual(
      names.map((name) => `images/${name}`).sort(),
    );
    await sandboxUnchanged();
  });

  test('the inside file is still served', async () => {
    const ok = await rawRequest(server.baseUrl, 'GET', `${PROXY}/1/${RUN_ID}/artifacts/inside.txt`);
    expect(ok.body.toString()).toBe('inside');
    const viaRun = await rawRequest(server.baseUrl, 'GET', `/get-artifact?run_id=${RUN_ID}&path=inside.txt`);
    expect(viaRun.body.toString()).toBe('inside');
  });
});

describe('symlinks escaping the root (local)', () => {
  let sandbox: string;
  let server: ArtifactServer;

  beforeAll(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'mast-symlinks-'));
    const root = join(sandbox, 'root');
    await mkdir(join(sandbox, 'secrets'), { recursive: true });
    await writeFile(join(sandbox, 'secrets', 'key.pem'), 'PRIVATE');
    server = await startArtifactServer({ backend: 'local', destination: root });
    await upload(server.baseUrl, 'real/file.txt', 'real');
    await symlink(join(sandbox, 'secrets'), join(root, 'escape-dir'));
    await symlink(join(sandbox, 'secrets', 'key.pem'), join(root, 'escape-file'));
    await symlink(join(root, 'real'), join(root, 'inner-dir'));
    await symlink(join(root, 'real', 'file.txt'), join(root, 'inner-file'));
  });
  afterAll(async () => {
    await server.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  function expectOutside(response: { status: number; json: any }) {
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(response.json.message).toMatch(/outside the artifact root/);
  }

  test('reads, listings, writes and deletes through an escaping symlink are refused', async () => {
    expectOutside(await rawRequest(server.baseUrl, 'GET', `${PROXY}/escape-file`));
    expectOutside(await rawRequest(server.baseUrl, 'GET', `${PROXY}/escape-dir/key.pem`));
    expectOutside(await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=escape-dir`));
    expectOutside(await upload(server.baseUrl, 'escape-dir/planted.txt', 'x'));
    expectOutside(await upload(server.baseUrl, 'escape-dir/new/deeper/planted.txt', 'x'));
    expectOutside(await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/escape-dir/key.pem`));
    expect((await readdir(join(sandbox, 'secrets'))).sort()).toEqual(['key.pem']);
    expect(await readFile(join(sandbox, 'secrets', 'key.pem'), 'utf8')).toBe('PRIVATE');
  });

  test('listings leave escaping symlinks out; links inside the root work', async () => {
    const listing = await rawRequest(server.baseUrl, 'GET', `${PROXY}?path=`);
    expect(listing.json).toEqual({
      files: [
        { path: 'inner-dir', is_dir: true },
        { path: 'inner-file', is_dir: false, file_size: 4 },
        { path: 'real', is_dir: true },
      ],
    });
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/inner-file`)).body.toString()).toBe('real');
    expect((await rawRequest(server.baseUrl, 'GET', `${PROXY}/inner-dir/file.txt`)).body.toString()).toBe(
      'real',
    );
  });

  test('deleting the escaping link removes the link, not what it points to', async () => {
    expect((await rawRequest(server.baseUrl, 'DELETE', `${PROXY}/escape-dir`)).status).toBe(200);
    expect(await readFile(join(sandbox, 'secrets', 'key.pem'), 'utf8')).toBe('PRIVATE');
    expect((await readdir(join(sandbox, 'root'))).includes('escape-dir')).toBe(false);
  });
});
