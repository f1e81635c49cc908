import { inTransaction, MlflowError, retryConflicts } from '@mast/common';
import { experimentNotFound, inactiveExperiment } from '../domain/errors.js';
import { childUri, parseExperimentId } from '../domain/ids.js';
import type { TraceFilter, TraceOrderTerm } from '../domain/trace-search.js';
import {
  ARTIFACT_LOCATION_TAG,
  LINKED_PROMPTS_TAG,
  mergeLinkedPrompts,
  newV2RequestId,
  type PromptVersionRef,
  SCHEMA_VERSION_METADATA,
  TRACE_DATA_FILE,
  TRACE_LIMITS,
  type TraceDeletion,
  type TraceRecord,
  type TraceState,
  traceDataProxyPath,
  truncateEntries,
  truncatePreview,
  validatedTraceTag,
  validateLinkCount,
  validateTraceId,
} from '../domain/traces.js';
import { lockExperimentShared } from '../store/logged-model-store.js';
import type { TracesTable, TrackingExecutor } from '../store/schema.js';
import {
  deleteTraces,
  deleteTraceTag,
  findTrace,
  findTraces,
  finishTrace,
  linkTracesToRun,
  lockTrace,
  searchTraces,
  traceRunLinks,
  traceTagValue,
  upsertTrace,
  upsertTraceKeyValues,
} from '../store/trace-store.js';

/** A trace's info as StartTraceV3 gives it (times in milliseconds). */
export interface TraceInput {
  traceId: string;
  /** Absent: the Default experiment, as MLflow's `get_experiment(None)`. */
  experimentId?: string;
  clientRequestId?: string;
  requestTime: number;
  executionDuration?: number;
  state: TraceState;
  requestPreview?: string;
  responsePreview?: string;
  tags: Record<string, string>;
  metadata: Record<string, string>;
}

const TAG_LIMITS = { key: TRACE_LIMITS.tagKey, value: TRACE_LIMITS.tagValue };
const METADATA_LIMITS = { key: TRACE_LIMITS.metadataKey, value: TRACE_LIMITS.metadataValue };

/** MLflow's 404 for an unknown trace id (its SQL store's `_get_sql_trace_info`, MLflow 3). */
export function traceNotFound(traceId: string): MlflowError {
  return MlflowError.notFound(`Trace with ID '${traceId}' not found.`);
}

/** MLflow traces, V3 and legacy V2 (spec §1.6, §1.7): each command once, whatever the API version. */
export class TraceService {
  constructor(private readonly db: TrackingExecutor) {}

  /**
   * StartTraceV3: stores the trace in an active experiment, stamping `mlflow.artifactLocation`
   * (`<experiment artifact_location>/traces/<trace_id>/artifacts`) as MLflow's `start_trace` does, and
   * the schema version "3" when the client sent none (a version it sent is kept, as MLflow 3's
   * `TraceInfo.from_proto` keeps it). A trace id stored already is merged (its
   * info replaced, tags and metadata merged), as MLflow's store does, so a replayed request is harmless.
   * The experiment is share-locked so it cannot be deleted meanwhile.
   */
  start(input: TraceInput): Promise<TraceRecord> {
    validateTraceId(input.traceId);
    return this.store({
      ...input,
      tags: truncateEntries(input.tags, TAG_LIMITS),
      metadata: { [SCHEMA_VERSION_METADATA]: '3', ...truncateEntries(input.metadata, METADATA_LIMITS) },
    });
  }

  /** V2 StartTrace: a new trace (uuid hex id) IN_PROGRESS, its metadata and tags as given. */
  startV2(input: {
    experimentId?: string;
    timestampMs: number;
    metadata: Record<string, string>;
    tags: Record<string, string>;
  }): Promise<TraceRecord> {
    return this.store({
      traceId: newV2RequestId(),
      experimentId: input.experimentId,
      requestTime: input.timestampMs,
      state: 'IN_PROGRESS',
      tags: truncateEntries(input.tags, TAG_LIMITS),
      metadata: truncateEntries(input.metadata, METADATA_LIMITS),
    });
  }

