import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AuthChallenge, basicAuthorization, parseChallenge, type RegistryCredentials } from './auth.js';
import { OciError, registryError } from './errors.js';
import { MANIFEST_ACCEPT } from './media-types.js';

/** A blob to push: its digest and size, and where its bytes are (in memory or in a file). */
export interface BlobSource {
  digest: string;
  size: number;
  data: Buffer | { path: string };
}

/** How a blob got into the target repository. */
export type BlobOutcome = 'exists' | 'mounted' | 'uploaded';

/** A manifest or index as the registry stores it: the exact bytes, their digest and the parsed JSON. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

export interface RegistryClientOptions {
  /** `host[:port]` of the registry API. */
  registry: string;
  /** Speak plain HTTP (a registry in `insecure-registries`: tests, in-cluster registries). Default false. */
  insecure?: boolean;
  /** For Basic auth and for the Bearer token server; anonymous without. */
  credentials?: RegistryCredentials;
  /**
   * Blobs up to this many bytes go up in one PUT (spec §1.2 monolithic); larger ones as PATCH chunks
   * of this size (at least the registry's `OCI-Chunk-Min-Length`), then a PUT with the digest.
   * Default 64 MiB: above ECR's 5 MiB minimum part, and a chunk is what the client holds in memory.
   */
  chunkSize?: number;
  /** Called after every HTTP exchange with its path and query (counted in tests and the benchmark; the query may hold upload-session state, so never log it). */
  onRequest?: (exchange: { method: string; path: string; status: number }) => void;
}

export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

interface SendOptions {
  /** Token scopes the request needs (`repository:<name>:pull[,push]`), for the Bearer flow. */
  scopes: string[];
  /** Names the request in errors: `GET manifest base:1.0`. */
  what: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel();
}

