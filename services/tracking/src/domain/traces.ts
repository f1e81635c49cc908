/**
 * Rules of MLflow traces without I/O (spec §1.6, §1.7): well-known keys, states, the wire forms of
 * times (protobuf Timestamp and Duration JSON), previews, tag limits and DeleteTraces' argument rules.
 * Bad input raises `MlflowError` INVALID_PARAMETER_VALUE with MLflow's messages.
 */
import { invalidParameter, MlflowError, pythonJson, TRACE_DATA_QUERY, validateKey } from '@mast/common';
import { type AssessmentRecord, type JsonValue, pythonJsonDumps } from './assessments.js';
import { newRunId } from './ids.js';

/** Tag MLflow's store stamps on every trace: where the client uploads `traces.json`. */
export const ARTIFACT_LOCATION_TAG = 'mlflow.artifactLocation';
/** Tag holding the trace's name (the filter attribute `name`). */
export const TRACE_NAME_TAG = 'mlflow.traceName';
/** Metadata holding the run the trace was produced in (the filter attribute `run_id`). */
export const SOURCE_RUN_METADATA = 'mlflow.sourceRun';
/** Metadata naming the trace schema version: StartTraceV3 stores "3" (MLflow's `TraceInfo.from_proto`). */
export const SCHEMA_VERSION_METADATA = 'mlflow.trace_schema.version';

/** States of a trace, as stored and as TraceInfoV3.State and V2's TraceStatus name them. */
export type TraceState = 'STATE_UNSPECIFIED' | 'OK' | 'ERROR' | 'IN_PROGRESS';
/** Enum order (numbers 0..3) of TraceInfoV3.State; V2's TraceStatus has the same order. */
export const TRACE_STATES: readonly TraceState[] = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'];

/** A trace as stored: times in milliseconds, tags and metadata as maps, its assessments oldest first. */
export interface TraceRecord {
  traceId: string;
  experimentId: number;
  clientRequestId: string | null;
  requestTime: number;
  executionDuration: number | null;
  state: TraceState;
  requestPreview: string | null;
  responsePreview: string | null;
  tags: Record<string, string>;
  metadata: Record<string, string>;
  assessments: AssessmentRecord[];
}

/** MLflow's limits (`MAX_CHARS_IN_TRACE_INFO_*` in `mlflow/tracing/constant.py`, its SQL columns). */
export const TRACE_LIMITS = {
  tagKey: 250,
  tagValue: 8000,
  metadataKey: 250,
  metadataValue: 250,
  /** Width of MLflow's `request_preview` / `response_preview` columns; clients truncate to it. */
  preview: 1000,
  searchDefault: 100,
  searchMax: 500,
  linkToRun: 100,
} as const;

/** V2 StartTrace's request id: a uuid4 hex, as MLflow's `generate_request_id_v2`. */
export function newV2RequestId(): string {
  return newRunId();
}

/**
 * A client-chosen trace id (StartTraceV3) becomes a path segment of the trace's artifact location, so it
 * may not contain `/` nor be `.` or `..` (a Mast check: MLflow takes any id, its clients send `tr-<hex>`).
 */
export function validateTraceId(traceId: string): void {
  if (traceId.includes('/') || traceId === '.' || traceId === '..') {
    throw MlflowError.invalidParameter(
      `Invalid trace ID '${traceId}': it is a path segment of the trace's artifact location.`,
    );
  }
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * A protobuf Timestamp in its JSON form (RFC 3339, e.g. "2025-02-03T04:05:06.789Z", any offset) as
 * milliseconds since the epoch, sub-millisecond digits dropped (protobuf's `ToMilliseconds`).
 */
export function parseTimestamp(text: string, path: string): number {
  const match = TIMESTAMP.exec(text);
  const invalid = () =>
    MlflowError.invalidParameter(
      `Invalid value '${text}' for parameter '${path}': not an RFC 3339 timestamp.`,
    );
  if (!match) throw invalid();
  const [, y, mo, d, h, mi, s, fraction, zone, zh, zm] = match;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0..99 as 1900..1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s));
  if (
    date.getUTCDate() !== Number(d) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi)
  ) {
    throw invalid();
  }
  const ms = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const offsetMinutes =
    zone.toUpperCase() === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zh) * 60 + Number(zm));
  return date.getTime() + ms - offsetMinutes * 60_000;
}

/** The range of a protobuf Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z, in ms. */
const TIMESTAMP_RANGE = { min: -62_135_596_800_000, max: 253_402_300_799_999 } as const;

/**
 * A start time given in milliseconds (V2's `timestamp_ms`): it must fit a protobuf Timestamp, as V3
 * answers write it as one.
 */
export function checkRequestTime(ms: number, path: string): number {
  if (ms < TIMESTAMP_RANGE.min || ms > TIMESTAMP_RANGE.max) {
    throw MlflowError.invalidParameter(
      `Invalid value ${ms} for parameter '${path}': not a time between the years 1 and 9999.`,
    );
  }
  return ms;
}