  /** Stores (or merges) a trace whose tags and metadata are ready, with its artifact location tag. */
  private store(input: TraceInput): Promise<TraceRecord> {
    // No trace location: MLflow's store looks up experiment None and fails, it picks no default.
    const written = input.experimentId ?? 'None';
    const experimentId = parseExperimentId(written);
    if (experimentId === undefined) throw experimentNotFound(written);
    return inTransaction(this.db, async (tx) => {
      const experiment = await lockExperimentShared(tx, experimentId);
      if (!experiment) throw experimentNotFound(written);
      if (experiment.lifecycle_stage !== 'active')
        throw inactiveExperiment(written, experiment.lifecycle_stage);
      const row: TracesTable = {
        trace_id: input.traceId,
        experiment_id: experimentId,
        client_request_id: input.clientRequestId ?? null,
        request_time: input.requestTime,
        execution_duration: input.executionDuration ?? null,
        state: input.state,
        request_preview: truncatePreview(input.requestPreview) ?? null,
        response_preview: truncatePreview(input.responsePreview) ?? null,
      };
      const location = childUri(experiment.artifact_location, `traces/${input.traceId}/artifacts`);
      await upsertTrace(tx, row, { ...input.tags, [ARTIFACT_LOCATION_TAG]: location }, input.metadata);
      return (await findTrace(tx, input.traceId))!;
    });
  }

  /**
   * V2 EndTrace: the duration (`timestampMs` minus the start), the final state, and metadata and tags
   * merged into the trace's.
   */
  end(
    traceId: string,
    input: {
      timestampMs: number;
      state: TraceState;
      metadata: Record<string, string>;
      tags: Record<string, string>;
    },
  ): Promise<TraceRecord> {
    return inTransaction(this.db, async (tx) => {
      const row = await lockTrace(tx, traceId);
      if (!row) throw traceNotFound(traceId);
      await finishTrace(tx, traceId, input.timestampMs - row.request_time, input.state);
      await upsertTraceKeyValues(
        tx,
        'tracking.trace_metadata',
        traceId,
        truncateEntries(input.metadata, METADATA_LIMITS),
      );
      await upsertTraceKeyValues(tx, 'tracking.trace_tags', traceId, truncateEntries(input.tags, TAG_LIMITS));
      return (await findTrace(tx, traceId))!;
    });
  }

  async get(traceId: string): Promise<TraceRecord> {
    const trace = await findTrace(this.db, traceId);
    if (!trace) throw traceNotFound(traceId);
    return trace;
  }

