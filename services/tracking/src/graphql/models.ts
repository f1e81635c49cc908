import type { Int64 } from '@mast/common';
import type { DatasetInputRecord, ExperimentRecord, RunInfoRecord } from '../domain/records.js';
import type { Bucket, DownsampledSeries, Point } from '../store/graph-store.js';
import type { ExperimentRow, RunsTable } from '../store/schema.js';

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
  /** int64: a bigint beyond 2^53 (the `Long` scalar writes it as a decimal string). */
  timestamp: Int64;
  step: Int64;
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
  startStep: Int64;
  endStep: Int64;
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

export function experimentFromRecord(experiment: ExperimentRecord): ExperimentModel {
  return {
    id: String(experiment.experimentId),
    name: experiment.name,
    artifactLocation: experiment.artifactLocation,
    lifecycleStage: stage(experiment.lifecycleStage),
    creationTime: experiment.creationTime,
    lastUpdateTime: experiment.lastUpdateTime,
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

export function runFromRecord(info: RunInfoRecord): RunModel {
  return {
    id: info.runId,
    name: info.name,
    experimentId: String(info.experimentId),
    userId: info.userId,
    status: info.status as RunModel['status'],
    startTime: info.startTime,
    endTime: info.endTime,
    artifactUri: info.artifactUri,
    lifecycleStage: stage(info.lifecycleStage),
  };
}

export function datasetInputFromRecord(input: DatasetInputRecord): DatasetInputModel {
  return {
    dataset: {
      name: input.name,
      digest: input.digest,
      sourceType: input.sourceType,
      source: input.source,
      schema: input.schema,
      profile: input.profile,
    },
    tags: input.tags,
    context: input.tags.find((tag) => tag.key === 'mlflow.data.context')?.value ?? null,
  };
}
