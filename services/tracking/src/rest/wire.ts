import { type Int64, nonEmpty } from '@mast/common';
import type {
  Assessment,
  DatasetInput,
  DatasetSummary,
  Experiment,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  MetricWithRunId,
  Run,
  RunInfo,
  RunStatus,
  TraceInfo,
  TraceInfoV3,
  TraceStatus,
} from '@mast/proto';
import {
  type AssessmentRecord,
  isScalar,
  JSON_FORMAT,
  pythonJsonDumps,
  truncatedStackTrace,
} from '../domain/assessments.js';
import type {
  DatasetInputRecord,
  DatasetSummaryRecord,
  ExperimentRecord,
  LoggedModelRecord,
  MetricRecord,
  RunInfoRecord,
  RunRecord,
} from '../domain/records.js';
import { formatDuration, formatTimestamp, type TraceRecord } from '../domain/traces.js';

/**
 * An int64 field (metric step, timestamp). The generated proto types say `number`; beyond 2^53 the value
 * is a `bigint`, which `toWireJson` (the tracking routes' serializer) writes as a JSON integer exactly.
 */
function int64(value: Int64): number {
  return value as number;
}

/**
 * Records as MLflow's REST API writes them (protobuf JSON): ids as strings, empty lists omitted. Which
 * scalar fields appear follows MLflow's `to_proto` (mlflow/entities/*.py): a field it assigns
 * unconditionally is written even when empty or 0 (`user_id: ""`, `step: 0`); a field it assigns only
 * `if value:` is left out when empty or 0 (`end_time`, a metric's `model_id`, a dataset's `schema`).
 * `store/run-store.ts` builds the same JSON in SQL for `runs/search` and `metrics/get-history`.
 */
export function toWireExperiment(record: ExperimentRecord): Experiment {
  return {
    experiment_id: String(record.experimentId),
    name: record.name,
    artifact_location: record.artifactLocation,
    lifecycle_stage: record.lifecycleStage,
    last_update_time: record.lastUpdateTime || undefined,
    creation_time: record.creationTime || undefined,
    tags: nonEmpty(record.tags),
  };
}

export function toWireRunInfo(info: RunInfoRecord): RunInfo {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.name,
    experiment_id: String(info.experimentId),
    user_id: info.userId,
    status: info.status as RunStatus,
    start_time: info.startTime,
    end_time: info.endTime || undefined,
    artifact_uri: info.artifactUri || undefined,
    lifecycle_stage: info.lifecycleStage,
  };
}

export function toWireRun(record: RunRecord): Run {
  const run: Run = {
    info: toWireRunInfo(record.info),
    data: {
      metrics: nonEmpty(record.latestMetrics.map(toWireMetric)),
      params: nonEmpty(record.params),
      tags: nonEmpty(record.tags),
    },
    inputs: {
      dataset_inputs: nonEmpty(record.datasetInputs.map(toWireDatasetInput)),
      model_inputs: nonEmpty(record.modelInputs.map((model_id) => ({ model_id }))),
    },
  };
  if (record.modelOutputs !== undefined) {
    run.outputs = {
      model_outputs: nonEmpty(record.modelOutputs.map((o) => ({ model_id: o.modelId, step: o.step }))),
    };
  }
  return run;
}

export function toWireMetric(metric: MetricRecord): Metric {
  return {
    key: metric.key,
    value: metric.value,
    timestamp: int64(metric.timestamp),
    step: int64(metric.step),
    model_id: metric.modelId || undefined,
    dataset_name: metric.datasetName || undefined,
    dataset_digest: metric.datasetDigest || undefined,
  };
}

/** A point of `get-history-bulk-interval` / the UI's bulk history: the run it belongs to, no model. */
export function toWireMetricWithRunId(metric: MetricRecord): MetricWithRunId {
  return {
    key: metric.key,
    value: metric.value,
    timestamp: int64(metric.timestamp),
    step: int64(metric.step),
    run_id: metric.runId,
  };
}

function toWireDatasetInput(input: DatasetInputRecord): DatasetInput {
  return {
    tags: nonEmpty(input.tags),
    dataset: {
      name: input.name,
      digest: input.digest,
      source_type: input.sourceType,
      source: input.source,
      schema: input.schema || undefined,
      profile: input.profile || undefined,
    },
  };
}

export function toWireDatasetSummary(summary: DatasetSummaryRecord): DatasetSummary {
  return {
    experiment_id: String(summary.experimentId),
    name: summary.name,
    digest: summary.digest,
    context: summary.context || undefined,
  };
}

/**
 * A logged model: `data` always present, its metrics with dataset, model and run. `model_type` and
 * `source_run_id` are written whenever set, even empty (MLflow passes them to the constructor unless
 * None). `status_message` is written when non-empty although MLflow's `to_proto` leaves it out.
 */
