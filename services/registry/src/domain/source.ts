import { resolve as resolvePath } from 'node:path';
import { MlflowError } from '@mast/common';

/** The scheme of a URI as Python's urlparse reads it (lower-cased), or '' for a bare path. */
export function uriScheme(uri: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return match ? match[1].toLowerCase() : '';
}

/** The host of a `scheme://host/…` URI as Python's urlparse gives `hostname` (lower-cased), or ''. */
function uriHost(uri: string): string {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!match) return '';
  const netloc = match[1].slice(match[1].lastIndexOf('@') + 1);
  const host = netloc.startsWith('[') ? netloc.slice(1, netloc.indexOf(']')) : netloc.split(':', 1)[0];
  return host.toLowerCase();
}

/** MLflow's local hosts: none, `.`, or a name starting with `localhost` or `127.0.0.1`. */
function isLocalHost(host: string): boolean {
  return host === '' || host === '.' || host.startsWith('localhost') || host.startsWith('127.0.0.1');
}

/**
 * A source on the server's file system: no scheme, or `file:` (MLflow's `is_local_uri`). A `file:` URI
 * naming a remote host is refused, with MLflow's message (MLflow answers it as a 500; a bad source is
 * INVALID_PARAMETER_VALUE here).
 */
export function isLocalSource(source: string): boolean {
  const scheme = uriScheme(source);
  if (scheme === '') return true;
  if (scheme !== 'file') return false;
  if (!isLocalHost(uriHost(source))) {
    throw MlflowError.invalidParameter(
      `${source} is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).`,
    );
  }
  return true;
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
 * The absolute path a local URI names (MLflow's `local_file_uri_to_path` then `Path.resolve`, without
 * following symlinks): a `file:` URI's path percent-decoded (its host ignored), bare paths resolved
 * against the working directory. Undefined for any other scheme.
 */
export function localFilePath(uri: string): string | undefined {
  const scheme = uriScheme(uri);
  if (scheme === '') return resolvePath(uri);
  if (scheme !== 'file') return undefined;
  const path = uriPath(uri);
  try {
    return resolvePath(decodeURIComponent(path));
  } catch {
    return resolvePath(path);
  }
}

/**
 * Whether a local source lies inside (or is) a local artifact root: how MLflow admits a local path as a
 * version source, anchored by the run (`run_id`) or logged model (`model_id`) whose root this is.
 */
export function isInsideLocalRoot(source: string, root: string): boolean {
  const path = localFilePath(source);
  const base = localFilePath(root);
  if (path === undefined || base === undefined) return false;
  return path === base || path.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/**
 * The checks MLflow's server makes on `model-versions/create`'s source before storing it
 * (`_validate_source_run` / `_validate_source_model`): the optional allow-list regex; then, not for
 * prompts, a local source (bare path or `file:`) is accepted only inside `anchorRoot` — the artifact
 * root of the version's `model_id` logged model, else of its `run_id` run, as the caller looked it up —
 * and refused otherwise; any other source must have no relative path references. Prompts only refuse
 * local sources.
 */
export function validateVersionSource(
  source: string,
  options: { isPrompt: boolean; modelId?: string; regex?: RegExp; anchorRoot?: string },
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
    if (options.anchorRoot !== undefined && isInsideLocalRoot(source, options.anchorRoot)) return;
    const anchor = options.modelId ? 'model_id' : 'run_id';
    const owner = options.modelId ? 'run specified by the model_id' : 'run specified by the run_id';
    throw MlflowError.invalidParameter(
      `Invalid model version source: '${source}'. To use a local path as a model version source, the ${anchor} request parameter has to be specified and the local path has to be contained within the artifact directory of the ${owner}.`,
    );
  }
  checkNoRelativePaths(source);
}
