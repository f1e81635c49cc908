/**
 * SQL of trace assessments (migration 0009). Functions take the pool or the caller's transaction; the
 * service decides what commits together.
 */
import type {
  AssessmentError,
  AssessmentRecord,
  AssessmentSourceType,
  JsonValue,
} from '../domain/assessments.js';
import type { AssessmentsTable, TrackingExecutor } from './schema.js';

type AssessmentRow = Omit<AssessmentsTable, 'seq'>;

/** An error as MLflow's column holds it (`AssessmentError.to_dictionary`). */
function errorJson(error: AssessmentError): string {
  return JSON.stringify({
    error_code: error.errorCode,
    error_message: error.errorMessage,
    stack_trace: error.stackTrace,
  });
}

function errorOf(json: string): AssessmentError {
  const error = JSON.parse(json) as {
    error_code: string;
    error_message: string | null;
    stack_trace: string | null;
  };
  return { errorCode: error.error_code, errorMessage: error.error_message, stackTrace: error.stack_trace };
}

function toRow(record: AssessmentRecord): AssessmentRow {
  const { value } = record;
  return {
    assessment_id: record.assessmentId,
    trace_id: record.traceId,
    name: record.name,
    assessment_type: value.kind,
    value: JSON.stringify(value.value),
    error: value.kind === 'feedback' && value.error ? errorJson(value.error) : null,
    create_time: record.createTime,
    last_update_time: record.lastUpdateTime,
    source_type: record.source.type,
    source_id: record.source.id,
    run_id: record.runId,
    span_id: record.spanId,
    rationale: record.rationale,
    overrides: record.overrides,
    valid: record.valid,
    metadata: record.metadata ? JSON.stringify(record.metadata) : null,
  };
}

function toRecord(row: AssessmentRow): AssessmentRecord {
  const value = JSON.parse(row.value) as JsonValue;
  return {
    assessmentId: row.assessment_id,
    traceId: row.trace_id,
    name: row.name,
    source: { type: row.source_type as AssessmentSourceType, id: row.source_id },
    createTime: row.create_time,
    lastUpdateTime: row.last_update_time,
    value:
      row.assessment_type === 'feedback'
        ? { kind: 'feedback', value, error: row.error ? errorOf(row.error) : null }
        : { kind: 'expectation', value },
    rationale: row.rationale,
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, string>) : null,
    spanId: row.span_id,
    runId: row.run_id,
    overrides: row.overrides,
    valid: row.valid,
  };
}

const COLUMNS = [
  'assessment_id',
  'trace_id',
  'name',
  'assessment_type',
  'value',
  'error',
  'create_time',
  'last_update_time',
  'source_type',
  'source_id',
  'run_id',
  'span_id',
  'rationale',
  'overrides',
  'valid',
  'metadata',
] as const;

export async function insertAssessment(db: TrackingExecutor, record: AssessmentRecord): Promise<void> {
  await db.insertInto('tracking.assessments').values(toRow(record)).execute();
}

/** Writes what UpdateAssessment may change: name, value (and error), rationale, metadata, update time. */
export async function updateAssessment(db: TrackingExecutor, record: AssessmentRecord): Promise<void> {
  const { name, value, error, rationale, metadata, last_update_time } = toRow(record);
  await db
    .updateTable('tracking.assessments')
    .set({ name, value, error, rationale, metadata, last_update_time })
    .where('assessment_id', '=', record.assessmentId)
    .execute();
}

/** Marks an assessment of the trace overridden; false when the trace has no such assessment. */
export async function invalidateAssessment(
  db: TrackingExecutor,
  traceId: string,
  assessmentId: string,
): Promise<boolean> {
  const updated = await db
    .updateTable('tracking.assessments')
    .set({ valid: false })
    .where('trace_id', '=', traceId)
    .where('assessment_id', '=', assessmentId)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Marks an assessment (of any trace) valid again; none is fine. */
export async function restoreAssessment(db: TrackingExecutor, assessmentId: string): Promise<void> {
  await db
    .updateTable('tracking.assessments')
    .set({ valid: true })
    .where('assessment_id', '=', assessmentId)
    .execute();
}

/**
 * One assessment of a trace, or undefined; with `lock`, row-locked against concurrent writers until the
 * transaction ends.
 */
export async function findAssessment(
  db: TrackingExecutor,
  traceId: string,
  assessmentId: string,
  options: { lock?: boolean } = {},
): Promise<AssessmentRecord | undefined> {
  let query = db
    .selectFrom('tracking.assessments')
    .select(COLUMNS)
    .where('trace_id', '=', traceId)
    .where('assessment_id', '=', assessmentId);
  if (options.lock) query = query.forNoKeyUpdate();
  const row = await query.executeTakeFirst();
  return row && toRecord(row);
}

/** Deletes one assessment of a trace: what it overrode (null for none), or undefined when there was none. */
export async function deleteAssessment(
  db: TrackingExecutor,
  traceId: string,
  assessmentId: string,
): Promise<{ overrides: string | null } | undefined> {
  return db
    .deleteFrom('tracking.assessments')
    .where('trace_id', '=', traceId)
    .where('assessment_id', '=', assessmentId)
    .returning('overrides')
    .executeTakeFirst();
}

/**
 * The assessments of the traces, by trace id, each trace's oldest first (creation time, then the order
 * they were stored in): one statement for any number of traces.
 */
export async function assessmentsOfTraces(
  db: TrackingExecutor,
  traceIds: readonly string[],
): Promise<Map<string, AssessmentRecord[]>> {
  const byTrace = new Map<string, AssessmentRecord[]>();
  if (traceIds.length === 0) return byTrace;
  const rows = await db
    .selectFrom('tracking.assessments')
    .select(COLUMNS)
    .where('trace_id', 'in', traceIds)
    .orderBy('trace_id')
    .orderBy('create_time')
    .orderBy('seq')
    .execute();
  for (const row of rows) {
    const list = byTrace.get(row.trace_id) ?? [];
    list.push(toRecord(row));
    byTrace.set(row.trace_id, list);
  }
  return byTrace;
}
