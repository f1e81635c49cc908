import { MlflowError } from '@mast/common';

/** Longest artifact path accepted, in characters (S3 keys stop at 1024 bytes, file systems at 4096). */
export const MAX_ARTIFACT_PATH_LENGTH = 1024;

const MAX_DECODE_ROUNDS = 10;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects.
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A URI scheme followed by a slash (`file:/`, `s3://`, `C:/`): never a relative path. */
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]/;

function invalidPath(raw: string, reason: string): MlflowError {
  return MlflowError.invalidParameter(`Invalid path '${raw}': ${reason}.`);
}

/**
 * A path that could leave the artifact root: MLflow's `validate_path_is_safe` answers exactly
 * `Invalid path` (INVALID_PARAMETER_VALUE), which MLflow's `test_path_validation` checks word for word.
 */
function unsafePath(): MlflowError {
  return MlflowError.invalidParameter('Invalid path');
}

/** Decodes `%XX` runs as UTF-8 once; malformed sequences stay as they are (Python's `unquote`). */
function decodeOnce(value: string): string {
  return value.replace(PERCENT_RUN, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
}

/**
 * Percent-decodes until the value stops changing, as MLflow's `validate_path_is_safe` does, so that
 * double-encoded separators and dots (`%252e%252e%252f`) are seen for what they are. For checks only:
 * a path is used as HTTP decoded it, once.
 */
export function fullyDecode(raw: string): string {
  let current = raw;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = decodeOnce(current);
    if (next === current) return current;
    current = next;
  }
  throw unsafePath();
}

export interface ArtifactPathOptions {
  /** Whether the empty path (the root itself) is acceptable, as for listing. */
  allowRoot?: boolean;
}

/**
 * The artifact path a request names, made safe to join under an artifact root. `literal` is the path as
 * HTTP decoded it, exactly once (a route's wildcard, a query value) or as a JSON body or GraphQL argument
 * gives it: it is the name, and is never decoded again, so a file called `loss%step%0%timestamp%17…`
 * (MLflow's `log_image` names) keeps its name. Empty and `.` segments are dropped. It is rejected
 * (INVALID_PARAMETER_VALUE) when it could leave the root:
 * - as it is: `..` segments, absolute paths, URIs and drive letters, backslashes, `#`, NUL and other
 *   control characters;
 * - fully percent-decoded as well (as MLflow's `validate_path_is_safe` does), so that an encoding a
 *   later layer might undo cannot smuggle a traversal in: `..` segments (separated by `/` or `\`), a
 *   leading `/` or `\`, URIs and drive letters. Control characters and lone `%` sequences there are
 *   fine: they are only what a literal `%` name looks like decoded.
 */
export function safeArtifactPath(literal: string, options: ArtifactPathOptions = {}): string {
  const raw = literal;
  if (CONTROL.test(literal)) throw unsafePath();
  if (literal.includes('\\')) throw unsafePath();
  if (literal.includes('#')) throw unsafePath();
  const decoded = fullyDecode(literal);
  for (const form of decoded === literal ? [literal] : [literal, decoded]) {
    if (form.startsWith('/') || form.startsWith('\\')) throw unsafePath();
    if (SCHEME_PREFIX.test(form)) throw unsafePath();
    if (form.split(/[/\\]/).includes('..')) throw unsafePath();
  }
  const normalized = literal
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
  if (normalized.length > MAX_ARTIFACT_PATH_LENGTH) {
    throw invalidPath(raw.slice(0, 100), `longer than ${MAX_ARTIFACT_PATH_LENGTH} characters`);
  }
  if (normalized === '' && !options.allowRoot) throw invalidPath(raw, 'a file or directory name is required');
  return normalized;
}

/** Joins safe relative artifact paths; empty parts are skipped. */
export function joinArtifactPath(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('/');
}

/** The last segment of a path: `a/b/model.pkl` → `model.pkl`. */
export function artifactBasename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

/**
 * The file name in a client-side path such as the `path` field of a multipart create (the client's
 * local file, maybe a Windows path), checked to be one safe segment.
 */
export function clientFileName(localPath: string): string {
  const name = localPath.split(/[/\\]/).pop() ?? '';
  const safe = safeArtifactPath(name);
  if (safe.includes('/')) throw invalidPath(localPath, 'not a file name');
  return safe;
}
