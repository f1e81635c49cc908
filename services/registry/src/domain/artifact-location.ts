import { relative } from 'node:path';
import { MlflowError } from '@mast/common';
import { isInsideLocalRoot, localFilePath } from './source.js';

/** A file path inside a version's artifacts, as MLflow's `validate_path_is_safe` accepts it. */
export function safeRelativePath(path: string): string {
  const parts = path.split('/');
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\u0000') ||
    /^[A-Za-z]:/.test(path) ||
    parts.some((part) => part === '..')
  ) {
    // MLflow's `validate_path_is_safe` message, word for word.
    throw MlflowError.invalidParameter('Invalid path');
  }
  return parts.filter((part) => part !== '' && part !== '.').join('/');
}

function encodePath(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '')
    .map(encodeURIComponent)
    .join('/');
}

/** The artifact proxy's download route, under which an `http(s)` artifact root names its path. */
const PROXY_ROUTE = '/api/2.0/mlflow-artifacts/artifacts/';

/** The proxy path an `http(s)` URI of the artifact proxy names (MLflow's route anchor), decoded. */
function proxiedHttpPath(uri: string): string | undefined {
  if (!/^https?:\/\//i.test(uri)) return undefined;
  let pathname: string;
  try {
    pathname = new URL(uri).pathname;
  } catch {
    return undefined;
  }
  const at = pathname.indexOf(PROXY_ROUTE);
  if (at === -1) return undefined;
  return pathname
    .slice(at + PROXY_ROUTE.length)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}

/**
 * Where the artifact service serves a file of a version whose download URI is `uri`: the artifact
 * proxy for `mlflow-artifacts:` URIs and for `http(s)` URIs of the proxy's route (MLflow's
 * `_is_servable_proxied_run_artifact_root`), `/get-artifact` (the run's root, asked of tracking) for
 * `runs:/` URIs. Undefined for storage this server does not proxy (s3://, gs://, ...: clients read it
 * directly).
 */
export function artifactDownloadPath(uri: string, path: string): string | undefined {
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/i.exec(uri)?.[1] ?? proxiedHttpPath(uri);
  if (proxied !== undefined) {
    const root = encodePath(proxied);
    return `${PROXY_ROUTE}${root ? `${root}/` : ''}${encodePath(path)}`;
  }
  const run = /^runs:\/([^/]+)\/?(.*)$/i.exec(uri);
  if (run) {
    const inner = run[2].replace(/\/+$/, '');
    const query = new URLSearchParams({ run_id: run[1], path: inner ? `${inner}/${path}` : path });
    return `/get-artifact?${query}`;
  }
  return undefined;
}

/**
 * `/get-artifact` for a file of a version whose download URI is a local path inside its run's local
 * artifact root (servers with `file:` artifact roots): the artifact service serves run files from there.
 * Undefined when the URI is not inside that root.
 */
export function runFileDownloadPath(
  uri: string,
  run: { runId: string; artifactUri: string },
  path: string,
): string | undefined {
  if (!isInsideLocalRoot(uri, run.artifactUri)) return undefined;
  const inner = relative(localFilePath(run.artifactUri) ?? '', localFilePath(uri) ?? '');
  const query = new URLSearchParams({ run_id: run.runId, path: inner ? `${inner}/${path}` : path });
  return `/get-artifact?${query}`;
}
