import { MlflowError } from '@mast/common';

/** The scheme of a URI as Python's urlparse reads it (lower-cased), or '' for a bare path. */
export function uriScheme(uri: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return match ? match[1].toLowerCase() : '';
}

/** A source on the server's file system: no scheme, or `file:` (MLflow's `is_local_uri`). */
export function isLocalSource(source: string): boolean {
  const scheme = uriScheme(source);
  return scheme === '' || scheme === 'file';
}

function relativePathError(source: string): MlflowError {
  return MlflowError.invalidParameter(
    `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
  );
}

function decodeFully(source: string): string {
  let current = source;
  for (let i = 0; i < 100; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+/g, ' '));
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** The path part of a URI as Python's urlparse gives it (after `scheme:` and `//netloc`, before `?`/`#`). */
function uriPath(uri: string): string {
  let rest = uri.slice(uriScheme(uri) === '' ? 0 : uri.indexOf(':') + 1);
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    rest = slash === -1 ? '' : rest.slice(slash);
  }
  return rest.split(/[?#]/, 1)[0];
}

function normalizeAbsolute(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/**
 * MLflow's `_validate_non_local_source_contains_relative_paths`: the source, URL-decoded until stable,
 * must have no `..` segment or NUL, and its path must be absolute and already normalised.
 */
export function checkNoRelativePaths(source: string): void {
  const decoded = decodeFully(source);
  const path = uriPath(decoded).replace(/\/+/g, '/').replace(/\/+$/, '');
  if (path.includes('\u0000') || decoded.split('/').some((part) => part === '..')) {
    throw relativePathError(source);
  }
  if (normalizeAbsolute(path) !== path) throw relativePathError(source);
}

/**
 * The checks MLflow's server makes on `model-versions/create`'s source before storing it: the optional
 * allow-list regex, then (not for prompts) local sources refused — Mast's runs and logged models keep
 * their artifacts in the artifact store, never in a server directory a local path could lie in — and
 * relative path references refused. Prompts only refuse local sources.
 */
export function validateVersionSource(
  source: string,
  options: { isPrompt: boolean; modelId?: string; regex?: RegExp },
): void {
  if (options.regex && !options.regex.test(source)) {
    throw MlflowError.invalidParameter(`Invalid model version source: '${source}'.`);
  }
  if (options.isPrompt) {
    if (uriScheme(source) === 'file' || (uriScheme(source) === '' && source.startsWith('/'))) {
      throw MlflowError.invalidParameter(
        `Invalid prompt source: '${source}'. Local source paths are not allowed for prompts.`,
      );
    }
    if (uriScheme(source) !== '') checkNoRelativePaths(source);
    return;
  }
  if (isLocalSource(source)) {
    const anchor = options.modelId ? 'model_id' : 'run_id';
    const owner = options.modelId ? 'run specified by the model_id' : 'run specified by the run_id';
    throw MlflowError.invalidParameter(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the ${anchor} request parameter has to be specified and the local path has to be contained within the artifact directory of the ${owner}.`,
    );
  }
  checkNoRelativePaths(source);
}
