/**
 * Rules of MLflow's trace assessments without I/O (spec §1.6): what CreateAssessment stores from a
 * request and what UpdateAssessment changes, as MLflow's entities (`mlflow/entities/assessment.py`,
 * `assessment_error.py`, `assessment_source.py`) and its SQL store (`create_assessment`,
 * `update_assessment`) decide, with MLflow's messages; the update mask's JSON form; the JSON text of
 * expectation values. Bad input raises `MlflowError` INVALID_PARAMETER_VALUE.
 */
import { invalidParameter, MlflowError } from '@mast/common';
import { newRunId } from './ids.js';

/** AssessmentSource.SourceType, in enum order (numbers 0..3). */
export const ASSESSMENT_SOURCE_TYPES = ['SOURCE_TYPE_UNSPECIFIED', 'HUMAN', 'LLM_JUDGE', 'CODE'] as const;
export type AssessmentSourceType = (typeof ASSESSMENT_SOURCE_TYPES)[number];

/** Metadata naming the run an assessment was made in (MLflow's `AssessmentMetadataKey.SOURCE_RUN_ID`). */
export const SOURCE_RUN_ID_METADATA = 'mlflow.assessment.sourceRunId';

/** The only serialization format of expectation values MLflow reads (`_JSON_SERIALIZATION_FORMAT`). */
export const JSON_FORMAT = 'JSON_FORMAT';

/** A google.protobuf.Value: any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface AssessmentError {
  errorCode: string;
  errorMessage: string | null;
  stackTrace: string | null;
}

/** What an assessment says: a feedback (a value, or null with an error) or an expectation (never null). */
export type AssessmentValue =
  | { kind: 'feedback'; value: JsonValue; error: AssessmentError | null }
  | { kind: 'expectation'; value: JsonValue };

/** An assessment as stored; times in milliseconds. */
export interface AssessmentRecord {
  assessmentId: string;
  traceId: string;
  name: string;
  source: { type: AssessmentSourceType; id: string | null };
  createTime: number;
  lastUpdateTime: number;
  value: AssessmentValue;
  /** Feedback only: MLflow's expectations have none. */
  rationale: string | null;
  /** Null when empty. */
  metadata: Record<string, string> | null;
  spanId: string | null;
  /** From metadata `mlflow.assessment.sourceRunId` at creation; not on the wire. */
  runId: string | null;
  overrides: string | null;
  valid: boolean;
}

/** CreateAssessment's assessment as read from the request: absent strings are null, unset times 0. */
export type AssessmentDraft = Pick<
  AssessmentRecord,
  'name' | 'source' | 'createTime' | 'lastUpdateTime' | 'value' | 'rationale' | 'spanId' | 'overrides'
> & { metadata: Record<string, string> };

/** What UpdateAssessment changes: the fields its mask names (MLflow's `update_assessment` arguments). */
export interface AssessmentUpdate {
  name?: string;
  value?: AssessmentValue;
  rationale?: string;
  metadata?: Record<string, string>;
}

/**
 * Widths of the bounded columns of MLflow's `assessments` table (`SqlAssessments` in
 * `mlflow/store/tracking/dbmodels/models.py`: `name` and `source_id` String(250), `span_id` String(50),
 * `run_id` String(32); `value`, `error`, `rationale` and metadata are Text). MLflow checks none of
 * them: SQLite keeps longer values whole, PostgreSQL and MySQL refuse them with a database error that
 * MLflow answers as 400 BAD_REQUEST carrying the driver's text. Mast refuses them as bad input.
 * (`overrides`, String(50), needs no bound: it must name an assessment of the trace, so a longer one
 * is MLflow's 404 before anything is written.)
 */
export const ASSESSMENT_LIMITS = { name: 250, sourceId: 250, spanId: 50, runId: 32 } as const;

