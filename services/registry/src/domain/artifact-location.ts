import { MlflowError } from '@mast/common';

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
    throw MlflowError.invalidParameter(`Invalid path: '${path}'`);
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

/**
 * Where the artifact service serves a file of a version whose download URI is `uri`: the artifact
 * proxy for `mlflow-artifacts:` URIs, `/get-artifact` (the run's root, asked of tracking) for `runs:/`
 * URIs. Undefined for storage this server does not proxy (s3://, gs://, ...: clients read it directly).
 */
export function artifactDownloadPath(uri: string, path: string): string | undefined {
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/i.exec(uri);
  if (proxied) {
    const root = encodePath(proxied[1]);
    return `/api/2.0/mlflow-artifacts/artifacts/${root ? `${root}/` : ''}${encodePath(path)}`;
  }
  const run = /^runs:\/([^/]+)\/?(.*)$/i.exec(uri);
  if (run) {
    const inner = run[2].replace(/\/+$/, '');
    const query = new URLSearchParams({ run_id: run[1], path: inner ? `${inner}/${path}` : path });
    return `/get-artifact?${query}`;
  }
  return undefined;
}
