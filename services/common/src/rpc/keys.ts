import { MlflowError } from '../errors.js';

/** Longest key of a metric, param or tag (MLflow's `MAX_ENTITY_KEY_LENGTH`). */
export const KEY_MAX_LENGTH = 250;

const KEY_CHARS = /^[/\p{L}\p{N}\p{Mn}\p{Pc}.\- :]*$/u;

/** Python's posixpath.normpath for the relative keys MLflow accepts. */
function normalizedPath(key: string): string {
  const parts: string[] = [];
  for (const part of key.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  const joined = parts.join('/');
  return key.startsWith('/') ? `/${joined}` : joined || '.';
}

/**
 * Keys of metrics, params and tags (runs, experiments, logged models, registered models and their
 * versions): MLflow's `_validate_metric_name` / `_validate_param_name` / `_validate_tag_name` rules on
 * characters, length and path stability. `path` names the field in the message when the key is too long.
 */
export function validateKey(entity: 'metric' | 'param' | 'tag', key: string, path = 'key'): void {
  if (key.length > KEY_MAX_LENGTH) {
    throw MlflowError.invalidParameter(
      `'${path}' exceeds the maximum length of ${KEY_MAX_LENGTH} characters (${entity} key '${key.slice(0, 250)}...').`,
    );
  }
  if (!KEY_CHARS.test(key)) {
    throw MlflowError.invalidParameter(
      `Invalid ${entity} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (normalizedPath(key) !== key || key === '.' || key.startsWith('..') || key.startsWith('/')) {
    throw MlflowError.invalidParameter(
      `Invalid ${entity} name: '${key}'. Names cannot contain empty, '.' or '..' path segments, and cannot start or end with '/'.`,
    );
  }
}
