import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';
// undici's own fetch, not Node's global one: only it takes an Agent of this undici version (TLS options).
import { Agent, type Dispatcher, fetch, type Response } from 'undici';
import { ModelUriError } from './location.js';

/** One entry of an artifact listing: `path` as the server gives it, `file_size` in bytes for files. */
export interface ArtifactFile {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

/** The registry's answer to `GET …/mast/models/resolve` (`ResolveModelUri_Response`). */
export interface ResolvedModel {
  artifact_uri?: string;
  model_id?: string;
  model_version?: { name: string; version: string; run_id?: string };
}

/**
 * How requests to the tracking server authenticate, as MLflow's client reads it
 * (`_get_default_host_creds` in `mlflow/tracking/_tracking_service/utils.py`, its `MlflowHostCreds`):
 * `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`, or `MLFLOW_TRACKING_TOKEN`; and the TLS
 * settings `tlsDispatcher` applies.
 */
export interface TrackingCredentials {
  username?: string;
  password?: string;
  token?: string;
  /** `MLFLOW_TRACKING_INSECURE_TLS`: the server's certificate is not verified. */
  ignoreTlsVerification?: boolean;
  /**
   * `MLFLOW_TRACKING_SERVER_CERT_PATH`: a PEM CA bundle, or a directory of CA certificates, the server
   * is verified with (requests' `verify`).
   */
  serverCertPath?: string;
  /** `MLFLOW_TRACKING_CLIENT_CERT_PATH`: one PEM file with the client certificate and its key (requests' `cert`). */
  clientCertPath?: string;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/**
 * The `Authorization` header MLflow's client builds from its variables (`http_request` in
 * `mlflow/utils/rest_utils.py`): Basic when both username and password are set, else Bearer.
 * Userinfo in the URI wins over it (`withoutUserinfo`).
 */
export function credentialsHeader({ username, password, token }: TrackingCredentials): string | undefined {
  if (username && password) return basic(username, password);
  return token ? `Bearer ${token}` : undefined;
}

/**
 * An http(s) URI without its userinfo (`http://admin:pw@host` -> `http://host`; fetch refuses URLs
 * holding credentials), and the Basic `Authorization` header they make: requests' `prepare_auth`
 * sets it from the URL's userinfo (percent-decoded) over the header MLflow built. Another URI, or one
 * without userinfo, is returned as it is.
 */
export function withoutUserinfo(uri: string): { uri: string; authorization?: string } {
  let url: URL | undefined;
  try {
    url = /^https?:\/\//i.test(uri) ? new URL(uri) : undefined;
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.username !== '' || url.password !== '')) {
    const decode = (text: string) => {
      try {
        return decodeURIComponent(text);
      } catch {
        return text;
      }
    };
    const authorization = basic(decode(url.username), decode(url.password));
    url.username = '';
    url.password = '';
    // URL adds a `/` to a bare origin; the rest of the URI is kept as given.
    const path = /^[a-z]+:\/\/[^/?#]*([/?#].*)?$/i.exec(uri)?.[1] ?? '';
    return { uri: `${url.origin}${path}`, authorization };
  }
  return { uri };
}

/** The reason in a file-system error's message (`ENOENT: no such file or directory, open '…'`). */
function fsReason(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message.split('\n')[0]!;
}

/** A setting's file, read whole; a ModelUriError naming the variable and the path when it cannot be. */
async function readSetting(variable: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ModelUriError(`Cannot read ${variable} ${path}: ${fsReason(error)}.`);
  }
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * The CA certificates of `MLFLOW_TRACKING_SERVER_CERT_PATH`, as requests reads its `verify=<path>`
 * (`HTTPAdapter.cert_verify`): a file is a PEM bundle (OpenSSL's `cafile`); a directory
 * (OpenSSL's `capath`) gives every regular file in it that holds a PEM certificate, under c_rehash's
 * hash names (`abcd1234.0`, often links) or any other (`*.pem`, `*.crt`). Subdirectories, other
 * files and files that cannot be read are skipped: OpenSSL's `capath` look-up finds no CA in them either.
 * A path that cannot be read, a file without a certificate or a directory without one is a
 * ModelUriError line naming the variable and the path (Node ignores what is no certificate in `ca`:
 * such a setting would verify nothing).
 */
async function serverCertificates(path: string): Promise<Buffer[]> {
  const variable = 'MLFLOW_TRACKING_SERVER_CERT_PATH';
  // A path that is missing or cannot be examined is left to readSetting, which says why.
  const directory = await stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!directory) {
    const bundle = await readSetting(variable, path);
    if (!bundle.includes(PEM_CERTIFICATE)) {
      throw new ModelUriError(`${variable} ${path} holds no PEM certificate (${PEM_CERTIFICATE}).`);
    }
    return [bundle];
  }
  let names: string[];
  try {
    names = (await readdir(path)).sort();
  } catch (error) {
    throw new ModelUriError(`Cannot read ${variable} ${path}: ${fsReason(error)}.`);
  }
  const certificates = await Promise.all(
    names.map(async (name) => {
      const file = join(path, name);
      try {
        // Only regular files (links followed): reading a FIFO or a device could block for ever.
        if (!(await stat(file)).isFile()) return undefined;
        const content = await readFile(file);
        return content.includes(PEM_CERTIFICATE) ? content : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  const found = certificates.filter((content) => content !== undefined);
  if (found.length === 0) {
    throw new ModelUriError(
      `${variable} ${path} is a directory without a file holding a PEM certificate (${PEM_CERTIFICATE}).`,
    );
  }
  return found;
}

/**
 * The TLS settings MLflow's `http_request` (`mlflow/utils/rest_utils.py`) gives requests, as an undici
 * Agent that every call and download uses (a redirect to another host, such as a presigned URL, too):
 * `verify=False` for `ignoreTlsVerification`; `verify=<serverCertPath>`, whose PEM bundle or directory
 * of CA certificates (`serverCertificates`) replaces the system's CAs; `cert=<clientCertPath>`, one PEM
 * file holding the certificate and its private key. Undefined when none is set (the system's CAs verify
 * the server). As `MlflowHostCreds` does, it refuses `ignoreTlsVerification` together with
 * `serverCertPath`. A path that cannot be read, or holds no PEM of its kind, is one ModelUriError line
 * naming its variable and path (never its contents).
 */
export async function tlsDispatcher(credentials: TrackingCredentials): Promise<Agent | undefined> {
  const { ignoreTlsVerification = false, serverCertPath, clientCertPath } = credentials;
  if (ignoreTlsVerification && serverCertPath !== undefined) {
    // MLflow's message (`MlflowHostCreds.__init__`), word for word.
    throw new ModelUriError(
      "When 'ignore_tls_verification' is true then 'server_cert_path' must not be set! This error may have occurred because the 'MLFLOW_TRACKING_INSECURE_TLS' and 'MLFLOW_TRACKING_SERVER_CERT_PATH' environment variables are both set - only one of these environment variables may be set.",
    );
  }
  if (!ignoreTlsVerification && serverCertPath === undefined && clientCertPath === undefined)
    return undefined;
  const ca = serverCertPath === undefined ? undefined : await serverCertificates(serverCertPath);
  const client =
    clientCertPath === undefined
      ? undefined
      : await readSetting('MLFLOW_TRACKING_CLIENT_CERT_PATH', clientCertPath);
  if (client !== undefined) {
    try {
      createSecureContext({ cert: client, key: client });
    } catch (error) {
      throw new ModelUriError(
        `MLFLOW_TRACKING_CLIENT_CERT_PATH ${clientCertPath} is not one PEM file holding a certificate and its private key (${(error as Error).message.split('\n')[0]}).`,
      );
    }
  }
  return new Agent({
    connect: { rejectUnauthorized: !ignoreTlsVerification, ca, cert: client, key: client },
  });
}

/**
 * Answers worth asking again, and how long to wait before each new try: MLflow's client retries the
 * same statuses (`_TRANSIENT_FAILURE_RESPONSE_CODES`) and refused connections, with backoff.
 */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_DELAYS_MS = [250, 1000, 3000];

/** A network failure's cause as undici nests it: a system code (`ECONNREFUSED`), else undici's words. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  // undici's own codes (`UND_ERR_SOCKET`) say less than its message (`other side closed`).
  if (cause?.code?.startsWith('UND_ERR_') && cause.message) return cause.message;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * A failed TLS handshake, which asking again cannot mend: the server's certificate failed verification
 * (OpenSSL's `X509_V_ERR_*` names as Node gives them, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `CERT_HAS_EXPIRED`, …, or `ERR_TLS_CERT_ALTNAME_INVALID`), or OpenSSL refused the connection
 * (`ERR_SSL_…`, e.g. an alert from a server that wants a client certificate under TLS 1.2).
 */
function tlsFailure(error: unknown, server: string): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: string } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (code.startsWith('ERR_SSL_')) return `the TLS handshake with ${server} failed (${code})`;
  if (!/CERT|^UNABLE_TO_|^INVALID_(CA|PURPOSE)$|^PATH_LENGTH_EXCEEDED$|^HOSTNAME_MISMATCH$/.test(code)) {
    return undefined;
  }
  return (
    `the TLS certificate of ${server} is not trusted (${code}: ${(cause?.message ?? '').split('\n')[0]}); ` +
    'set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true not to verify it'
  );
}

/**
 * A TLS connection the server closed before sending one byte of an answer: undici's SocketError
 * (`other side closed`), which it raises only on a connection whose handshake is done, with
 * `socket.bytesRead` (the decrypted bytes) 0. Under TLS 1.3 that is how a server refusing the client's
 * certificate, or wanting one that was not sent, shows: the client's side of the handshake is over
 * before the server checks the certificate, and Node's and OpenSSL's servers then close without an
 * alert the client reads (under TLS 1.2 the handshake fails, `tlsFailure`). A reused connection the
 * server closed (bytes were read on it) and plain HTTP are not this.
 */
function closedTlsConnection(error: unknown, server: string): string | undefined {
  const cause = (error as { cause?: { code?: unknown; socket?: { bytesRead?: unknown } } }).cause;
  if (!/^https:/i.test(server) || cause?.code !== 'UND_ERR_SOCKET' || cause.socket?.bytesRead !== 0) {
    return undefined;
  }
  return (
    `the tracking server at ${server} closed the TLS connection right after the handshake, without answering: ` +
    'it probably refuses the client certificate or requires one; set MLFLOW_TRACKING_CLIENT_CERT_PATH to a PEM file holding a certificate it trusts and its private key'
  );
}

/** How every call and download to a tracking server goes. */
export interface TrackingConnection {
  /** The `Authorization` header every call and download sends (`withoutUserinfo`, `credentialsHeader`). */
  authorization?: string;
  /** Connects them, redirects included (`tlsDispatcher`); default undici's global dispatcher. */
  dispatcher?: Dispatcher;
  /** Stops every call and transfer (a shutdown while the model downloads). */
  signal?: AbortSignal;
}

/**
 * The REST calls `mast models serve` makes to a tracking server (Mast, or MLflow for the MLflow-standard
 * routes), each tried again on a transient failure. Every failure is one ModelUriError line: the
 * server's MLflow error message (`{"error_code","message"}`), a failed TLS handshake (not tried
 * again), a TLS connection closed before any answer (`closedTlsConnection`; tried again, as the cause
 * is a guess), or "unreachable" naming the server and the cause.
 */
export class TrackingServer {
  private readonly signal?: AbortSignal;

  constructor(
    /** Base URL, no trailing slash and no userinfo (`http://127.0.0.1:5000`): it is printed in messages. */
    readonly url: string,
    private readonly connection: TrackingConnection = {},
    /** How long one JSON call may take (ms). */
    private readonly timeoutMs = 30_000,
  ) {
    this.signal = connection.signal;
  }

  /** The one line a stopped call fails with. */
  private stopped(what: string): ModelUriError {
    return new ModelUriError(`Stopped while trying to ${what}.`);
  }

  /** GETs `url`, trying again on transient answers and connection failures (RETRY_DELAYS_MS). */
  private async fetch(url: string, what: string, timeoutMs?: number): Promise<Response> {
    const signals = [
      ...(this.signal ? [this.signal] : []),
      ...(timeoutMs === undefined ? [] : [AbortSignal.timeout(timeoutMs)]),
    ];
    for (let attempt = 0; ; attempt++) {
      const last = attempt === RETRY_DELAYS_MS.length;
      try {
        const { authorization, dispatcher } = this.connection;
        const response = await fetch(url, {
          headers: {
            accept: 'application/json',
            ...(authorization === undefined ? {} : { authorization }),
          },
          signal: signals.length === 0 ? undefined : AbortSignal.any(signals),
          dispatcher,
        });
        if (last || !TRANSIENT_STATUSES.has(response.status)) return response;
        await response.body?.cancel();
      } catch (error) {
        if (this.signal?.aborted) throw this.stopped(what);
        const tls = tlsFailure(error, this.url);
        if (tls !== undefined) throw new ModelUriError(`Cannot ${what}: ${tls}.`);
        if (last) {
          const cause =
            closedTlsConnection(error, this.url) ??
            `the tracking server at ${this.url} is unreachable (${causeOf(error)})`;
          throw new ModelUriError(`Cannot ${what}: ${cause}.`);
        }
      }
      await sleep(RETRY_DELAYS_MS[attempt], undefined, { signal: this.signal }).catch(() => {
        throw this.stopped(what);
      });
    }
  }

  /**
   * An error answer as one line: MLflow's `message` when the body has one; a 404 without one means the
   * server has no such route (MLflow answers unknown RPCs so), said with `missingRoute` when given.
   */
  private async failure(response: Response, what: string, missingRoute?: string): Promise<ModelUriError> {
    const text = await response.text().catch(() => '');
    let message: string | undefined;
    try {
      message = (JSON.parse(text) as { message?: string }).message;
    } catch {
      // not JSON: the status says it
    }
    if (message === undefined && response.status === 404 && missingRoute !== undefined) {
      return new ModelUriError(`Cannot ${what}: ${this.url} ${missingRoute}`);
    }
    const detail =
      message ?? `HTTP ${response.status}${text.trim() === '' ? '' : `: ${text.trim().slice(0, 200)}`}`;
    return new ModelUriError(`Cannot ${what}: ${detail.split('\n')[0]}`);
  }

  private async json<T>(
    path: string,
    query: Record<string, string>,
    what: string,
    missingRoute?: string,
  ): Promise<T> {
    const response = await this.fetch(
      `${this.url}${path}?${new URLSearchParams(query)}`,
      what,
      this.timeoutMs,
    );
    if (!response.ok) throw await this.failure(response, what, missingRoute);
    try {
      return (await response.json()) as T;
    } catch {
      throw new ModelUriError(`Cannot ${what}: ${this.url} answered something other than JSON.`);
    }
  }

  /** Mast's `GET /api/2.0/mast/models/resolve?uri=`: every `models:/` form, resolved server-side. */
  resolveModel(uri: string): Promise<ResolvedModel> {
    return this.json(
      '/api/2.0/mast/models/resolve',
      { uri },
      `resolve ${uri}`,
      "has no Mast registry (/api/2.0/mast/models/resolve); serve a plain MLflow server's model by its runs:/ or mlflow-artifacts:/ URI.",
    );
  }

  /** The run's `artifact_uri` (`GET /api/2.0/mlflow/runs/get`). */
  async runArtifactUri(runId: string): Promise<string> {
    const answer = await this.json<{ run: { info: { artifact_uri: string } } }>(
      '/api/2.0/mlflow/runs/get',
      { run_id: runId },
      `get run '${runId}'`,
    );
    return answer.run.info.artifact_uri;
  }

  /** `GET /api/2.0/mlflow/artifacts/list`: entries under `path`, their paths relative to the run root. */
  async listRunArtifacts(runId: string, path: string): Promise<ArtifactFile[]> {
    const answer = await this.json<{ files?: ArtifactFile[] }>(
      '/api/2.0/mlflow/artifacts/list',
      { run_id: runId, path },
      `list the artifacts of run '${runId}' under '${path}'`,
    );
    return answer.files ?? [];
  }

  /** `/get-artifact?run_id=&path=`: where one of a run's files is downloaded. */
  runArtifactUrl(runId: string, path: string): string {
    return `${this.url}/get-artifact?${new URLSearchParams({ run_id: runId, path })}`;
  }

  /** The proxy's `GET …/mlflow-artifacts/artifacts?path=`: entries under `path`, by bare name. */
  async listProxied(path: string): Promise<ArtifactFile[]> {
    const answer = await this.json<{ files?: ArtifactFile[] }>(
      '/api/2.0/mlflow-artifacts/artifacts',
      { path },
      `list mlflow-artifacts:/${path}`,
    );
    return answer.files ?? [];
  }

  /** Where the proxy serves the file at `path`. */
  proxiedUrl(path: string): string {
    return `${this.url}/api/2.0/mlflow-artifacts/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** Streams the file at `url` to `destination` (never buffered whole); redirects are followed. */
  async download(url: string, destination: string, what: string): Promise<void> {
    const response = await this.fetch(url, `download ${what}`);
    if (!response.ok || response.body === null) throw await this.failure(response, `download ${what}`);
    try {
      await pipeline(
        Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
        createWriteStream(destination),
      );
    } catch (error) {
      if (this.signal?.aborted) throw this.stopped(`download ${what}`);
      throw new ModelUriError(`Cannot download ${what}: the transfer failed (${causeOf(error)}).`);
    }
  }
}
