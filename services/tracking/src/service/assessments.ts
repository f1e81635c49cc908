import { inTransaction, MlflowError } from '@mast/common';
import {
  type AssessmentDraft,
  type AssessmentRecord,
  type AssessmentUpdate,
  checkAssessmentLengths,
  newAssessment,
  updatedAssessment,
} from '../domain/assessments.js';
import {
  deleteAssessment,
  findAssessment,
  insertAssessment,
  invalidateAssessment,
  restoreAssessment,
  updateAssessment,
} from '../store/assessment-store.js';
import type { TrackingExecutor } from '../store/schema.js';
import { keyShareLockTrace } from '../store/trace-store.js';
import { traceNotFound } from './traces.js';

/**
 * MLflow's 404 for an assessment `overrides` names that the trace does not have (its SQL store's
 * `create_assessment`, whose message leaves `{trace_id}` unformatted: it is not an f-string there).
 */
function overriddenNotFound(assessmentId: string): MlflowError {
  return MlflowError.notFound(`Assessment with ID '${assessmentId}' not found for trace '{trace_id}'`);
}

/** Assessments of traces (spec §1.6): MLflow's SQL store's create, get, update and delete. */
export class AssessmentService {
  constructor(
    private readonly db: TrackingExecutor,
    private readonly clock: () => number,
  ) {}

  /**
   * CreateAssessment: stores a new assessment of an existing trace. One that `overrides` another
   * assessment of the trace marks that one invalid in the same transaction (404 when the trace has no
   * such assessment, and nothing is written). Fields longer than MLflow's columns are refused after
   * those 404s, where MLflow's INSERT would fail (`checkAssessmentLengths`). The trace is key-share
   * locked, so it is not deleted meanwhile while other assessments of it are created at once.
   */
  create(traceId: string, draft: AssessmentDraft): Promise<AssessmentRecord> {
    const record = newAssessment(traceId, draft, this.clock());
    return inTransaction(this.db, async (tx) => {
      if (!(await keyShareLockTrace(tx, traceId))) throw traceNotFound(traceId);
      if (record.overrides !== null && !(await invalidateAssessment(tx, traceId, record.overrides))) {
        throw overriddenNotFound(record.overrides);
      }
      checkAssessmentLengths(record);
      await insertAssessment(tx, record);
      return record;
    });
  }

  /** GetAssessment: 404 with MLflow's `_get_sql_assessment` messages for an unknown trace or assessment. */
  async get(traceId: string, assessmentId: string): Promise<AssessmentRecord> {
    return (await findAssessment(this.db, traceId, assessmentId)) ?? this.notFound(traceId, assessmentId);
  }

  /**
   * UpdateAssessment: the fields of `update` changed (MLflow's rules in `updatedAssessment`), the update
   * time now. The row is locked while it is read and rewritten, so concurrent updates do not lose
   * each other's metadata.
   */
  update(traceId: string, assessmentId: string, update: AssessmentUpdate): Promise<AssessmentRecord> {
    return inTransaction(this.db, async (tx) => {
      const existing =
        (await findAssessment(tx, traceId, assessmentId, { lock: true })) ??
        (await this.notFound(traceId, assessmentId, tx));
      const updated = updatedAssessment(existing, update, this.clock());
      await updateAssessment(tx, updated);
      return updated;
    });
  }

  /**
   * DeleteAssessment: 404 for an unknown trace; an unknown assessment is no error (MLflow's delete is
   * idempotent). Deleting an assessment that overrode another makes that one valid again, as MLflow does.
   */
  async delete(traceId: string, assessmentId: string): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      if (!(await keyShareLockTrace(tx, traceId))) throw traceNotFound(traceId);
      const deleted = await deleteAssessment(tx, traceId, assessmentId);
      if (deleted?.overrides) await restoreAssessment(tx, deleted.overrides);
    });
  }

  /** MLflow's `_get_sql_assessment` 404s: the trace's own message differs from GetTraceInfo's. */
  private async notFound(traceId: string, assessmentId: string, db = this.db): Promise<never> {
    if (!(await keyShareLockTrace(db, traceId))) {
      throw MlflowError.notFound(`Trace with request_id '${traceId}' not found`);
    }
    throw MlflowError.notFound(`Assessment with ID '${assessmentId}' not found for trace '${traceId}'`);
  }
}
