import type { Int64 } from '@mast/common';
import type { Generated, Kysely } from 'kysely';

/** Table types of the `tracking` schema: the one source for row shapes (see migrations/). */
export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

/** An experiment row as read (the id is generated on insert, always present once stored). */
export type ExperimentRow = Omit<ExperimentsTable, 'experiment_id'> & { experiment_id: number };

export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface RunsTable {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
  deleted_time: number | null;
}

export interface KeyValueTable {
  run_uuid: string;
  key: string;
  value: string;
}

/** Every logged point; the primary key starts with run_uuid so the table can be distributed by run. */
export interface MetricsTable {
  run_uuid: string;
  key: string;
  /** int64: a bigint beyond 2^53 (see `parseInt8`). */
  step: Int64;
  timestamp: Int64;
  value: number;
  model_id: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
}

/**
 * The run's latest value per key, max by (step, timestamp, value): a view over the chunk summaries
 * (migration 0005), read per run (`where run_uuid = ...`); listing never reads history.
 */
export interface LatestMetricsTable {
  run_uuid: string;
  key: string;
  /** int64: a bigint beyond 2^53 (see `parseInt8`). */
  step: Int64;
  timestamp: Int64;
  value: number;
}

export interface DatasetsTable {
  dataset_uuid: string;
  experiment_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export interface DatasetInputsTable {
  run_uuid: string;
  dataset_uuid: string;
  /** The input's tags as a JSON list of {key, value}. */
  tags: string;
  /** The `mlflow.data.context` input tag, kept apart for search. */
  context: string | null;
}

export interface RunModelInputsTable {
  run_uuid: string;
  model_id: string;
}

export interface RunModelOutputsTable {
  run_uuid: string;
  model_id: string;
  step: number;
}

export interface LoggedModelsTable {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  status: string;
  lifecycle_stage: string;
  model_type: string | null;
  source_run_id: string | null;
  status_message: string | null;
}

export interface LoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}

export interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  /** int64: a bigint beyond 2^53 (see `parseInt8`). */
  step: Int64;
  timestamp: Int64;
  value: number;
  run_uuid: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
}

/** A saved page state of the web UI (migration 0006); `name` null for the UI's short links. */
export interface SavedViewsTable {
  view_id: string;
  page: string;
  experiment_id: number | null;
  state: string;
  name: string | null;
  description: string;
  owner: string;
  shared: boolean;
  creation_time: number;
  last_update_time: number;
}

/** A trace's info (migration 0008); times in milliseconds, `state` OK / ERROR / IN_PROGRESS. */
export interface TracesTable {
  trace_id: string;
  experiment_id: number;
  client_request_id: string | null;
  request_time: number;
  execution_duration: number | null;
  state: string;
  request_preview: string | null;
  response_preview: string | null;
}

/** A trace's tags or metadata: one value per key. */
export interface TraceKeyValueTable {
  trace_id: string;
  key: string;
  value: string;
}

/** A trace linked to a run (LinkTracesToRun). */
export interface TraceRunsTable {
  trace_id: string;
  run_uuid: string;
}

/**
 * An assessment of a trace (migration 0009); times in milliseconds. `value` is JSON text, `error` the
 * JSON of `{error_code, error_message, stack_trace}` (feedback only), `metadata` a JSON object of strings.
 */
export interface AssessmentsTable {
  assessment_id: string;
  trace_id: string;
  seq: Generated<number>;
  name: string;
  assessment_type: 'feedback' | 'expectation';
  value: string;
  error: string | null;
  create_time: number;
  last_update_time: number;
  source_type: string;
  source_id: string | null;
  run_id: string | null;
  span_id: string | null;
  rationale: string | null;
  overrides: string | null;
  valid: boolean;
  metadata: string | null;
}

/** A registered scorer (migration 0010): a name in an experiment; its versions are `ScorerVersionsTable`. */
export interface ScorersTable {
  scorer_id: string;
  experiment_id: number;
  scorer_name: string;
}

/** One registration of a scorer: its version (1, 2, ... per scorer), JSON text, time in milliseconds. */
export interface ScorerVersionsTable {
  scorer_id: string;
  scorer_version: number;
  serialized_scorer: string;
  creation_time: number;
}

export interface TrackingDatabase {
  'tracking.experiments': ExperimentsTable;
  'tracking.experiment_tags': ExperimentTagsTable;
  'tracking.runs': RunsTable;
  'tracking.params': KeyValueTable;
  'tracking.tags': KeyValueTable;
  'tracking.metrics': MetricsTable;
  'tracking.latest_metrics': LatestMetricsTable;
  'tracking.datasets': DatasetsTable;
  'tracking.dataset_inputs': DatasetInputsTable;
  'tracking.run_model_inputs': RunModelInputsTable;
  'tracking.run_model_outputs': RunModelOutputsTable;
  'tracking.logged_models': LoggedModelsTable;
  'tracking.logged_model_params': LoggedModelKeyValueTable;
  'tracking.logged_model_tags': LoggedModelKeyValueTable;
  'tracking.logged_model_metrics': LoggedModelMetricsTable;
  'tracking.saved_views': SavedViewsTable;
  'tracking.traces': TracesTable;
  'tracking.trace_tags': TraceKeyValueTable;
  'tracking.trace_metadata': TraceKeyValueTable;
  'tracking.trace_runs': TraceRunsTable;
  'tracking.assessments': AssessmentsTable;
  'tracking.scorers': ScorersTable;
  'tracking.scorer_versions': ScorerVersionsTable;
}

/**
 * What store functions run their SQL on: the pool, or the caller's transaction (Kysely's `Transaction`
 * is a `Kysely`), so a service decides which writes commit together.
 */
export type TrackingExecutor = Kysely<TrackingDatabase>;
