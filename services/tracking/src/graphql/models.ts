import type { RunInfo, DatasetInput as WireDatasetInput, Experiment as WireExperiment } from '@mast/proto';
import type { Bucket, DownsampledSeries, ExperimentRow, Point } from '../store/graph-store.js';
import type { RunsTable } from '../store/schema.js';

/**
 * What the resolvers pass around as the parent of each GraphQL object type (the codegen "mappers"):
 * plain values, with the per-parent fields (tags, metrics, ...) resolved through DataLoaders.
 */
export type LifecycleStageModel = 'ACTIVE' | 'DELETED';

export interface ExperimentModel {
  id: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStageModel;
  creationTime: number;
  lastUpdateTime: number;
}

export interface RunModel {
  id: string;
  name: string;
  experimentId: string;
  userId: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  startTime: number;
  endTime: number | null;
  artifactUri: string;
  lifecycleStage: LifecycleStageModel;
}

export interface KeyValueModel {
  key: string;
  value: string;
}

export interface MetricModel {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface DatasetModel {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export interface DatasetInputModel {
  dataset: DatasetModel;
  tags: KeyValueModel[];
  context: string | null;
}

export interface ConnectionModel<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  totalCount?: () => Promise<number>;
}

export type ExperimentConnectionModel = ConnectionModel<ExperimentModel>;
export type RunConnectionModel = ConnectionModel<RunModel>;

export interface EdgeModel<T> {
  cursor: string;
  node: T;
}

export type ExperimentEdgeModel = EdgeModel<ExperimentModel>;
export type RunEdgeModel = EdgeModel<RunModel>;

export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}

export type MetricSeriesModel = DownsampledSeries;
export type MetricBucketModel = Bucket;
export type MetricPointModel = Point;

export interface StepRangeModel {
  startStep: number;
  endStep: number;
}

export interface ComparedSeriesModel {
  runId: string;
  key: string;
  count: number[];
  min: Array<number | null>;
  max: Array<number | null>;
  last: Array<number | null>;
}

export interface RunComparisonModel {
  buckets: StepRangeModel[];
  series: ComparedSeriesModel[];
}

function stage(value: string | undefined): LifecycleStageModel {
  return value === 'deleted' ? 'DELETED' : 'ACTIVE';
}

export function experimentFromRow(row: ExperimentRow): ExperimentModel {
  return {
    id: String(row.experiment_id),
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: stage(row.lifecycle_stage),
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
  };
}

export function experimentFromWire(experiment: WireExperiment): ExperimentModel {
  return {
    id: experiment.experiment_id ?? '',
    name: experiment.name ?? '',
    artifactLocation: experiment.artifact_location ?? '',
    lifecycleStage: stage(experiment.lifecycle_stage),
    creationTime: Number(experiment.creation_time ?? 0),
    lastUpdateTime: Number(experiment.last_update_time ?? 0),
  };
}

export function runFromRow(row: RunsTable): RunModel {
  return {
    id: row.run_uuid,
    name: row.name,
    experimentId: String(row.experiment_id),
    userId: row.user_id,
    status: row.status as RunModel['status'],
    startTime: Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    artifactUri: row.artifact_uri,
    lifecycleStage: stage(row.lifecycle_stage),
  };
}

export function runFromWire(info: RunInfo): RunModel {
  return {
    id: info.run_id ?? '',
    name: info.run_name ?? '',
    experimentId: info.experiment_id ?? '',
    userId: info.user_id ?? '',
    status: info.status ?? 'RUNNING',
    startTime: Number(info.start_time ?? 0),
    endTime: info.end_time === undefined ? null : Number(info.end_time),
    artifactUri: info.artifact_uri ?? '',
    lifecycleStage: stage(info.lifecycle_stage),
  };
}

export function datasetInputFromWire(input: WireDatasetInput): DatasetInputModel {
  const tags = (input.tags ?? []).map((tag) => ({ key: tag.key ?? '', value: tag.value ?? '' }));
  const dataset = input.dataset ?? {};
  return {
    dataset: {
      name: dataset.name ?? '',
      digest: dataset.digest ?? '',
      sourceType: dataset.source_type ?? '',
      source: dataset.source ?? '',
      schema: dataset.schema ?? null,
      profile: dataset.profile ?? null,
    },
    tags,
    context: tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? null,
  };
}
