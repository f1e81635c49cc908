import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHttpApp } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { Client } from 'minio';
import S3rver from 's3rver';
import { registerArtifacts } from '../src/plugin.js';
import type { LoggedModelArtifactRoots, RunArtifactRoots } from '../src/run-roots.js';
import { ArtifactStorage } from '../src/storage/artifact-storage.js';

/** Both storage backends every integration suite runs against. */
export const STORAGE_BACKENDS = ['local', 's3'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

export const S3_KEY = 'S3RVER';

export interface S3Server {
  endpointUrl: string;
  bucket: string;
  directory: string;
  /** A `minio` client straight to the server (what tests check the backend with). */
  client: Client;
  close(): Promise<void>;
}

/** s3rver on a loopback port with a temporary directory and one bucket. */
export async function startS3rver(bucket = 'mast-test'): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'mast-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  const endpointUrl = `http://127.0.0.1:${address.port}`;
  const client = new Client({
    endPoint: '127.0.0.1',
    port: address.port,
    useSSL: false,
    accessKey: S3_KEY,
    secretKey: S3_KEY,
    region: 'us-east-1',
    pathStyle: true,
  });
  // s3rver lacks ListMultipartUploads, which minio's putObject asks first (ENVIRONMENT.md).
  (client as any).findUploadId = async () => undefined;
  return {
    endpointUrl,
    bucket,
    directory,
    client,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface ArtifactServerOptions {
  backend: StorageBackend;
  /** Needed for the s3 backend. */
  s3?: S3Server;
  runs?: RunArtifactRoots;
  loggedModels?: LoggedModelArtifactRoots;
  serveArtifacts?: boolean;
  maxUploadBytes?: number;
  allowedRoots?: string[];
  timeoutMs?: number;
  partSize?: number;
  presignedDownloads?: boolean;
  /** Overrides the destination (default: a fresh temp directory, or a fresh prefix in the bucket). */
  destination?: string;
  endpointUrl?: string;
}

export interface ArtifactServer {
  baseUrl: string;
  app: FastifyInstance;
  storage: ArtifactStorage;
  destination: string;
  /** The local destination directory (local backend). */
  directory?: string;
  close(): Promise<void>;
}

/** The artifact service alone on a loopback port, over a fresh destination of the given backend. */
export async function startArtifactServer(options: ArtifactServerOptions): Promise<ArtifactServer> {
  let directory: string | undefined;
  let destination = options.destination;
  if (destination === undefined) {
    if (options.backend === 'local') {
      directory = await mkdtemp(join(tmpdir(), 'mast-artifacts-'));
      destination = directory;
    } else {
      destination = `s3://${options.s3!.bucket}/run-${randomBytes(4).toString('hex')}`;
    }
  }
  const storage = await ArtifactStorage.open({
    destination,
    allowedRoots: options.allowedRoots ?? [],
    s3: {
      endpointUrl: options.endpointUrl ?? options.s3?.endpointUrl ?? 'http://127.0.0.1:1',
      accessKeyId: S3_KEY,
      secretAccessKey: S3_KEY,
      region: 'us-east-1',
      timeoutMs: options.timeoutMs ?? 10_000,
      partSize: options.partSize ?? 5 * 1024 * 1024,
    },
  });
  const { app } = createHttpApp({ logLevel: 'silent', bodyLimit: 32 * 1024 * 1024 });
  await registerArtifacts(app, {
    storage,
    runs: options.runs,
    loggedModels: options.loggedModels,
    serveArtifacts: options.serveArtifacts ?? true,
    maxUploadBytes: options.maxUploadBytes ?? 5 * 1024 ** 4,
    presignedDownloads: options.presignedDownloads,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    baseUrl: address,
    app,
    storage,
    destination,
    directory,
    close: async () => {
      await app.close();
      await storage.close();
      if (directory) await rm(directory, { recursive: true, force: true });
    },
  };
}

export const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

/**
 * One request with node:http, the path sent exactly as given (fetch would resolve `..` and
 * re-encode): what traversal tests need. The body may be a buffer, a string or a stream.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  body?: Buffer | string | Readable,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const buffer = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = buffer.length > 0 ? JSON.parse(buffer.toString('utf8')) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: buffer, json });
        });
      },
    );
    request.on('error', reject);
    if (body instanceof Readable) body.pipe(request);
    else request.end(body);
  });
}

/** PUTs a buffer the way the Python client does (raw body, guessed content type, Content-Length). */
export function upload(
  baseUrl: string,
  path: string,
  body: Buffer | string,
  contentType = 'application/octet-stream',
) {
  const buffer = typeof body === 'string' ? Buffer.from(body) : body;
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return rawRequest(baseUrl, 'PUT', `${PROXY}/${encoded}`, buffer, {
    'content-type': contentType,
    'content-length': String(buffer.length),
  });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const BLOCK = 1024 * 1024;

/**
 * `size` deterministic pseudo-random bytes as a stream of 1 MiB chunks, hashed as they are produced:
 * a gigabyte is never in memory. Every chunk differs (its index is stamped in), so a reordered or
 * repeated chunk changes the hash.
 */
export function generatedStream(size: number, seed = 1): { stream: Readable; sha256: Promise<string> } {
  const base = Buffer.allocUnsafe(BLOCK);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    base.writeUInt32LE(state >>> 0, i);
  }
  const hash = createHash('sha256');
  let resolveDigest!: (digest: string) => void;
  const digest = new Promise<string>((resolve) => {
    resolveDigest = resolve;
  });
  let produced = 0;
  let index = 0;
  const stream = new Readable({
    highWaterMark: 4 * BLOCK,
    read() {
      if (produced >= size) {
        resolveDigest(hash.digest('hex'));
        this.push(null);
        return;
      }
      const length = Math.min(BLOCK, size - produced);
      const chunk = Buffer.allocUnsafe(length);
      base.copy(chunk, 0, 0, length);
      if (length >= 8) {
        chunk.writeUInt32LE(index, 0);
        chunk.writeUInt32LE(seed, 4);
      }
      index++;
      produced += length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: digest };
}

/** GETs a URL and hashes the body as it arrives. */
export function downloadHash(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; sha256: string; bytes: number }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, method: 'GET', path, headers, agent: false },
      (response) => {
        const hash = createHash('sha256');
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            sha256: hash.digest('hex'),
            bytes,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}
