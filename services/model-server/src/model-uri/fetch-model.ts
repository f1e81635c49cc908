import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'yaml';
import { locateModel, type ModelLocation, ModelUriError, PROXY_ROUTE } from './location.js';
import {
  credentialsHeader,
  type TrackingConnection,
  type TrackingCredentials,
  TrackingServer,
  tlsDispatcher,
  withoutUserinfo,
} from './tracking-server.js';

/** A model directory on this machine, ready for `loadModel`. */
export interface FetchedModel {
  /** The directory holding `MLmodel`. */
  dir: string;
  /** Where the files came from, for the log (`models:/churn@champion -> runs:/…/model`). */
  source: string;
  /** The registry version the URI named (`models:/<name>…` forms). */
  registeredVersion?: { name: string; version: string };
  /** Files and bytes downloaded; 0 for a local directory, which is used in place. */
  files: number;
  bytes: number;
  /**
   * Removes the downloaded copy; a no-op for a local directory. Until then the copy is also removed
   * when the process exits (a forced exit skips asynchronous cleanup).
   */
  remove(): Promise<void>;
}

/**
 * Storage this process reads itself (an `s3://` prefix), shaped as the artifact service's
 * `ArtifactStore` so that the composition root can hand one over (`ArtifactStorage.open`).
 */
export interface ModelStore {
  /** The entries directly under `path` ('' is the root); empty when it is no directory. */
  list(path: string): Promise<Array<{ name: string; isDir: boolean; size?: number }>>;
  /** The file at `path`, or undefined. */
  open(path: string): Promise<{ read(): Promise<Readable>; close(): Promise<void> } | undefined>;
}

export interface FetchModelOptions {
  /**
   * The tracking server for remote URIs (MLFLOW_TRACKING_URI / `--tracking-uri`), http(s); userinfo in
   * it (`http://user:password@host`) is sent as HTTP basic auth, never printed.
   */
  trackingUri?: string;
  /**
   * MLflow's `MLFLOW_TRACKING_USERNAME`/`_PASSWORD`/`_TOKEN`, sent to the servers the model is fetched
   * from, and its TLS settings (`MLFLOW_TRACKING_INSECURE_TLS`, `_SERVER_CERT_PATH`, `_CLIENT_CERT_PATH`;
   * `tlsDispatcher`), used for every call and download, redirects included.
   */
  credentials?: TrackingCredentials;
  /** Where relative paths resolve (default the process's working directory). */
  cwd?: string;
  /** Parent of the download directory (default the OS temp directory). */
  downloadRoot?: string;
  /** Files downloaded at once (default 8). */
  concurrency?: number;
  /** Stops fetching (a shutdown): what was downloaded is removed, and fetchModel rejects. */
  signal?: AbortSignal;
  /** Opens an `s3://…` prefix as a store; without it, `s3://` URIs are refused. */
  openStore?: (uri: string) => Promise<{ store: ModelStore; close(): Promise<void> }>;
}

/** One file to download: its path inside the model directory and how to save it to a local file. */
interface RemoteFile {
  path: string;
  size: number;
  save(target: string): Promise<void>;
}

/** A directory entry's own name, refused when it could escape the download directory. */
function entryName(raw: string, listing: string): string {
  const name = raw.split('/').pop() ?? '';
  if (name === '' || name === '.' || name === '..' || name.includes('\\') || name.includes('\0')) {
    throw new ModelUriError(`The listing of ${listing} has an unsafe entry '${raw}'.`);
  }
  return name;
}

/** Every file under a remote model directory, depth first, as `(relative dir) -> entries` lists it. */
async function listTree(
  list: (dir: string) => Promise<Array<{ name: string; isDir: boolean; size: number }>>,
  save: (path: string, target: string) => Promise<void>,
): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await list(dir)) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDir) await visit(path);
      else files.push({ path, size: entry.size, save: (target) => save(path, target) });
    }
  };
  await visit('');
  return files;
}

function joinPath(root: string, path: string): string {
  return root === '' ? path : path === '' ? root : `${root}/${path}`;
}

/**
 * The files of a run-relative model directory (tracking's `artifacts/list`, downloaded from
 * `/get-artifact`) or a proxied one (the proxy's listing and downloads).
 */
