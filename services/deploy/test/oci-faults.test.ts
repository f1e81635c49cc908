/**
 * Registry behaviours a real `docker-registry` will not show on demand (deploy spec §6.5), served by a
 * small node:http fake: an upload Location on another origin, a Harbor-style 401 on mount, ECR-style
 * 201 on PATCH, a registry that stores another digest, a 503, and the ping's challenge.
 */

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { RegistryClient } from '../src/oci/client.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
type Handler = (req: http.IncomingMessage, url: URL, body: Buffer) => Answer;

let server: http.Server;
let host: string;
let handler: Handler;
let seen: string[];

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url!, `http://${req.headers.host}`);
    seen.push(`${req.method} ${url.pathname}${url.search}`);
    const answer = handler(req, url, Buffer.concat(chunks));
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body ?? '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

beforeEach(() => {
  seen = [];
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

const blob = Buffer.from('0123456789abcdef');
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const client = (chunkSize?: number) => new RegistryClient({ registry: host, insecure: true, chunkSize });

describe('registry faults', () => {
  it('refuses an upload Location on another origin (SSRF guard)', async () => {
    handler = (req) =>
      req.method === 'HEAD'
        ? { status: 404 }
        : { status: 202, headers: { location: 'http://169.254.169.254/latest/meta-data' } };
    await expect(client().pushBlob('app', { digest, size: blob.length, data: blob })).rejects.toMatchObject({
      code: 'UNSAFE_LOCATION',
      message: expect.stringContaining(
        'refusing an upload location on another origin (http://169.254.169.254)',
      ),
    });
    expect(seen).not.toContainEqual(expect.stringContaining('meta-data'));
  });

  it('treats a 401 on mount as "not mounted" (Harbor) and accepts 201 on PATCH (ECR)', async () => {
    const received: Buffer[] = [];
    handler = (req, url, body): Answer => {
      if (req.method === 'POST' && url.searchParams.has('mount'))
        return { status: 401, body: '{"errors":[]}' };
      if (req.method === 'POST')
        return { status: 202, headers: { location: '/v2/app/blobs/uploads/s1?state=x' } };
      if (req.method === 'PATCH') {
        received.push(body);
        const next = `/v2/app/blobs/uploads/s1?state=${received.length}`;
        return { status: received.length === 1 ? 201 : 202, headers: { location: next } };
      }
      if (req.method === 'PUT') return { status: 201, headers: { 'docker-content-digest': digest } };
      return { status: 404 };
    };
    const c = client(10);
    expect(await c.mountBlob('app', digest, 'base')).toBe(false);
    await c.uploadBlob('app', { digest, size: blob.length, data: blob });
    expect(Buffer.concat(received).equals(blob)).toBe(true);
    // The session query of the newest Location is used as given, the digest added for the commit.
    expect(seen.slice(1)).toEqual([
      'POST /v2/app/blobs/uploads/',
      'PATCH /v2/app/blobs/uploads/s1?state=x',
      'PATCH /v2/app/blobs/uploads/s1?state=1',
      `PUT /v2/app/blobs/uploads/s1?state=2&digest=${encodeURIComponent(digest)}`,
    ]);
  });

  it('cancels the upload session (DELETE) when a chunk is refused', async () => {
    handler = (req): Answer => {
      if (req.method === 'POST') return { status: 202, headers: { location: '/v2/app/blobs/uploads/s2' } };
      if (req.method === 'PATCH') {
        return { status: 416, body: '{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"out of order"}]}' };
      }
      return { status: 204 };
    };
    await expect(
      client(10).uploadBlob('app', { digest, size: blob.length, data: blob }),
    ).rejects.toMatchObject({
      code: 'BLOB_UPLOAD_INVALID',
      status: 416,
    });
    expect(seen).toEqual([
      'POST /v2/app/blobs/uploads/',
      'PATCH /v2/app/blobs/uploads/s2',
      'DELETE /v2/app/blobs/uploads/s2',
    ]);
  });

  it('fails DIGEST_MISMATCH when the registry stores a manifest under another digest', async () => {
    handler = () => ({ status: 201, headers: { 'docker-content-digest': `sha256:${'0'.repeat(64)}` } });
    await expect(
      client().putManifest('app', '1', 'application/vnd.oci.image.manifest.v1+json', Buffer.from('{}')),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('marks a 503 retryable and keeps the registry code', async () => {
    handler = () => ({
      status: 503,
      body: '{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}',
    });
    await expect(client().getManifest('app', '1')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      status: 503,
      retryable: true,
      message: `registry ${host}: GET manifest app:1 failed: 503 UNAVAILABLE: service unavailable`,
    });
  });

  it('rejects a manifest whose mediaType contradicts its Content-Type', async () => {
    handler = () => ({
      status: 200,
      headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' },
      body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json' }),
    });
    await expect(client().getManifest('app', '1')).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });

  it('pings through a Basic challenge with credentials, and fails UNAUTHORIZED without', async () => {
    const expected = `Basic ${Buffer.from('u:p').toString('base64')}`;
    handler = (req) =>
      req.headers.authorization === expected
        ? { status: 200, body: '{}' }
        : {
            status: 401,
            headers: { 'www-authenticate': 'Basic realm="fake"' },
            body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
          };
    await new RegistryClient({
      registry: host,
      insecure: true,
      credentials: { username: 'u', password: 'p' },
    }).ping();
    expect(seen).toEqual(['GET /v2/', 'GET /v2/']);
    await expect(client().ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });
});