/**
 * Refuses an assessment that MLflow's database could not store: a bounded column's value longer
 * than its width (`ASSESSMENT_LIMITS`), counted in characters (code points) as SQL counts them.
 * Raises INVALID_PARAMETER_VALUE "'<request field>' exceeds the maximum length of <n> characters."
 * (the wording of Mast's other length checks) naming the first field too long.
 */
export function checkAssessmentLengths(record: AssessmentRecord): void {
  const fields: Array<[string | null, number, string]> = [
    [record.name, ASSESSMENT_LIMITS.name, 'assessment.assessment_name'],
    [record.source.id, ASSESSMENT_LIMITS.sourceId, 'assessment.source.source_id'],
    [record.spanId, ASSESSMENT_LIMITS.spanId, 'assessment.span_id'],
    [record.runId, ASSESSMENT_LIMITS.runId, `assessment.metadata.${SOURCE_RUN_ID_METADATA}`],
  ];
  for (const [value, limit, path] of fields) {
    // A string has at most as many code points as UTF-16 units: only a long one is spread to count.
    if (value !== null && value.length > limit && [...value].length > limit) {
      throw MlflowError.invalidParameter(`'${path}' exceeds the maximum length of ${limit} characters.`);
    }
  }
}

/** MLflow's `generate_assessment_id`: "a-" and a uuid4's 32 hex digits. */
export function newAssessmentId(): string {
  return `a-${newRunId()}`;
}

/**
 * A JSON value of a request as protobuf's Value parser reads it: integers beyond 2^53 (which the body
 * parser keeps as `bigint`) become doubles; undefined stays undefined (the field is absent).
 */
export function toJsonValue(raw: unknown): JsonValue | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'bigint') return Number(raw);
  if (Array.isArray(raw)) return raw.map((item) => toJsonValue(item) ?? null);
  if (raw !== null && typeof raw === 'object') {
    return Object.fromEntries(
      Object.entries(raw as Record<string, unknown>).map(([key, item]) => [key, toJsonValue(item) ?? null]),
    );
  }
  return raw as JsonValue;
}

/** A feedback: a value, or an error instead (MLflow's `Feedback.__init__`); a null value is no value. */
export function feedbackValue(value: JsonValue | undefined, error: AssessmentError | null): AssessmentValue {
  if ((value === undefined || value === null) && error === null) {
    throw MlflowError.invalidParameter('Either `value` or `error` must be provided.');
  }
  return { kind: 'feedback', value: value ?? null, error };
}

/**
 * An expectation from its wire forms (MLflow's `ExpectationValue.from_proto`): `serialized_value`, when
 * given, wins and must be JSON_FORMAT text; the value may not be null (`Expectation.__init__`).
 * `path` names the serialized text in errors (MLflow's `json.loads` would fail with a 500 there).
 */
export function expectationValue(
  value: JsonValue | undefined,
  serialized: { format: string; text: string } | undefined,
  path: string,
): AssessmentValue {
  let parsed = value;
  if (serialized) {
    if (serialized.format !== JSON_FORMAT) {
      throw MlflowError.invalidParameter(
        `Unknown serialization format: ${serialized.format}. Only JSON_FORMAT is supported.`,
      );
    }
    try {
      parsed = JSON.parse(serialized.text) as JsonValue;
    } catch {
      throw invalidParameter(path, serialized.text, 'Hint: it is not JSON text.');
    }
  }
  if (parsed === undefined || parsed === null) {
    throw MlflowError.invalidParameter('The `value` field must be specified.');
  }
  return { kind: 'expectation', value: parsed };
}

/**
 * The assessment CreateAssessment stores (MLflow's `Feedback.from_proto` / `Expectation.from_proto`
 * and `SqlAssessments.from_mlflow_entity`): a new id; times not given (0) are now; an expectation keeps
 * neither rationale nor `overrides`; empty metadata is none; the run comes from metadata
 * `mlflow.assessment.sourceRunId`; a new assessment is valid.
 */
