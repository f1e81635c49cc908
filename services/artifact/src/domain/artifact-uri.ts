import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlflowError, redactSecrets } from '@mast/common';
import { fullyDecode } from './artifact-path.js';

/** Where an artifact URI points, as the artifact service can reach it. */
export type ArtifactLocation =
  /** Behind the proxy (`mlflow-artifacts:/…`, `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`). */
  | { kind: 'proxied'; path: string }
  /** A local directory: an absolute, normalized path. */
  | { kind: 'local'; path: string }
  /** An S3 bucket and a key prefix (no leading or trailing slash; empty for the bucket root). */
  | { kind: 's3'; bucket: string; key: string }
  /** A store Mast cannot reach (`gs://`, `wasbs://`, `hdfs://`, `dbfs:/`, …). */
  | { kind: 'unsupported'; scheme: string };

/** The route under which MLflow's proxy serves artifacts; http(s) artifact roots point below it. */
export const PROXY_ROUTE_ANCHOR = '/api/2.0/mlflow-artifacts/artifacts';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const S3_URI = /^s3:\/\/([^/?#]+)\/?([^?#]*)$/i;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The location is printed without any password it holds (`scheme://user:***@`): messages reach logs. */
function invalidLocation(uri: string, reason: string): MlflowError {
  return MlflowError.invalidParameter(`Invalid artifact location '${redactSecrets(uri)}': ${reason}.`);
}

/** Refuses `..` segments, also percent-encoded ones, and NUL: a location never climbs out of its root. */
function refuseTraversal(uri: string, raw: string): void {
  const decoded = fullyDecode(raw);
  if (decoded.includes('\0')) throw invalidLocation(uri, 'NUL is not allowed');
  if (decoded.split(/[/\\]/).includes('..')) throw invalidLocation(uri, "'..' is not allowed");
}

/** A key or proxied path without empty and `.` segments, leading or trailing slashes. */
function cleanKey(uri: string, key: string): string {
  refuseTraversal(uri, key);
  return key
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/**
 * Parses a run's `artifact_uri`, an experiment's location or a configured root the way MLflow reads
 * them (spec §6.1). Relative local paths resolve against `cwd`.
 */
export function parseArtifactLocation(uri: string, cwd = process.cwd()): ArtifactLocation {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  // A one-letter "scheme" is a Windows drive letter.
  if (scheme === undefined || scheme.length === 1) {
    if (scheme !== undefined) return { kind: 'unsupported', scheme: 'windows-path' };
    refuseTraversal(uri, uri);
    return { kind: 'local', path: resolve(cwd, uri) };
  }
  switch (scheme) {
    case 'mlflow-artifacts': {
      const rest = uri.slice(scheme.length + 1);
      // mlflow-artifacts://host:port/path names the server; the path is what matters here.
      const path = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
      return { kind: 'proxied', path: cleanKey(uri, path.split(/[?#]/)[0]!) };
    }
    case 'http':
    case 'https': {
      refuseTraversal(uri, uri);
      let pathname: string;
      try {
        pathname = new URL(uri).pathname;
      } catch {
        throw invalidLocation(uri, 'not a URL');
      }
      const at = pathname.indexOf(PROXY_ROUTE_ANCHOR);
      const after = at === -1 ? undefined : pathname.slice(at + PROXY_ROUTE_ANCHOR.length);
      if (after === undefined || (after !== '' && !after.startsWith('/'))) {
        return { kind: 'unsupported', scheme };
      }
      return { kind: 'proxied', path: cleanKey(uri, decodeURIComponent(after)) };
    }
    case 's3': {
      const match = S3_URI.exec(uri);
      if (!match) throw invalidLocation(uri, 'expected s3://bucket/prefix');
      const bucket = match[1]!;
      if (bucket.includes('@'))
        throw invalidLocation(uri, 'credentials belong in the S3 settings, not in the location');
      if (!BUCKET.test(bucket)) throw invalidLocation(uri, `'${bucket}' is not a valid bucket name`);
      return { kind: 's3', bucket, key: cleanKey(uri, match[2]!) };
    }
    case 'file': {
      // Checked on the raw text: the URL parser would silently resolve `..` and `%2e%2e`.
      refuseTraversal(uri, uri.slice('file:'.length));
      try {
        return { kind: 'local', path: resolve(cwd, fileURLToPath(uri)) };
      } catch (error) {
        throw invalidLocation(uri, (error as Error).message);
      }
    }
    default:
      return { kind: 'unsupported', scheme };
  }
}

/** A storage root (the proxy destination or an allowed direct root): a local directory or S3 prefix. */
export type StorageRoot = Extract<ArtifactLocation, { kind: 'local' } | { kind: 's3' }>;

/** Parses a configured storage root; proxied and unsupported URIs are configuration errors. */
export function parseStorageRoot(uri: string, cwd = process.cwd()): StorageRoot {
  const location = parseArtifactLocation(uri, cwd);
  if (location.kind === 'local' || location.kind === 's3') return location;
  throw MlflowError.invalidParameter(
    `'${redactSecrets(uri)}' cannot be an artifact storage root: use a directory, file:///path or s3://bucket/prefix.`,
  );
}

/** The path of `location` inside `root`, or undefined when it lies elsewhere. */
export function pathWithin(root: StorageRoot, location: ArtifactLocation): string | undefined {
  if (root.kind === 'local' && location.kind === 'local') {
    if (location.path === root.path) return '';
    const base = root.path.endsWith('/') ? root.path : `${root.path}/`;
    return location.path.startsWith(base) ? location.path.slice(base.length) : undefined;
  }
  if (root.kind === 's3' && location.kind === 's3' && root.bucket === location.bucket) {
    if (location.key === root.key) return '';
    if (root.key === '') return location.key;
    return location.key.startsWith(`${root.key}/`) ? location.key.slice(root.key.length + 1) : undefined;
  }
  return undefined;
}

/** A root's canonical URI, for messages and cache keys. */
export function storageRootUri(root: StorageRoot): string {
  return root.kind === 'local' ? root.path : `s3://${root.bucket}/${root.key}`;
}

/** The proxy route that downloads a file of the destination (`path` safe and relative). */
export function proxyArtifactUrl(path: string): string {
  return `${PROXY_ROUTE_ANCHOR}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** The `/get-artifact` route that downloads a file of a run (`path` relative to the run's root). */
export function getArtifactUrl(runId: string, path: string): string {
  return `/get-artifact?${new URLSearchParams({ run_id: runId, path })}`;
}

/** The route that downloads a file of a logged model (`path` relative to the model's root). */
export function loggedModelArtifactUrl(modelId: string, path: string): string {
  return `/ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts/files?${new URLSearchParams({ artifact_file_path: path })}`;
}
