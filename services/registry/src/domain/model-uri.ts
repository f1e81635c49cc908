import { MlflowError } from '@mast/common';

/** What a `models:/` URI names (MLflow's `_parse_model_uri`, spec §2.4). */
export type ParsedModelUri =
  | { kind: 'version'; name: string; version: number }
  | { kind: 'stage'; name: string; stage: string }
  | { kind: 'latest'; name: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'model-id'; modelId: string };

function improper(uri: string): MlflowError {
  return MlflowError.invalidParameter(
    `Not a proper models:/ URI: ${uri}. Models URIs must be of the form 'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model version, stage, or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can be defined at a time.`,
  );
}

/**
 * Parses `models:/<name>/<version>`, `models:/<name>/<stage>`, `models:/<name>/latest`,
 * `models:/<name>@<alias>` and `models:/<model_id>`; anything else is INVALID_PARAMETER_VALUE
 * ("Not a proper models:/ URI"). Fragments are part of the path, as MLflow parses without them.
 */
export function parseModelUri(uri: string): ParsedModelUri {
  const match = /^models:(.*)$/i.exec(uri);
  if (!match) throw improper(uri);
  let path = match[1];
  // `models://<profile>/...` names a remote registry in MLflow; Mast has none: only the path counts.
  if (path.startsWith('//')) {
    const slash = path.indexOf('/', 2);
    path = slash === -1 ? '' : path.slice(slash);
  }
  path = path.split('?', 1)[0];
  if (!path.startsWith('/') || path.length <= 1) throw improper(uri);
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.length > 2 || parts[0].trim() === '') throw improper(uri);
  if (parts.length === 2) {
    const [name, suffix] = parts;
    if (suffix.trim() === '') throw improper(uri);
    if (/^\d+$/.test(suffix)) return { kind: 'version', name, version: Number(suffix) };
    if (suffix.toLowerCase() === 'latest') return { kind: 'latest', name };
    return { kind: 'stage', name, stage: suffix };
  }
  const at = parts[0].lastIndexOf('@');
  if (at >= 0) {
    const name = parts[0].slice(0, at);
    const alias = parts[0].slice(at + 1);
    if (name.trim() === '' || alias.trim() === '') throw improper(uri);
    return { kind: 'alias', name, alias };
  }
  return { kind: 'model-id', modelId: parts[0] };
}
