import { nonEmpty } from '@mast/common';
import type { ModelVersion, ModelVersionStatus, RegisteredModel, RegistryHistoryEntry } from '@mast/proto';
import type { HistoryRecord, ModelVersionRecord, RegisteredModelRecord } from '../domain/records.js';

/** A version as MLflow's proto JSON: `version` a string, empty text and lists omitted. */
export function toWireVersion(record: ModelVersionRecord): ModelVersion {
  return {
    name: record.name,
    version: String(record.version),
    creation_timestamp: record.creationTimestamp,
    last_updated_timestamp: record.lastUpdatedTimestamp,
    user_id: record.userId || undefined,
    current_stage: record.currentStage,
    description: record.description || undefined,
    source: record.source,
    run_id: record.runId || undefined,
    status: record.status as ModelVersionStatus,
    status_message: record.statusMessage || undefined,
    tags: nonEmpty(record.tags),
    run_link: record.runLink || undefined,
    aliases: nonEmpty(record.aliases),
    model_id: record.modelId || undefined,
  };
}

export function toWireModel(record: RegisteredModelRecord): RegisteredModel {
  return {
    name: record.name,
    creation_timestamp: record.creationTimestamp,
    last_updated_timestamp: record.lastUpdatedTimestamp,
    user_id: record.userId || undefined,
    description: record.description || undefined,
    latest_versions: nonEmpty(record.latestVersions.map(toWireVersion)),
    tags: nonEmpty(record.tags),
    aliases: nonEmpty(record.aliases.map((a) => ({ alias: a.alias, version: String(a.version) }))),
  };
}

export function toWireHistory(record: HistoryRecord): RegistryHistoryEntry {
  return {
    kind: record.kind,
    name: record.name,
    version: record.version === null ? undefined : String(record.version),
    from: record.from ?? undefined,
    to: record.to ?? undefined,
    alias: record.alias ?? undefined,
    actor: record.actor ?? undefined,
    reason: record.reason ?? undefined,
    timestamp: record.timestamp,
  };
}
