import { API_DOCS_HINT, MlflowError } from '@mast/common';
import { LIMITS } from './limits.js';
import type { FilterNode } from './search-filter.js';

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;

/** Param values longer than the limit are truncated, as MLflow does with MLFLOW_TRUNCATE_LONG_VALUES on. */
export function truncateParamValue(value: string): string {
  return value.length > LIMITS.paramValueLength ? value.slice(0, LIMITS.paramValueLength) : value;
}

export function truncateRunTagValue(value: string): string {
  return value.length > LIMITS.runTagValueLength ? value.slice(0, LIMITS.runTagValueLength) : value;
}

export function validateExperimentTagValue(value: string, path = 'value'): void {
  if (value.length > LIMITS.experimentTagValueLength) {
    throw MlflowError.invalidParameter(
      `'${path}' exceeds the maximum length of ${LIMITS.experimentTagValueLength} characters.`,
    );
  }
}

/** MLflow rejects only the empty name: whitespace and any other characters are allowed. */
export function validateExperimentName(name: string): void {
  if (name === '') {
    throw MlflowError.invalidParameter(
      `Invalid experiment name: '${name}'. Experiment names cannot be empty.`,
    );
  }
  if (name.length > LIMITS.experimentNameLength) {
    throw MlflowError.invalidParameter(
      `'name' exceeds the maximum length of ${LIMITS.experimentNameLength} characters.`,
    );
  }
}

export function validateArtifactLocation(location: string): void {
  if (location.startsWith('runs:')) {
    throw MlflowError.invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${location}'.`);
  }
  if (/^[a-z][\w+.-]*:\/\//i.test(location)) {
    const url = URL.parse(location);
    if (url && (url.hash || url.pathname.includes(';'))) {
      throw MlflowError.invalidParameter(
        `'artifact_location' URL can't include fragments or params. Given: '${location}'.`,
      );
    }
  }
}

export function validateRunId(runId: string, path = 'run_id'): void {
  if (!RUN_ID.test(runId)) {
    throw MlflowError.invalidParameter(
      `Invalid value '${runId}' for parameter '${path}' supplied.${API_DOCS_HINT}`,
    );
  }
}

export function validateMetricTimestamp(timestamp: number | bigint, path = 'timestamp'): void {
  if (timestamp < 0) {
    throw MlflowError.invalidParameter(
      `Invalid value ${timestamp} for parameter '${path}' supplied. Hint: timestamps must be non-negative.${API_DOCS_HINT}`,
    );
  }
}

export function validateBatchSize(metrics: number, params: number, tags: number): void {
  const tooMany = (count: number, limit: number, what: string) =>
    MlflowError.invalidParameter(
      `A batch logging request can contain at most ${limit} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
    );
  if (metrics > LIMITS.batchMetrics) throw tooMany(metrics, LIMITS.batchMetrics, 'metrics');
  if (params > LIMITS.batchParams) throw tooMany(params, LIMITS.batchParams, 'params');
  if (tags > LIMITS.batchTags) throw tooMany(tags, LIMITS.batchTags, 'tags');
  const total = metrics + params + tags;
  if (total > LIMITS.batchItems) {
    throw MlflowError.invalidParameter(
      `A batch logging request can contain at most ${LIMITS.batchItems} metrics, params, and tags in total. Got ${total} in total. Please split up across multiple requests and try again.`,
    );
  }
}

export function validateNoDuplicateParamKeys(keys: string[]): void {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  if (duplicates.size > 0) {
    throw MlflowError.invalidParameter(
      `Duplicate parameter keys have been submitted: [${[...duplicates].map((k) => `'${k}'`).join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
}

/** Checks a value against a maximum length, naming the field by its JSON path. */
export function validateLength(value: string | undefined, limit: number, path: string): void {
  if (value !== undefined && value.length > limit) {
    throw MlflowError.invalidParameter(`'${path}' exceeds the maximum length of ${limit} characters.`);
  }
}

/**
 * Bounds on search requests, far above what clients send: PostgreSQL rejects queries with more than 1664
 * sort expressions or 65535 parameters, and planning time grows steeply with the number of comparisons.
 */
export const SEARCH_BOUNDS = { orderByClauses: 100, filterComparisons: 100 } as const;

export function validateOrderByCount(clauses: string[]): void {
  if (clauses.length > SEARCH_BOUNDS.orderByClauses) {
    throw MlflowError.invalidParameter(
      `order_by can contain at most ${SEARCH_BOUNDS.orderByClauses} clauses. Got ${clauses.length}.`,
    );
  }
}

export function validateFilterSize(filter: FilterNode | undefined): void {
  const count = (node: FilterNode): number =>
    node.kind === 'comparison' ? 1 : node.children.reduce((sum, child) => sum + count(child), 0);
  const comparisons = filter === undefined ? 0 : count(filter);
  if (comparisons > SEARCH_BOUNDS.filterComparisons) {
    throw MlflowError.invalidParameter(
      `A search filter can contain at most ${SEARCH_BOUNDS.filterComparisons} comparisons. Got ${comparisons}.`,
    );
  }
}
