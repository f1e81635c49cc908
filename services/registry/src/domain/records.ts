/** A key and its value (a registered-model or model-version tag). */
export interface KeyValue {
  key: string;
  value: string;
}

/** The internal stage of a deleted version (never shown; such versions are invisible). */
export const STAGE_DELETED_INTERNAL = 'Deleted_Internal';

/** A model version as the registry stores it (numbers as numbers; the wire renders them). */
export interface ModelVersionRecord {
  name: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string | null;
  currentStage: string;
  description: string | null;
  source: string;
  /** Where the files are when it differs from `source` (a resolved `models:/` source). */
  storageLocation: string | null;
  runId: string | null;
  runLink: string | null;
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  statusMessage: string | null;
  modelId: string | null;
  tags: KeyValue[];
  aliases: string[];
}

/** A registered model with its tags, aliases and newest version per stage. */
export interface RegisteredModelRecord {
  name: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string | null;
  description: string | null;
  tags: KeyValue[];
  aliases: Array<{ alias: string; version: number }>;
  latestVersions: ModelVersionRecord[];
}

/** One stage transition or alias change (Mast's history; MLflow keeps none). */
export interface HistoryRecord {
  kind: 'STAGE_TRANSITION' | 'ALIAS_SET' | 'ALIAS_DELETED';
  name: string;
  version: number | null;
  from: string | null;
  to: string | null;
  alias: string | null;
  actor: string | null;
  reason: string | null;
  timestamp: number;
}

/** The last value per key, in first-seen key order (the last write of a key in a request wins). */
export function lastValuePerKey(items: readonly KeyValue[]): KeyValue[] {
  const byKey = new Map<string, string>();
  for (const item of items) byKey.set(item.key, item.value);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** The tag marking a registered model (or version) as a prompt of MLflow 3's prompt registry. */
export const IS_PROMPT_TAG = 'mlflow.prompt.is_prompt';