/**
 * A client of one OCI registry's Distribution API (spec §1.1–1.5) over fetch. Authentication is
 * challenge-driven: a 401 with `Basic` makes every later request carry the credentials; with `Bearer`
 * a token is fetched from the realm for the request's scopes (cached per scope set) and the request is
 * retried once. Every failure is an OciError carrying the registry's error code.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly origin: string;
  private readonly credentials?: RegistryCredentials;
  private readonly chunkSize: number;
  private readonly onRequest?: RegistryClientOptions['onRequest'];
  private challenge?: AuthChallenge;
  private readonly tokens = new Map<string, string>();

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.origin = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.credentials = options.credentials;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.onRequest = options.onRequest;
  }

  /**
   * GET `/v2/` (spec end-1): the registry answers and, after its challenge, accepts our credentials.
   * Throws OciError (`UNAUTHORIZED`, `UNREACHABLE`, …).
   */
  async ping(): Promise<void> {
    const response = await this.send('GET', '/v2/', { scopes: [], what: 'GET /v2/' });
    if (response.status !== 200) throw await this.failure(response, 'GET /v2/');
    await discard(response);
  }

  /**
   * GET a manifest or index with the full `Accept` list (spec §1.4). Checks that the body's
   * `mediaType` (when present) equals the `Content-Type`, and, when `reference` is a digest, that the
   * bytes hash to it. Throws OciError (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`, `DIGEST_MISMATCH`, …).
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `GET manifest ${repository}:${reference}`;
    const response = await this.send('GET', `/v2/${repository}/manifests/${reference}`, {
      scopes: [`repository:${repository}:pull`],
      what,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status !== 200) throw await this.failure(response, what);
    const bytes = Buffer.from(await response.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new OciError(
        'DIGEST_MISMATCH',
        `registry ${this.registry}: ${what} returned bytes hashing to ${digest}`,
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new OciError(
        'MANIFEST_INVALID',
        `registry ${this.registry}: ${what} returned a body that is not JSON`,
      );
    }
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const mediaType = typeof json.mediaType === 'string' ? json.mediaType : contentType;
    if (contentType && mediaType !== contentType) {
      throw new OciError(
        'MANIFEST_INVALID',
        `registry ${this.registry}: ${what} answered Content-Type ${contentType} for a ${mediaType} document`,
      );
    }
    return { mediaType, digest, bytes, json };
  }

  /** HEAD a manifest: its digest (`Docker-Content-Digest`), or undefined when the registry has none. */
  async headManifest(repository: string, reference: string, push = false): Promise<string | undefined> {
    const what = `HEAD manifest ${repository}:${reference}`;
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scopes: [`repository:${repository}:${push ? 'pull,push' : 'pull'}`],
      what,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw await this.failure(response, what);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  /** GET a blob whole (image configs: small JSON); verifies its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const what = `GET blob ${repository}@${digest}`;
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, {
      scopes: [`repository:${repository}:pull`],
      what,
    });
    if (response.status !== 200) throw await this.failure(response, what);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256(bytes) !== digest) {
      throw new OciError('DIGEST_MISMATCH', `registry ${this.registry}: ${what} returned other bytes`);
    }
    return bytes;
  }

  /** Streams a blob into a file and verifies its digest (base layers copied from another registry). */
  async downloadBlob(repository: string, digest: string, path: string): Promise<void> {
    const what = `GET blob ${repository}@${digest}`;
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, {
      scopes: [`repository:${repository}:pull`],
      what,
    });
    if (response.status !== 200 || !response.body) throw await this.failure(response, what);
    const hash = createHash('sha256');
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(path),
    );
    if (`sha256:${hash.digest('hex')}` !== digest) {
      throw new OciError('DIGEST_MISMATCH', `registry ${this.registry}: ${what} returned other bytes`);
    }
  }

  /** HEAD a blob: whether `repository` has it (spec end-2). */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const what = `HEAD blob ${repository}@${digest}`;
    const response = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, {
      scopes: [`repository:${repository}:pull,push`],
      what,
    });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.failure(response, what);
  }

  /** HEAD, then upload when missing (spec §1.2). */
  async pushBlob(repository: string, blob: BlobSource): Promise<BlobOutcome> {
    if (await this.hasBlob(repository, blob.digest)) return 'exists';
    await this.uploadBlob(repository, blob);
    return 'uploaded';
  }

  /**
   * Cross-repository mount (spec §1.3): `mount` and `from` always together (Quay). 201 is done; 202
   * means the registry opened an upload session instead, which is cancelled (DELETE, failures
   * ignored); any error counts as "not mounted" (Harbor answers 401 for a missing source): the caller
   * then uploads the bytes.
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.send('POST', `/v2/${repository}/blobs/uploads/${query}`, {
      scopes: [`repository:${repository}:pull,push`, `repository:${from}:pull`],
      what: `mount blob ${digest} from ${from} into ${repository}`,
      headers: { 'content-length': '0' },
    });
    await discard(response);
    if (response.status === 201) return true;
    if (response.status === 202 && response.headers.get('location')) {
      const location = new URL(response.headers.get('location')!, this.origin);
      if (location.origin === this.origin) await this.cancelUpload(repository, location.href);
    }
    return false;
  }

  /** DELETE an upload session (spec end-14): clients should on abort; failures are ignored. */
  private async cancelUpload(repository: string, location: string): Promise<void> {
    const cancel = await this.send('DELETE', location, {
      scopes: [`repository:${repository}:pull,push`],
      what: 'cancel upload',
    }).catch(() => undefined);
    if (cancel) await discard(cancel);
  }

  /**
   * Uploads a blob without asking first: a monolithic PUT, or PATCH chunks and a closing PUT when the
   * blob is larger than `chunkSize` (spec §1.2). Tolerates 201/202/204 on PATCH (ECR answers 201).
   * A failed upload's session is cancelled before the error is thrown.
   */
  async uploadBlob(repository: string, blob: BlobSource): Promise<void> {
    const push = `repository:${repository}:pull,push`;
    const start = `start upload to ${repository}`;
    const opened = await this.send('POST', `/v2/${repository}/blobs/uploads/`, {
      scopes: [push],
      what: start,
      headers: { 'content-length': '0' },
    });
    if (opened.status !== 202) throw await this.failure(opened, start);
    await discard(opened);
    const minChunk = Number(opened.headers.get('oci-chunk-min-length') ?? 0);
    const session = { location: this.location(opened, start) };
    try {
      await this.sendBlob(repository, blob, minChunk, session);
    } catch (error) {
      await this.cancelUpload(repository, session.location);
      throw error;
    }
  }

  /** The bytes of an open upload session, then its commit; `session.location` follows every `Location`. */
  private async sendBlob(
    repository: string,
    blob: BlobSource,
    minChunk: number,
    session: { location: string },
  ): Promise<void> {
    const push = `repository:${repository}:pull,push`;
    const what = `upload blob ${blob.digest} to ${repository}`;
    if (blob.size <= this.chunkSize) {
      const body = Buffer.isBuffer(blob.data) ? blob.data : await readFile(blob.data.path);
      await this.commitUpload(session.location, blob.digest, body, push, what);
      return;
    }
    const chunk = Math.max(this.chunkSize, minChunk);
    const file = Buffer.isBuffer(blob.data) ? undefined : await open(blob.data.path, 'r');
    try {
      for (let start = 0; start < blob.size; start += chunk) {
        const length = Math.min(chunk, blob.size - start);
        let body: Buffer;
        if (Buffer.isBuffer(blob.data)) body = blob.data.subarray(start, start + length);
        else {
          body = Buffer.allocUnsafe(length);
          const { bytesRead } = await file!.read(body, 0, length, start);
          if (bytesRead !== length)
            throw new OciError('SIZE_INVALID', `${what}: the file ended at ${start + bytesRead}`);
        }
        const response = await this.send('PATCH', session.location, {
          scopes: [push],
          what,
          body,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${start + length - 1}`,
          },
        });
        if (![201, 202, 204].includes(response.status)) throw await this.failure(response, what);
        await discard(response);
        session.location = this.location(response, what);
      }
    } finally {
      await file?.close();
    }
    await this.commitUpload(session.location, blob.digest, undefined, push, what);
  }

  /**
   * PUT a manifest or index under a tag or digest (spec §1.4): `Content-Type` is its media type, the
   * bytes are sent as given. Returns the digest; throws DIGEST_MISMATCH when the registry's
   * `Docker-Content-Digest` disagrees.
   */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<string> {
    const what = `PUT manifest ${repository}:${reference}`;
    const response = await this.send('PUT', `/v2/${repository}/manifests/${reference}`, {
      scopes: [`repository:${repository}:pull,push`],
      what,
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    if (response.status !== 201) throw await this.failure(response, what);
    await discard(response);
    const digest = sha256(bytes);
    const answered = response.headers.get('docker-content-digest');
    if (answered && answered !== digest) {
      throw new OciError(
        'DIGEST_MISMATCH',
        `registry ${this.registry}: ${what} stored ${answered}, expected ${digest}`,
      );
    }
    return digest;
  }

  private async commitUpload(
    location: string,
    digest: string,
    body: Buffer | undefined,
    push: string,
    what: string,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const response = await this.send('PUT', url.href, {
      scopes: [push],
      what,
      body: body ?? Buffer.alloc(0),
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (response.status !== 201) throw await this.failure(response, what);
    await discard(response);
  }

  /**
   * The upload `Location` of a response, absolute. It is used as given (it may carry session query
   * parameters); one on another origin is refused: the registry address is user input and a redirect
   * elsewhere could reach internal hosts (ggcr's SSRF guard, spec §1.2).
   */
  private location(response: Response, what: string): string {
    const header = response.headers.get('location');
    if (!header)
      throw new OciError('BLOB_UPLOAD_INVALID', `registry ${this.registry}: ${what}: no Location header`);
    const url = new URL(header, this.origin);
    if (url.origin !== this.origin) {
      throw new OciError(
        'UNSAFE_LOCATION',
        `registry ${this.registry}: ${what}: refusing an upload location on another origin (${url.origin})`,
      );
    }
    return url.href;
  }

  private async failure(response: Response, what: string): Promise<OciError> {
    const body = response.body ? await response.text() : '';
    return registryError(this.registry, what, response.status, body);
  }

  /** The Authorization header for `scopes` under the challenge seen so far (fetching a token if needed). */
  private async authorization(scopes: string[]): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      return this.credentials ? basicAuthorization(this.credentials) : undefined;
    }
    if (this.challenge.scheme !== 'bearer') return undefined;
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached) return cached;
    const token = `Bearer ${await this.fetchToken(this.challenge, scopes)}`;
    this.tokens.set(key, token);
    return token;
  }

  /**
   * The Bearer token flow (distribution `token.md`, spec §1.5): GET `<realm>?service=…&scope=…` (one
   * `scope` per entry, the push scope first), with Basic credentials when we have them. Accepts `token`
   * or `access_token`. The realm must be https unless the registry itself is plain HTTP.
   */
  private async fetchToken(challenge: AuthChallenge, scopes: string[]): Promise<string> {
    const realm = challenge.params.realm;
    const what = 'fetch a token';
    if (!realm)
      throw new OciError('UNAUTHORIZED', `registry ${this.registry}: Bearer challenge without a realm`);
    const url = new URL(realm);
    if (url.protocol !== 'https:' && !this.origin.startsWith('http:')) {
      throw new OciError(
        'UNAUTHORIZED',
        `registry ${this.registry}: refusing a token realm over plain HTTP (${realm})`,
      );
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = this.credentials
      ? { authorization: basicAuthorization(this.credentials) }
      : {};
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      throw unreachable(url.host, what, error);
    }
    this.onRequest?.({ method: 'GET', path: url.pathname, status: response.status });
    if (response.status !== 200) throw registryError(url.host, what, response.status, await response.text());
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new OciError('UNAUTHORIZED', `token server ${url.host} answered without a token`);
    return token;
  }

  /**
   * One exchange with the registry; on a 401 learns the challenge and retries once with credentials
   * (or a fresh token for the request's scopes). Network failures are OciError `UNREACHABLE` (retryable).
   */
  private async send(method: string, pathOrUrl: string, options: SendOptions): Promise<Response> {
    const url = pathOrUrl.startsWith('/') ? this.origin + pathOrUrl : pathOrUrl;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...options.headers };
      const authorization = await this.authorization(options.scopes);
      if (authorization) headers.authorization = authorization;
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body: options.body });
      } catch (error) {
        throw unreachable(this.registry, options.what, error);
      }
      const { pathname, search } = new URL(url);
      this.onRequest?.({ method, path: pathname + search, status: response.status });
      if (response.status !== 401 || attempt > 0) return response;
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      const canRetry =
        (challenge?.scheme === 'basic' && this.credentials !== undefined) || challenge?.scheme === 'bearer';
      if (!canRetry) return response;
      await discard(response);
      if (challenge.scheme === 'bearer' && challenge.params.scope) {
        // The registry names the scope it wants (spec §1.5 step 5): ask for ours plus that one.
        if (!options.scopes.includes(challenge.params.scope)) options.scopes.push(challenge.params.scope);
      }
      this.challenge = challenge;
      this.tokens.delete(options.scopes.join(' '));
    }
  }
}

function unreachable(host: string, what: string, error: unknown): OciError {
  const cause =
    error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new OciError('UNREACHABLE', `registry ${host}: ${what} failed: ${cause}`, {
    retryable: true,
    cause: error,
  });
}