/** Milliseconds since the epoch as protobuf writes a Timestamp: "2025-02-03T04:05:06.789Z", "…:06Z". */
export function formatTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
}

const DURATION = /^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$/;

/** A protobuf Duration in its JSON form ("1.500s", "-2s") as milliseconds (sub-ms digits dropped). */
export function parseDuration(text: string, path: string): number {
  const match = DURATION.exec(text);
  if (!match) {
    throw MlflowError.invalidParameter(`Invalid value '${text}' for parameter '${path}': not a duration.`);
  }
  const [, sign, seconds, fraction] = match;
  const ms =
    Number(seconds) * 1000 + (fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3)));
  return sign ? -ms : ms;
}

/** Milliseconds as protobuf writes a Duration: "1.500s", "2s", "0s", "-0.250s". */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const seconds = Math.floor(abs / 1000);
  const rest = abs % 1000;
  return rest === 0 ? `${sign}${seconds}s` : `${sign}${seconds}.${String(rest).padStart(3, '0')}s`;
}

/** A preview as MLflow's column holds it: at most 1000 characters. */
export function truncatePreview(preview: string | undefined): string | undefined {
  return preview === undefined ? undefined : preview.slice(0, TRACE_LIMITS.preview);
}

/**
 * Tags or metadata given with a new trace, truncated as MLflow's `TraceInfo.to_proto` truncates them
 * (`_truncate_tags`, `_truncate_request_metadata`); a key repeated after truncation keeps its last value.
 */
export function truncateEntries(
  entries: Record<string, string>,
  limits: { key: number; value: number },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries))
    out[key.slice(0, limits.key)] = value.slice(0, limits.value);
  return out;
}

/**
 * SetTraceTag's rules (MLflow's `_validate_trace_tag`): the tag-key rules of runs (≤ 250 characters, safe
 * characters, path-stable), and a value cut to 8000 characters rather than rejected. A key breaking the
 * character or path rules is reported as MLflow's `invalid_value` reports it (`Invalid value "../" for
 * parameter 'key' supplied`, `tests/store/tracking/sqlalchemy_store/test_sqlalchemy_store_traces.py`).
 */
export function validatedTraceTag(key: string, value: string): { key: string; value: string } {
  try {
    validateKey('tag', key);
  } catch (error) {
    // Too long: MLflow's own "'key' exceeds the maximum length of 250 characters" message, kept.
    if (!(error instanceof MlflowError) || key.length > TRACE_LIMITS.tagKey) throw error;
    const prefix = `Invalid tag name: '${key}'. `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    throw MlflowError.invalidParameter(
      `Invalid value ${pythonJson(key)} for parameter 'key' supplied: ${reason}`,
    );
  }
  return { key, value: value.slice(0, TRACE_LIMITS.tagValue) };
}

/** What DeleteTraces deletes: the listed traces, or the oldest up to a time (at most `maxTraces`). */
export type TraceDeletion =
  | { kind: 'ids'; traceIds: string[] }
  | { kind: 'older'; maxTimestampMillis: number; maxTraces?: number };

/**
 * DeleteTraces' argument rules, in MLflow's order and words (`AbstractStore.delete_traces`): exactly
 * one of `max_timestamp_millis` and `request_ids`; `max_traces` only with the former, and positive.
 * As MLflow tests `max_timestamp_millis and trace_ids` by truthiness, a `max_timestamp_millis` of 0 sent
 * with ids is not a conflict: the ids are deleted.
 */
export function traceDeletion(input: {
  maxTimestampMillis?: number;
  maxTraces?: number;
  traceIds: string[];
}): TraceDeletion {
  const { maxTimestampMillis, maxTraces, traceIds } = input;
  if (maxTimestampMillis === undefined && traceIds.length === 0) {
    throw MlflowError.invalidParameter('Either `max_timestamp_millis` or `trace_ids` must be specified.');
  }
  if (maxTimestampMillis !== undefined && maxTimestampMillis !== 0 && traceIds.length > 0) {
    throw MlflowError.invalidParameter(
      'Only one of `max_timestamp_millis` and `trace_ids` can be specified.',
    );
  }
  if (traceIds.length > 0 && maxTraces !== undefined) {
    throw MlflowError.invalidParameter("`max_traces` can't be specified if `trace_ids` is specified.");
  }
  if (maxTraces !== undefined && maxTraces <= 0) {
    throw MlflowError.invalidParameter(`\`max_traces\` must be a positive integer, received ${maxTraces}.`);
  }
  return traceIds.length > 0
    ? { kind: 'ids', traceIds }
    : { kind: 'older', maxTimestampMillis: maxTimestampMillis!, maxTraces };
}

/** LinkTracesToRun's bound (MLflow's SQL store). */
export function validateLinkCount(count: number): void {
  if (count > TRACE_LIMITS.linkToRun) {
    throw MlflowError.invalidParameter(
      `Cannot link more than ${TRACE_LIMITS.linkToRun} traces to a run in a single request. Provided ${count} traces.`,
    );
  }
}

