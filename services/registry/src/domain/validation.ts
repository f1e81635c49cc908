import { MlflowError, validateKey } from '@mast/common';

export const MAX_TAG_VALUE_LENGTH = 5000;
export const SEARCH_MODELS_DEFAULT = 100;
export const SEARCH_MODELS_MAX = 1000;
export const SEARCH_VERSIONS_DEFAULT = 200_000;
export const SEARCH_VERSIONS_MAX = 200_000;

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
