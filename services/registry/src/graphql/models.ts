import type { HistoryRecord, ModelVersionRecord, RegisteredModelRecord } from '../domain/records.js';

export type RegisteredModelModel = RegisteredModelRecord;
export type ModelVersionModel = ModelVersionRecord;
export type HistoryModel = HistoryRecord;
/** A tracking `Run` as the registry knows it: its key. */
export interface RunModel {
  id: string;
}
export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}
export interface RegisteredModelEdgeModel {
  cursor: string;
  node: RegisteredModelRecord;
}
export interface RegisteredModelConnectionModel {
  edges: RegisteredModelEdgeModel[];
  nodes: RegisteredModelRecord[];
  pageInfo: PageInfoModel;
}
export interface ModelVersionEdgeModel {
  cursor: string;
  node: ModelVersionRecord;
}
export interface ModelVersionConnectionModel {
  edges: ModelVersionEdgeModel[];
  nodes: ModelVersionRecord[];
  pageInfo: PageInfoModel;
}
export interface ResolvedModelUriModel {
  modelVersion: ModelVersionRecord | null;
  artifactUri: string | null;
  modelId: string | null;
}