/** Tag listing the prompt versions linked to a trace, a JSON list of `{"name", "version"}` (MLflow's `TraceTagKey.LINKED_PROMPTS`). */
export const LINKED_PROMPTS_TAG = 'mlflow.linkedPrompts';

/** One prompt version of LinkPromptsToTrace (MLflow's `PromptVersionRef`): the version as a decimal integer. */
export interface PromptVersionRef {
  name: string;
  version: string;
}

const PYTHON_INT = /^\s*[+-]?\d+\s*$/;

/**
 * A PromptVersionRef's `version` as MLflow's handler reads it (`int(pv.version)`), written back in
 * decimal ("07" → "7"). Not an integer: 400 INVALID_PARAMETER_VALUE naming `path` (MLflow fails with
 * an uncaught ValueError, a 500).
 */
export function promptVersionNumber(text: string, path: string): string {
  if (!PYTHON_INT.test(text)) {
    throw invalidParameter(path, text, ' Hint: A prompt version is an integer.');
  }
  return BigInt(text.trim()).toString();
}

/** Python's `{"name": n, "version": v} == entry`: a dict of exactly those two keys and values. */
function isRef(entry: unknown, ref: PromptVersionRef): boolean {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return false;
  const keys = Object.keys(entry);
  const { name, version } = entry as Record<string, unknown>;
  return keys.length === 2 && name === ref.name && version === ref.version;
}

/**
 * The `mlflow.linkedPrompts` tag with `prompts` merged in, as MLflow's `update_linked_prompts_tag`
 * writes it (`json.dumps` of the list, new entries appended in order, entries present already skipped;
 * a version listed twice in one request is added once); `current` itself when nothing is new. Other
 * entries of the list are kept as they are. A current value that is not a JSON list is 400
 * INVALID_PARAMETER_VALUE with MLflow's messages; a result longer than a tag value (8000 characters)
 * is 400 too, rather than a truncated, unreadable list.
 */
export function mergeLinkedPrompts(
  current: string | undefined,
  prompts: readonly PromptVersionRef[],
): string | undefined {
  let links: unknown[] = [];
  if (current !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(current);
    } catch {
      throw MlflowError.invalidParameter(`Invalid JSON format for '${LINKED_PROMPTS_TAG}' tag: ${current}`);
    }
    if (!Array.isArray(parsed)) {
      throw MlflowError.invalidParameter(`Invalid format for '${LINKED_PROMPTS_TAG}' tag: ${current}`);
    }
    links = parsed;
  }
  const added = prompts.filter(
    (ref, i) => !links.some((entry) => isRef(entry, ref)) && prompts.findIndex((p) => isRef(p, ref)) === i,
  );
  if (added.length === 0) return current;
  const value = pythonJsonDumps([
    ...(links as JsonValue[]),
    ...added.map(({ name, version }) => ({ name, version })),
  ]);
  if (value.length > TRACE_LIMITS.tagValue) {
    throw MlflowError.invalidParameter(
      `Linking these prompt versions would make tag '${LINKED_PROMPTS_TAG}' ${value.length} characters long; a tag value holds at most ${TRACE_LIMITS.tagValue}.`,
    );
  }
  return value;
}

/** Where MLflow's server proxies artifacts: the path of an artifact under this route is its store path. */
const ARTIFACT_PROXY_ROUTE = '/api/2.0/mlflow-artifacts/artifacts/';
/** The file the client uploads a trace's spans to, in its artifact location (`TRACE_DATA_FILE_NAME`). */
export const TRACE_DATA_FILE = 'traces.json';

/**
 * Where the artifact service serves a trace's `traces.json` as the web UI's span download, given its
 * `mlflow.artifactLocation`: the proxy route, with `?trace_data=true`, for `mlflow-artifacts:`
 * locations and `http(s)` URLs of the proxy's route (MLflow's `_is_servable_proxied_run_artifact_root`
 * and `_get_proxied_run_artifact_destination_path`). Undefined for storage the server does not proxy
 * (s3://, file:, ...).
 */
export function traceDataProxyPath(artifactLocation: string): string | undefined {
  const proxied =
    /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/i.exec(artifactLocation)?.[1] ??
    (/^https?:\/\//i.test(artifactLocation) && artifactLocation.includes(ARTIFACT_PROXY_ROUTE)
      ? artifactLocation.split(ARTIFACT_PROXY_ROUTE)[1]!.replace(/^\/+/, '')
      : undefined);
  if (proxied === undefined) return undefined;
  const segments = [...proxied.split('/').filter((s) => s !== ''), TRACE_DATA_FILE];
  return `${ARTIFACT_PROXY_ROUTE}${segments.map(encodeURIComponent).join('/')}?${TRACE_DATA_QUERY}=true`;
}
