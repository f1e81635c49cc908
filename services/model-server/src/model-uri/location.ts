import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactSecrets, StartupError } from '@mast/common';

/**
 * A model that cannot be found or fetched: printed as one line naming the URI (an expected start-up
 * failure, as a bad flag is).
 */
export class ModelUriError extends StartupError {
  override name = 'ModelUriError';
}

/** Where a model's files are, as `mast models serve` reaches them. */
export type ModelLocation =
  /** `models:/…`: asked of the registry (`GET …/mast/models/resolve`). */
  | { kind: 'registry'; uri: string; server: string }
  /** `runs:/<run_id>/<path>`: listed and downloaded through the artifact service's run routes. */
  | { kind: 'run'; runId: string; path: string; server: string }
  /** Behind an artifact proxy (`mlflow-artifacts:/…`, `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`). */
  | { kind: 'proxied'; path: string; server: string }
  /** A directory on this machine. */
  | { kind: 'local'; path: string }
  /** An S3 prefix, read with this process's S3 settings (as MLflow's client reads it with boto3). */
  | { kind: 's3'; uri: string };

/** The route under which MLflow's artifact proxy serves files (spec mlflow-tracking §6.2). */
export const PROXY_ROUTE = '/api/2.0/mlflow-artifacts/artifacts';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Refuses `..` segments (also percent-encoded) and NUL: a path never climbs out of its root. */
function cleanPath(uri: string, raw: string): string {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new ModelUriError(`Not a proper model URI: ${uri}: it has a malformed percent-encoding.`);
  }
  if (decoded.includes('\0') || decoded.split(/[/\\]/).includes('..')) {
    throw new ModelUriError(`Not a proper model URI: ${uri}: '..' and NUL are not allowed in its path.`);
  }
  return decoded
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** The tracking server a remote URI needs (MLFLOW_TRACKING_URI / `--tracking-uri`), without a trailing slash. */
function requireServer(uri: string, trackingUri: string | undefined): string {
  if (trackingUri === undefined || trackingUri.trim() === '') {
    throw new ModelUriError(
      `${uri} is fetched from a tracking server: set MLFLOW_TRACKING_URI or pass --tracking-uri (e.g. http://127.0.0.1:5000).`,
    );
  }
  if (!/^https?:\/\//i.test(trackingUri)) {
    throw new ModelUriError(
      `The tracking URI '${redactSecrets(trackingUri)}' is not an http(s) URL: Mast fetches ${uri} from a Mast or MLflow server over REST.`,
    );
  }
  return trackingUri.replace(/\/+$/, '');
}

/**
 * Where the model named by `uri` is (the model URI forms `mlflow models serve -m` accepts):
 * - `models:/<name>/<version>`, `/<stage>`, `/latest`, `@<alias>`, `models:/<model_id>`: the registry
 *   resolves them (spec mlflow-registry-models §2.4, checked server-side);
 * - `runs:/<run_id>/<path>` (MLflow's `RunsArtifactRepository.parse_runs_uri`; `runs://<profile>/…` names
 *   a Databricks profile, ignored);
 * - `mlflow-artifacts:/<path>` against the tracking server, `mlflow-artifacts://host:port/<path>` against
 *   that host with the tracking server's scheme, `http(s)://…/api/2.0/mlflow-artifacts/artifacts/<path>`
 *   (spec mlflow-tracking §6.1);
 * - `s3://<bucket>/<prefix>`, read from S3 directly (spec mlflow-tracking §6.1, direct storage);
 * - a local path, absolute or relative to `cwd`, or `file:` URI.
 * Anything else (`gs://`, `hdfs://`, …) is a ModelUriError saying how to reach it. Remote forms but
 * `s3://` need `trackingUri` (http or https).
 */
export function locateModel(uri: string, trackingUri: string | undefined, cwd: string): ModelLocation {
  if (uri.trim() === '') throw new ModelUriError('The model URI is empty.');
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  // No scheme, or a one-letter "scheme" (a Windows drive): a local path.
  if (scheme === undefined || scheme.length === 1) {
    return { kind: 'local', path: isAbsolute(uri) ? uri : resolve(cwd, uri) };
  }
  const rest = uri.slice(scheme.length + 1);
  switch (scheme) {
    case 'file':
      try {
        return { kind: 'local', path: fileURLToPath(uri) };
      } catch {
        throw new ModelUriError(`Not a proper file URI: ${uri}.`);
      }
    case 'models':
      return { kind: 'registry', uri, server: requireServer(uri, trackingUri) };
    case 'runs': {
      // runs:/<id>/<path>, runs:///<id>/<path>, runs://<profile>/<id>/<path>.
      const path = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
      const [runId, ...inner] = path.replace(/^\/+/, '').split('/');
      if (runId === undefined || runId === '' || !/^[\w-]+$/.test(runId)) {
        throw new ModelUriError(
          `Not a proper runs:/ URI: ${uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'.`,
        );
      }
      const server = requireServer(uri, trackingUri);
      return { kind: 'run', runId, path: cleanPath(uri, inner.join('/')), server };
    }
    case 'mlflow-artifacts': {
      const server = requireServer(uri, trackingUri);
      if (!rest.startsWith('//')) return { kind: 'proxied', path: cleanPath(uri, rest), server };
      const authority = /^\/\/([^/]*)(.*)$/.exec(rest)!;
      const host = authority[1]!;
      const own = host === '' ? server : `${new URL(server).protocol}//${host}`;
      return { kind: 'proxied', path: cleanPath(uri, authority[2]!), server: own };
    }
    case 'http':
    case 'https': {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        throw new ModelUriError(`Not a proper URL: ${redactSecrets(uri)}.`);
      }
      const at = url.pathname.indexOf(PROXY_ROUTE);
      const after = at === -1 ? undefined : url.pathname.slice(at + PROXY_ROUTE.length);
      if (after === undefined || (after !== '' && !after.startsWith('/'))) {
        throw new ModelUriError(
          `${uri} is not an artifact proxy URL (…${PROXY_ROUTE}/<path>): Mast downloads models over HTTP only from an MLflow or Mast artifact proxy.`,
        );
      }
      return {
        kind: 'proxied',
        path: cleanPath(uri, after),
        server: `${url.origin}${url.pathname.slice(0, at)}`,
      };
    }
    case 's3':
      if (!/^s3:\/\/[^/?#]+(\/[^?#]*)?$/i.test(uri)) throw new ModelUriError(`Not a proper S3 URI: ${uri}.`);
      cleanPath(uri, uri.slice('s3://'.length));
      return { kind: 's3', uri: uri.replace(/\/+$/, '') };
    default:
      throw new ModelUriError(
        `Mast cannot fetch ${uri} itself ('${scheme}:' storage): log or register the model on a Mast or MLflow server and serve it as models:/… or runs:/…, or download it and pass its directory.`,
      );
  }
}
