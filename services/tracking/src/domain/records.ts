import type { Int64 } from '@mast/common';

/** A key and its value: a param, a tag. */
export interface KeyValue {
  key: string;
  value: string;
}

/** A dataset input of `runs/log-inputs`, validated: the dataset and the input's tags. */
export interface NewDatasetInput {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
  tags: KeyValue[];
}

/** The last value per key, in first-seen key order (MLflow: the last write of a key in a request wins). */
export function lastValuePerKey<T extends { key?: string; value?: string }>(items: readonly T[]): KeyValue[] {
  const byKey = new Map<string, string>();
  for (const item of items) byKey.set(item.key ?? '', item.value ?? '');
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** The first input per (name, digest), as MLflow keeps it. */
export function firstPerDataset(datasets: readonly NewDatasetInput[]): NewDatasetInput[] {
  const byIdentity = new Map<string, NewDatasetInput>();
  for (const dataset of datasets) {
    const identity = `${dataset.name}\u0000${dataset.digest}`;
    if (!byIdentity.has(identity)) byIdentity.set(identity, dataset);
  }
  return [...byIdentity.values()];
}

/** An experiment as the services return it. */
export interface ExperimentRecord {
  experimentId: number;
  name: string;
  artifactLocation: string;
  /** `active` or `deleted`. */
  lifecycleStage: string;
  /** Milliseconds since the epoch. */
  creationTime: number;
  lastUpdateTime: number;
  /** Sorted by key. */
  tags: KeyValue[];
}

/** A run's own fields. */
export interface RunInfoRecord {
  runId: string;
  experimentId: number;
  name: string;
  /** '' when no user was given. */
  userId: string;
  /** MLflow's `RunStatus` name. */
  status: string;
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  /** `active` or `deleted`. */
  lifecycleStage: string;
}

/** A metric point: of a run's history, a run's latest value, or a logged model's metrics. */
export interface MetricRecord {
  key: string;
  value: number;
  /** int64 (ms): a number within ±(2^53-1), else a bigint. */
  timestamp: Int64;
  /** int64: a number within ±(2^53-1), else a bigint. */
  step: Int64;
  /** The run the point was logged to, where the reader spans runs. */
  runId?: string;
  modelId?: string;
  datasetName?: string;
  datasetDigest?: string;
}

/** A dataset a run used, with the input's tags (`mlflow.data.context`, ...). */
export interface DatasetInputRecord {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: KeyValue[];
}

/** A run with what was logged to it: latest metric values, params and tags sorted by key. */
export interface RunRecord {
  info: RunInfoRecord;
  latestMetrics: MetricRecord[];
  params: KeyValue[];
  tags: KeyValue[];
  datasetInputs: DatasetInputRecord[];
  modelInputs: string[];
  /** Logged models the run output; undefined where the reader does not fetch them (search). */
  modelOutputs?: Array<{ modelId: string; step: number }>;
}

/** An MLflow 3 logged model with its params, tags (sorted by key) and every metric point. */
export interface LoggedModelRecord {
  modelId: string;
  experimentId: number;
  name: string;
  artifactLocation: string;
  creationTime: number;
  lastUpdatedTime: number;
  /** The proto `LoggedModelStatus` name. */
  status: string;
  modelType: string | null;
  sourceRunId: string | null;
  statusMessage: string | null;
  params: KeyValue[];
  tags: KeyValue[];
  metrics: MetricRecord[];
}

/** A (dataset, context) pair some run of an experiment used, for the UI's dataset filter. */
export interface DatasetSummaryRecord {
  experimentId: number;
  name: string;
  digest: string;
  context: string | null;
}