  /** BatchGetTraceInfos: the traces that exist among `traceIds`, in the order asked (unknown ids skipped). */
  async getMany(traceIds: string[]): Promise<TraceRecord[]> {
    const byId = new Map((await findTraces(this.db, traceIds)).map((trace) => [trace.traceId, trace]));
    return [...new Set(traceIds)].flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * The runs each trace was linked to with LinkTracesToRun, sorted, in the order of `traceIds` (none for
   * an unknown trace); GraphQL's `Trace.linkedRunIds`, one statement per batch.
   */
  async linkedRunIds(traceIds: readonly string[]): Promise<string[][]> {
    const byId = new Map<string, string[]>(traceIds.map((id) => [id, []]));
    for (const link of await traceRunLinks(this.db, [...byId.keys()]))
      byId.get(link.trace_id)!.push(link.run_uuid);
    return traceIds.map((id) => byId.get(id)!);
  }

  /** One page of traces of the experiments (ids that name no experiment match nothing). */
  search(search: {
    experimentIds: string[];
    filter: TraceFilter | undefined;
    orderBy: TraceOrderTerm[];
    maxResults: number;
    offset: number;
  }): Promise<{ traces: TraceRecord[]; hasMore: boolean }> {
    const experimentIds = search.experimentIds.map(parseExperimentId).filter((id) => id !== undefined);
    return searchTraces(this.db, { ...search, experimentIds });
  }

  /** DeleteTraces: how many of the experiment's traces were deleted (an unknown experiment has none). */
  async delete(experimentId: string, deletion: TraceDeletion): Promise<number> {
    const id = parseExperimentId(experimentId);
    if (id === undefined) return 0;
    // Deletes by time lock in time order, links in id order: a deadlock between them is retried.
    return retryConflicts(() => deleteTraces(this.db, id, deletion));
  }

  /** Sets (or overwrites) one tag of an existing trace; the key is checked before the trace is looked up. */
  async setTag(traceId: string, key: string, value: string): Promise<void> {
    const tag = validatedTraceTag(key, value);
    await inTransaction(this.db, async (tx) => {
      if (!(await lockTrace(tx, traceId))) throw traceNotFound(traceId);
      await upsertTraceKeyValues(tx, 'tracking.trace_tags', traceId, { [tag.key]: tag.value });
    });
  }

  /** Deletes one tag; as MLflow's store, an unknown trace and an unknown key give the same 404. */
  async deleteTag(traceId: string, key: string): Promise<void> {
    if (!(await deleteTraceTag(this.db, traceId, key))) {
      throw MlflowError.notFound(`No trace tag with key '${key}' for trace with ID '${traceId}'`);
    }
  }

  /**
   * LinkPromptsToTrace: merges the prompt versions into the trace's `mlflow.linkedPrompts` tag (see
   * `mergeLinkedPrompts`), where MLflow clients and its UI read a trace's prompts. MLflow's SQL store
   * records the same links as entity associations and its Python client then writes this tag itself
   * (`update_linked_prompts_tag`); Mast writes the tag on the server, so every client gets it. As MLflow's
   * store, no prompt versions is a no-op (the trace is not looked up), an unknown trace is 404 and the
   * prompts are not looked up in the registry. The trace's row is locked while the tag is read and
   * written: concurrent links of one trace are applied one after the other, none lost.
   */
  async linkPrompts(traceId: string, prompts: readonly PromptVersionRef[]): Promise<void> {
    if (prompts.length === 0) return;
    await inTransaction(this.db, async (tx) => {
      if (!(await lockTrace(tx, traceId))) throw traceNotFound(traceId);
      const current = await traceTagValue(tx, traceId, LINKED_PROMPTS_TAG);
      const merged = mergeLinkedPrompts(current, prompts);
      if (merged !== current) {
        await upsertTraceKeyValues(tx, 'tracking.trace_tags', traceId, { [LINKED_PROMPTS_TAG]: merged! });
      }
    });
  }

  /**
   * Where the artifact service serves the trace's `traces.json` (the web UI's span download, MLflow's
   * `get_trace_artifact_handler`): a path under the artifact proxy's route, whose download answers a
   * missing or empty file with MLflow's 404 NOT_FOUND "Trace data not found for path=...". An unknown
   * trace is 404; a trace without `mlflow.artifactLocation` (its tag deleted) is the 500 INTERNAL_ERROR
   * of MLflow's `get_artifact_uri_for_trace`; a location the server does not proxy (s3://, file:, ...)
   * is 501 NOT_IMPLEMENTED.
   */
  async traceDataPath(traceId: string): Promise<string> {
    const location = (await this.get(traceId)).tags[ARTIFACT_LOCATION_TAG];
    if (location === undefined) {
      throw new MlflowError('INTERNAL_ERROR', 'Unable to determine trace artifact location.');
    }
    const path = traceDataProxyPath(location);
    if (path === undefined) {
      throw new MlflowError(
        'NOT_IMPLEMENTED',
        `The spans of trace '${traceId}' are at '${location}/${TRACE_DATA_FILE}', which this server does not proxy; read them from there.`,
      );
    }
    return path;
  }

  /**
   * LinkTracesToRun: at most 100 ids. As MLflow's store, neither the run nor the traces are checked;
   * ids of traces that do not exist link nothing.
   */
  async linkToRun(traceIds: string[], runId: string): Promise<void> {
    validateLinkCount(traceIds.length);
    if (traceIds.length === 0) return;
    await retryConflicts(() => linkTracesToRun(this.db, traceIds, runId));
  }
}
