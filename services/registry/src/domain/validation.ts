import { MlflowError, validateKey } from '@mast/common';

export const MAX_TAG_VALUE_LENGTH = 5000;
export const MAX_ALIAS_LENGTH = 255;
export const SEARCH_MODELS_DEFAULT = 100;
export const SEARCH_MODELS_MAX = 1000;
export const SEARCH_VERSIONS_DEFAULT = 200_000;
export const SEARCH_VERSIONS_MAX = 200_000;

const ALIAS_CHARS = /^[\w-]*$/;
const VERSION_ALIAS = /^[vV]\d+$/;

function exceedsMaximumLength(entity: string, limit: number): MlflowError {
  return MlflowError.invalidParameter(`'${entity}' exceeds the maximum length of ${limit} characters`);
}

/** A registered model's name: MLflow only requires it non-empty. */
export function validateModelName(name: string | undefined, field = 'name'): string {
  if (name === undefined || name === '') {
    throw MlflowError.invalidParameter(`Missing value for required parameter '${field}'.`);
  }
  return name;
}

/** A tag of a registered model or version: MLflow's key rules, value ≤ 5000 characters. */
export function validateRegistryTag(key: string, value: string): void {
  validateKey('tag', key);
  if (value.length > MAX_TAG_VALUE_LENGTH) throw exceedsMaximumLength('value', MAX_TAG_VALUE_LENGTH);
}

/** A version number as MLflow parses it (`int(version)`): else "must be an integer". */
export function parseVersion(version: string): number {
  const trimmed = version.trim();
  if (!/^[-+]?\d+$/.test(trimmed)) {
    throw MlflowError.invalidParameter(`Parameter 'version' must be an integer, got '${version}'.`);
  }
  const parsed = Number(trimmed);
  // Beyond the range of the column no version can exist; the lookup will answer not found.
  return Number.isSafeInteger(parsed) ? parsed : -1;
}

/** MLflow's `_validate_model_alias_name`. */
export function validateAliasName(alias: string | undefined): string {
  if (alias === undefined || alias === '') {
    throw MlflowError.invalidParameter('Registered model alias name cannot be empty.');
  }
  if (!ALIAS_CHARS.test(alias)) {
    throw MlflowError.invalidParameter(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  if (alias.length > MAX_ALIAS_LENGTH)
    throw exceedsMaximumLength('Registered model alias name', MAX_ALIAS_LENGTH);
  if (alias.toLowerCase() === 'latest') {
    throw MlflowError.invalidParameter("'latest' alias name (case insensitive) is reserved.");
  }
  if (VERSION_ALIAS.test(alias))
    throw MlflowError.invalidParameter(`Version alias name '${alias}' is reserved.`);
  return alias;
}