export function newAssessment(traceId: string, draft: AssessmentDraft, now: number): AssessmentRecord {
  const feedback = draft.value.kind === 'feedback';
  const metadata = Object.keys(draft.metadata).length > 0 ? draft.metadata : null;
  return {
    assessmentId: newAssessmentId(),
    traceId,
    name: draft.name,
    source: draft.source,
    createTime: draft.createTime || now,
    lastUpdateTime: draft.lastUpdateTime || now,
    value: draft.value,
    rationale: feedback ? draft.rationale : null,
    metadata,
    spanId: draft.spanId,
    runId: metadata?.[SOURCE_RUN_ID_METADATA] ?? null,
    overrides: feedback ? draft.overrides : null,
    valid: true,
  };
}

/**
 * An assessment after UpdateAssessment (MLflow's SQL `update_assessment`): a feedback's value may not
 * become an expectation's nor the reverse; metadata is merged (the update's keys win); an expectation's
 * rationale is dropped; id, trace, source, span, creation time, run, `overrides` and validity stay;
 * the update time is now. A name longer than its column is refused after those checks, where MLflow's
 * database would refuse the UPDATE (`checkAssessmentLengths`).
 */
export function updatedAssessment(
  existing: AssessmentRecord,
  update: AssessmentUpdate,
  now: number,
): AssessmentRecord {
  const kind = existing.value.kind;
  if (update.value?.kind === 'expectation' && kind !== 'expectation') {
    throw MlflowError.invalidParameter('Cannot update expectation value on a Feedback assessment.');
  }
  if (update.value?.kind === 'feedback' && kind !== 'feedback') {
    throw MlflowError.invalidParameter('Cannot update feedback value on an Expectation assessment.');
  }
  const merged = { ...existing.metadata, ...update.metadata };
  const updated = {
    ...existing,
    name: update.name ?? existing.name,
    value: update.value ?? existing.value,
    rationale: kind === 'feedback' ? (update.rationale ?? existing.rationale) : null,
    metadata: Object.keys(merged).length > 0 ? merged : null,
    lastUpdateTime: now,
  };
  checkAssessmentLengths(updated);
  return updated;
}

/**
 * The paths of an update mask in its JSON form (google.protobuf.FieldMask: comma-separated camelCase
 * paths, "assessmentName,feedback", as MLflow's client sends it) in snake_case. As protobuf's parser,
 * a path holding `_` is refused.
 */
export function parseUpdateMask(mask: string): string[] {
  return mask.split(',').map((path) => {
    if (path.includes('_')) {
      throw invalidParameter(
        'update_mask',
        mask,
        `Fail to parse FieldMask: Path name ${path} must not contain "_"s.`,
      );
    }
    return path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  });
}

/** Whether an expectation's value travels as `value` (strings, numbers, booleans) or serialized. */
export function isScalar(value: JsonValue): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * A value as Python's `json.dumps` writes it with its defaults (MLflow serializes expectation values
 * so): `", "` and `": "` separators, keys in their order, characters outside printable ASCII escaped.
 * Numbers are written as JavaScript writes them (`1`, never Python's `1.0`).
 */
export function pythonJsonDumps(value: JsonValue): string {
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([key, item]) => `${pythonJsonDumps(key)}: ${pythonJsonDumps(item)}`,
    );
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value);
}

const STACK_TRACE_TRUNCATION_PREFIX = '[Stack trace is truncated]\n...\n';
const STACK_TRACE_MAX = 10000;

/** A stack trace as MLflow's `AssessmentError.to_proto` writes it: past 10000 characters, its end. */
export function truncatedStackTrace(trace: string): string {
  if (trace.length <= STACK_TRACE_MAX) return trace;
  return (
    STACK_TRACE_TRUNCATION_PREFIX + trace.slice(-(STACK_TRACE_MAX - STACK_TRACE_TRUNCATION_PREFIX.length))
  );
}