function remoteFiles(
  server: TrackingServer,
  location: Extract<ModelLocation, { kind: 'run' | 'proxied' }>,
): Promise<RemoteFile[]> {
  const run = location.kind === 'run' ? location : undefined;
  const listing = run ? `runs:/${run.runId}/${run.path}` : `mlflow-artifacts:/${location.path}`;
  const list = (path: string) => (run ? server.listRunArtifacts(run.runId, path) : server.listProxied(path));
  const url = (path: string) => (run ? server.runArtifactUrl(run.runId, path) : server.proxiedUrl(path));
  return listTree(
    async (dir) =>
      (await list(joinPath(location.path, dir))).map((file) => ({
        name: entryName(file.path, listing),
        isDir: file.is_dir === true,
        size: file.file_size ?? 0,
      })),
    (file, target) => server.download(url(joinPath(location.path, file)), target, file),
  );
}

/** The files under an `s3://` prefix, read through `store`; storage errors become one line. */
function storeFiles(store: ModelStore, uri: string): Promise<RemoteFile[]> {
  const failed = (error: unknown) =>
    new ModelUriError(`Cannot read ${uri}: ${((error as Error).message ?? String(error)).split('\n')[0]}`);
  return listTree(
    async (dir) => {
      try {
        return (await store.list(dir)).map((entry) => ({
          name: entryName(entry.name, uri),
          isDir: entry.isDir,
          size: entry.size ?? 0,
        }));
      } catch (error) {
        throw failed(error);
      }
    },
    async (file, target) => {
      try {
        const opened = await store.open(file);
        if (opened === undefined) throw new Error(`${file} vanished while it was downloaded`);
        await pipeline(await opened.read(), createWriteStream(target));
      } catch (error) {
        throw error instanceof ModelUriError ? error : failed(error);
      }
    },
  );
}

function describe(location: ModelLocation): string {
  switch (location.kind) {
    case 'run':
      return `runs:/${location.runId}/${location.path}`;
    case 'proxied':
      return `${location.server}${PROXY_ROUTE}/${location.path}`;
    case 'local':
      return location.path;
    case 'registry':
    case 's3':
      return location.uri;
  }
}

/**
 * Where a registry version's or logged model's `artifact_uri` is reachable from here. A direct
 * storage URI (`s3://…`, a server-side path) under the version's run's artifact root is read through
 * the artifact service's run routes, as `runs:/<run_id>/<rest>`, so no storage credentials are needed;
 * another `s3://` URI is read from S3, a local path only if it exists here.
 */
async function locateResolved(
  uri: string,
  artifactUri: string,
  server: TrackingServer,
  runId: string | undefined,
  cwd: string,
): Promise<Exclude<ModelLocation, { kind: 'registry' }>> {
  let direct: ModelLocation | undefined;
  try {
    direct = locateModel(artifactUri, server.url, cwd);
  } catch (error) {
    if (!(error instanceof ModelUriError) || runId === undefined) throw error;
  }
  if (direct?.kind === 'run' || direct?.kind === 'proxied') return direct;
  if (direct?.kind === 'local' && existsSync(direct.path)) return direct;
  if (runId !== undefined) {
    const root = (await server.runArtifactUri(runId)).replace(/\/+$/, '');
    if (artifactUri === root || artifactUri.startsWith(`${root}/`)) {
      return { kind: 'run', runId, path: artifactUri.slice(root.length + 1), server: server.url };
    }
  }
  if (direct?.kind === 's3') return direct;
  throw new ModelUriError(
    `${uri} resolves to ${artifactUri}, which is neither on this machine nor under its run's artifacts on ${server.url}.`,
  );
}

