import { MlflowError, pythonJson } from '@mast/common';
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

/**
 * Percent-decoded until stable, at most 10 rounds (MLflow's `uri._decode`), so `%252e%252e` cannot hide
 * `..`. Bytes are decoded one by one: enough to find ASCII dots, and never throws on malformed escapes.
 */
function fullyDecoded(text: string): string {
  let current = text;
  for (let i = 0; i < 10; i++) {
    const next = current.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (next === current) return current;
    current = next;
  }
  return current;
}

/**
 * MLflow's `_create_experiment` checks on `artifact_location`: no `runs:/` URI, no URL fragment or
 * params, and no `..` in the (decoded) query string (`uri.validate_query_string`).
 */
export function validateArtifactLocation(location: string): void {
  const beforeFragment = location.split('#')[0]!;
  const queryStart = beforeFragment.indexOf('?');
  if (queryStart >= 0 && fullyDecoded(beforeFragment.slice(queryStart + 1)).includes('..')) {
    throw MlflowError.invalidParameter('Invalid query string');
  }
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

/** MLflow's `_validate_experiment_artifact_location_length`, applied to the location as stored. */
export function validateArtifactLocationLength(location: string): void {
  if (location.length > LIMITS.artifactLocationLength) {
    throw MlflowError.invalidParameter(
      `Invalid artifact path length. The length of the artifact path cannot be greater than ${LIMITS.artifactLocationLength} characters. To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable.`,
    );
  }
}

/**
 * MLflow's `uri.resolve_uri_if_local`, which its SQL store applies to a given `artifact_location`: a
 * relative local path (no scheme, or `file:` without a host) becomes absolute against `cwd` (a POSIX
 * path; `file:` URIs stay URIs). Anything else is returned unchanged.
 */
export function resolveLocalArtifactLocation(location: string, cwd: string): string {
  const scheme = /^([a-zA-Z][\w+.-]*):/.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return location.startsWith('/') ? location : posixJoin(cwd, location);
  if (scheme !== 'file') return location;
  const rest = location.slice('file:'.length);
  if (rest.startsWith('/')) return location;
  const [path, suffix] = splitQueryAndFragment(rest);
  return `file://${posixJoin(cwd, path)}${suffix}`;
}

/** `pathlib.Path(base).joinpath(relative).as_posix()`: empty and `.` segments dropped, `..` kept. */
function posixJoin(base: string, relative: string): string {
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  return [base.replace(/\/+$/, ''), ...parts].join('/');
}

function splitQueryAndFragment(text: string): [string, string] {
  const at = text.search(/[?#]/);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at)];
}

/** MLflow's `_validate_run_id`: `Invalid value "x" for parameter 'run_id' supplied.` */
export function validateRunId(runId: string, path = 'run_id'): void {
  if (!RUN_ID.test(runId)) {
    throw MlflowError.invalidParameter(
      `Invalid value ${pythonJson(runId)} for parameter '${path}' supplied.`,
    );
  }
}

/** A metric value as Python's `str(float)` writes it in MLflow's messages (`1.0`, `nan`, `inf`). */
function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** MLflow's `_validate_metric` rule and message for a negative timestamp. */
export function validateMetricTimestamp(
  timestamp: number | bigint,
  path: string,
  metric: { key: string; value: number },
): void {
  if (timestamp < 0) {
    throw MlflowError.invalidParameter(
      `Invalid value ${timestamp} for parameter '${path}' supplied: metric '${metric.key}' (value=${pythonFloat(metric.value)}). Timestamp must be a nonnegative long (64-bit integer) `,
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
