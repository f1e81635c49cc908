import { MlflowError } from '@mast/common';
import type { LoggedModelStatus } from '@mast/proto';
import type { KeyValue } from './records.js';
import type { Comparison } from './search-filter.js';
import { validateLength } from './validation.js';

const MODEL_NAME_MAX_LENGTH = 500;
const BAD_NAME_CHARS = ['/', ':', '.', '%', '"', "'"];

/** Python's `LoggedModelStatus` names (what `mlflow` users write in filters) → the stored proto names. */
const STATUS_ALIASES: Readonly<Record<string, LoggedModelStatus>> = {
  UNSPECIFIED: 'LOGGED_MODEL_STATUS_UNSPECIFIED',
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
};

/** `status = 'READY'` (Python's enum name) means `LOGGED_MODEL_READY`; LIKE patterns are left as written. */
export function normalizeStatus(comparison: Comparison): Comparison {
  const alias = (value: string) => STATUS_ALIASES[value] ?? value;
  if (
    typeof comparison.value === 'string' &&
    (comparison.comparator === '=' || comparison.comparator === '!=')
  ) {
    return { ...comparison, value: alias(comparison.value) };
  }
  if (Array.isArray(comparison.value)) return { ...comparison, value: comparison.value.map(alias) };
  return comparison;
}

/** Python's repr() of a string, as MLflow's messages print names. */
function pyRepr(value: string): string {
  if (value.includes("'") && !value.includes('"')) return `"${value}"`;
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** MLflow's `_validate_logged_model_name`: names become path segments, so no separators or quotes. */
export function validateModelName(name: string): void {
  if (BAD_NAME_CHARS.some((char) => name.includes(char))) {
    throw MlflowError.invalidParameter(
      `Invalid model name (${pyRepr(name)}) provided. Model name must be a non-empty string and cannot contain the following characters: ('/', ':', '.', '%', '"', "'")`,
    );
  }
  validateLength(name, MODEL_NAME_MAX_LENGTH, 'name');
}

/** Params of one request: an exact repeat is dropped, the same key with another value is rejected. */
export function uniqueParams(params: readonly KeyValue[]): KeyValue[] {
  const byKey = new Map<string, string>();
  const conflicting = new Set<string>();
  for (const param of params) {
    const previous = byKey.get(param.key);
    if (previous !== undefined && previous !== param.value) conflicting.add(param.key);
    byKey.set(param.key, param.value);
  }
  if (conflicting.size > 0) {
    throw MlflowError.invalidParameter(
      `Duplicate parameter keys have been submitted: [${[...conflicting].map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}