/** Downloads `files` into `dir`, `concurrency` at a time; the first failure (or `signal`) stops the rest. */
async function downloadAll(
  files: RemoteFile[],
  dir: string,
  concurrency: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      if (signal?.aborted) throw new ModelUriError('Stopped while downloading the model.');
      const file = files[next++]!;
      const target = join(dir, ...file.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await file.save(target);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

/**
 * Makes the model named by `uri` (any form `locateModel` accepts) a local directory: a local path is
 * used in place; `models:/…` is resolved by the registry, then its files (like `runs:/…` and
 * `mlflow-artifacts:/…`) are listed and downloaded through the artifact service's REST routes into a
 * fresh directory under `downloadRoot`, with MLflow's `registered_model_meta` (`model_name`,
 * `model_version`) for registry versions (spec mlflow-registry-models §4.1). `s3://` prefixes are read
 * through `openStore`. Errors are one-line ModelUriErrors: an unknown model/version/alias/run (the
 * server's message), an unreachable server or store, a failed TLS handshake or an unreadable TLS file
 * (`tlsDispatcher`), a directory without `MLmodel`.
 */
export async function fetchModel(modelUri: string, options: FetchModelOptions = {}): Promise<FetchedModel> {
  const cwd = options.cwd ?? process.cwd();
  // Credentials in a URI become the Authorization header, and leave the URIs messages print: those of
  // an artifact proxy URL (`https://user:pw@host/api/2.0/mlflow-artifacts/…`) first, as requests does.
  const model = withoutUserinfo(modelUri);
  const tracking = options.trackingUri === undefined ? undefined : withoutUserinfo(options.trackingUri);
  const authorization =
    model.authorization ?? tracking?.authorization ?? credentialsHeader(options.credentials ?? {});
  const location = locateModel(model.uri, tracking?.uri, cwd);
  // Only a tracking server's URIs read the TLS settings, as MLflow builds its host creds only for them.
  const remote = location.kind !== 'local' && location.kind !== 's3';
  const dispatcher = remote ? await tlsDispatcher(options.credentials ?? {}) : undefined;
  try {
    return await fetchLocated(model.uri, location, cwd, options, {
      authorization,
      dispatcher,
      signal: options.signal,
    });
  } finally {
    // Every transfer is over (or failed): no connection of this fetch is kept open.
    await dispatcher?.destroy();
  }
}

/** `fetchModel` once the URI is located; `connection` is how its tracking servers are reached. */
async function fetchLocated(
  uri: string,
  location: ModelLocation,
  cwd: string,
  options: FetchModelOptions,
  connection: TrackingConnection,
): Promise<FetchedModel> {
  const connect = (server: string) => new TrackingServer(server, connection);
  let target: Exclude<ModelLocation, { kind: 'registry' }>;
  let registeredVersion: FetchedModel['registeredVersion'];
  if (location.kind === 'registry') {
    const server = connect(location.server);
    const resolved = await server.resolveModel(uri);
    if (resolved.artifact_uri === undefined || resolved.artifact_uri === '') {
      throw new ModelUriError(`${uri} has no artifact location on ${server.url}.`);
    }
    const version = resolved.model_version;
    if (version !== undefined) registeredVersion = { name: version.name, version: String(version.version) };
    target = await locateResolved(uri, resolved.artifact_uri, server, version?.run_id || undefined, cwd);
  } else {
    target = location;
  }
  if (target.kind === 'local') return localModel(uri, target.path);
  const source = target === location ? uri : `${uri} -> ${describe(target)}`;
  if (target.kind !== 's3') {
    const files = await remoteFiles(connect(target.server), target);
    return download(source, files, registeredVersion, options);
  }
  if (options.openStore === undefined) {
    throw new ModelUriError(`Cannot read ${source}: this process has no S3 settings to read it with.`);
  }
  const opened = await options.openStore(target.uri);
  try {
    return await download(source, await storeFiles(opened.store, target.uri), registeredVersion, options);
  } finally {
    await opened.close();
  }
}

/** Downloads a model's files into a fresh directory under `downloadRoot` (removed again on failure). */
async function download(
  source: string,
  files: RemoteFile[],
  registeredVersion: FetchedModel['registeredVersion'],
  options: FetchModelOptions,
): Promise<FetchedModel> {
  if (files.length === 0) throw new ModelUriError(`No model at ${source}: there are no files there.`);
  if (!files.some((file) => file.path === 'MLmodel')) {
    throw new ModelUriError(`${source} is not an MLflow model: it has no MLmodel file at its top.`);
  }
  const dir = await mkdtemp(join(options.downloadRoot ?? tmpdir(), 'mast-model-'));
  // A second signal exits at once (runProcess), before any asynchronous cleanup could run: the copy
  // is then removed synchronously as the process exits.
  const removeAtExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeAtExit);
  // The exit hook stays until the copy is gone: a second signal may land while `rm` runs.
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    process.removeListener('exit', removeAtExit);
  };
  try {
    await downloadAll(files, dir, options.concurrency ?? 8, options.signal);
    if (registeredVersion !== undefined) {
      await writeFile(
        join(dir, 'registered_model_meta'),
        stringify(
          { model_name: registeredVersion.name, model_version: registeredVersion.version },
          { singleQuote: true },
        ),
      );
    }
  } catch (error) {
    await remove();
    throw error;
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  return { dir, source, registeredVersion, files: files.length, bytes, remove };
}

function localModel(uri: string, path: string): FetchedModel {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (!isDir)
    throw new ModelUriError(`No model directory at ${path}${path === uri ? '' : ` (from ${uri})`}.`);
  if (!existsSync(join(path, 'MLmodel'))) {
    throw new ModelUriError(`${path} is not an MLflow model: it has no MLmodel file.`);
  }
  return { dir: path, source: path, files: 0, bytes: 0, remove: async () => {} };
}
