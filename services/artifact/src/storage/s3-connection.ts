import http from 'node:http';
import https from 'node:https';
import { Client, type ClientOptions } from 'minio';
import { BackendTimeoutError, errorCode } from './errors.js';

/** How to reach one S3-compatible service (AWS S3, MinIO, Ceph, …). */
export interface S3ConnectionOptions {
  /** `http(s)://host:port` of an S3-compatible service; unset for AWS S3. */
  endpointUrl?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region: string;
  /** Default: path style with a custom endpoint, virtual-host style on AWS. */
  pathStyle?: boolean;
  /** A request fails (503) when its connection stays silent this long. */
  timeoutMs: number;
}

type Transport = NonNullable<ClientOptions['transport']>;

const PART_RETRIES = 2;

/** An S3 error answer, shaped as the `minio` client's errors are (`code`, `message`). */
export class S3ResponseError extends Error {
  override name = 'S3Error';
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

function parseEndpoint(endpointUrl: string | undefined): {
  endPoint: string;
  port?: number;
  useSSL: boolean;
} {
  if (endpointUrl === undefined) return { endPoint: 's3.amazonaws.com', useSSL: true };
  const url = new URL(endpointUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`S3 endpoint must be an http(s) URL, got '${endpointUrl}'`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new Error(`S3 endpoint must not have a path, got '${endpointUrl}'`);
  }
  const useSSL = url.protocol === 'https:';
  return {
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port),
    useSSL,
  };
}

/**
 * The `minio` client for one S3 service, plus the part of the data path Mast drives itself: bodies go
 * to presigned URLs (UNSIGNED-PAYLOAD), so nothing is hashed or buffered beyond one part. Every
 * connection, the client's included, fails with a BackendTimeoutError after `timeoutMs` of silence.
 */
export class S3Connection {
  readonly client: Client;
  readonly endpointDescription: string;
  private readonly agent: http.Agent;
  private readonly requestFn: typeof http.request;
  private readonly timeoutMs: number;

  constructor(options: S3ConnectionOptions) {
    const endpoint = parseEndpoint(options.endpointUrl);
    this.timeoutMs = options.timeoutMs;
    const module = endpoint.useSSL ? https : http;
    this.requestFn = module.request as typeof http.request;
    this.agent = new module.Agent({ keepAlive: true, maxSockets: 256 });
    this.endpointDescription = options.endpointUrl ?? 'AWS S3';
    const timeoutMs = options.timeoutMs;
    const requestFn = this.requestFn;
    const transport = {
      request: (requestOptions: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
        const request = requestFn({ ...requestOptions, timeout: timeoutMs }, callback);
        request.on('timeout', () => request.destroy(new BackendTimeoutError(timeoutMs)));
        return request;
      },
    } as unknown as Transport;
    this.client = new Client({
      ...endpoint,
      accessKey: options.accessKeyId,
      secretKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
      region: options.region,
      pathStyle: options.pathStyle ?? options.endpointUrl !== undefined,
      transport,
      transportAgent: this.agent,
      // A retry of a 5xx is minio's own; a down backend must answer fast rather than after backoffs.
      retryOptions: { disableRetry: true },
    });
  }

  /** PUTs one buffer to a presigned URL and returns the ETag; transient failures are retried. */
  async putToUrl(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.putOnce(url, body, headers);
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        const transient = status === undefined ? errorCode(error) !== 'MAST_BACKEND_TIMEOUT' : status >= 500;
        if (!transient || attempt >= PART_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** attempt));
      }
    }
  }

  private putOnce(url: string, body: Buffer, headers: Record<string, string>): Promise<string> {
    const { request, etag } = this.startPut(url, body.length, headers);
    request.end(body);
    return etag;
  }

  /**
   * Opens a PUT of `length` bytes to a presigned URL; the caller writes the body into `request` (minding
   * backpressure) and ends it. `etag` settles with the answer, or with the request's failure.
   */
  startPut(
    url: string,
    length: number,
    headers: Record<string, string> = {},
  ): { request: http.ClientRequest; etag: Promise<string> } {
    const request = this.requestFn(url, {
      method: 'PUT',
      agent: this.agent,
      timeout: this.timeoutMs,
      headers: { ...headers, 'content-length': String(length) },
    });
    request.on('timeout', () => request.destroy(new BackendTimeoutError(this.timeoutMs)));
    const etag = new Promise<string>((resolve, reject) => {
      request.on('error', reject);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          // Error documents are small; a success body is drained without keeping it.
          if ((response.statusCode ?? 500) >= 300) chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 500;
          if (status >= 200 && status < 300) {
            resolve(String(response.headers.etag ?? '').replace(/"/g, ''));
            return;
          }
          const xml = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? `HTTP${status}`;
          const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? `S3 answered HTTP ${status}`;
          reject(new S3ResponseError(code, message, status));
        });
      });
    });
    // Settled by whoever awaits it; a failure must not also surface as an unhandled rejection.
    etag.catch(() => undefined);
    return { request, etag };
  }

  close(): void {
    this.agent.destroy();
  }
}