export function toWireLoggedModel(record: LoggedModelRecord): LoggedModel {
  return {
    info: {
      model_id: record.modelId,
      experiment_id: String(record.experimentId),
      name: record.name,
      creation_timestamp_ms: record.creationTime,
      last_updated_timestamp_ms: record.lastUpdatedTime,
      artifact_uri: record.artifactLocation,
      status: record.status as LoggedModelStatus,
      model_type: record.modelType ?? undefined,
      source_run_id: record.sourceRunId ?? undefined,
      status_message: record.statusMessage || undefined,
      tags: nonEmpty(record.tags),
    },
    data: {
      params: nonEmpty(record.params),
      metrics: nonEmpty(
        record.metrics.map((m) => ({
          key: m.key,
          value: m.value,
          timestamp: int64(m.timestamp),
          step: int64(m.step),
          dataset_name: m.datasetName || undefined,
          dataset_digest: m.datasetDigest || undefined,
          model_id: m.modelId || undefined,
          run_id: m.runId || undefined,
        })),
      ),
    },
  };
}

/** Map fields are written as JSON objects, left out when empty (protobuf JSON). */
function nonEmptyMap(map: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(map).length > 0 ? map : undefined;
}

/**
 * A trace as MLflow's `TraceInfo.to_proto` writes it (V3): times as a protobuf Timestamp and Duration,
 * `execution_duration`, `client_request_id` and the previews only when set, its assessments (oldest
 * first) when it has any.
 */
export function toWireTraceInfoV3(trace: TraceRecord): TraceInfoV3 {
  return {
    trace_id: trace.traceId,
    client_request_id: trace.clientRequestId ?? undefined,
    trace_location: {
      type: 'MLFLOW_EXPERIMENT',
      mlflow_experiment: { experiment_id: String(trace.experimentId) },
    },
    request_preview: trace.requestPreview ?? undefined,
    response_preview: trace.responsePreview ?? undefined,
    request_time: formatTimestamp(trace.requestTime),
    execution_duration:
      trace.executionDuration === null ? undefined : formatDuration(trace.executionDuration),
    state: trace.state,
    trace_metadata: nonEmptyMap(trace.metadata),
    tags: nonEmptyMap(trace.tags),
    assessments: nonEmpty(trace.assessments.map(toWireAssessment)),
  };
}

/**
 * An assessment as MLflow's `Assessment.to_proto` writes it: name, trace id, source, both times and
 * validity always; span id, rationale and `overrides` only when set; metadata when not empty. A
 * feedback's value is always written (null beside an error); its error has `error_code` always and a
 * stack trace of at most 10000 characters. An expectation's string, number or boolean is its `value`,
 * anything else `serialized_value` JSON text as Python's `json.dumps` writes it.
 */
export function toWireAssessment(record: AssessmentRecord): Assessment {
  const { value } = record;
  return {
    assessment_id: record.assessmentId,
    assessment_name: record.name,
    trace_id: record.traceId,
    span_id: record.spanId ?? undefined,
    source: { source_type: record.source.type, source_id: record.source.id ?? undefined },
    create_time: formatTimestamp(record.createTime),
    last_update_time: formatTimestamp(record.lastUpdateTime),
    feedback:
      value.kind === 'feedback'
        ? {
            value: value.value,
            error: value.error
              ? {
                  error_code: value.error.errorCode,
                  error_message: value.error.errorMessage || undefined,
                  stack_trace: value.error.stackTrace
                    ? truncatedStackTrace(value.error.stackTrace)
                    : undefined,
                }
              : undefined,
          }
        : undefined,
    expectation:
      value.kind === 'expectation'
        ? isScalar(value.value)
          ? { value: value.value }
          : { serialized_value: { serialization_format: JSON_FORMAT, value: pythonJsonDumps(value.value) } }
        : undefined,
    rationale: record.rationale ?? undefined,
    metadata: record.metadata ?? undefined,
    overrides: record.overrides || undefined,
    valid: record.valid,
  };
}

const toKeyValues = (map: Record<string, string>) =>
  Object.entries(map).map(([key, value]) => ({ key, value }));

/**
 * A trace as MLflow's `TraceInfoV2.to_proto` writes it: `execution_time_ms` 0 while unknown, the state
 * as a TraceStatus, metadata and tags as lists of `{key, value}`.
 */
export function toWireTraceInfoV2(trace: TraceRecord): TraceInfo {
  return {
    request_id: trace.traceId,
    experiment_id: String(trace.experimentId),
    timestamp_ms: trace.requestTime,
    execution_time_ms: trace.executionDuration ?? 0,
    status: (trace.state === 'STATE_UNSPECIFIED' ? 'TRACE_STATUS_UNSPECIFIED' : trace.state) as TraceStatus,
    request_metadata: nonEmpty(toKeyValues(trace.metadata)),
    tags: nonEmpty(toKeyValues(trace.tags)),
  };
}
