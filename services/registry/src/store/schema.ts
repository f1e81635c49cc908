import type { Generated, Kysely } from 'kysely';

/** Table types of the `registry` schema: the one source for row shapes (see migrations/). */
export interface RegisteredModelsTable {
  id: Generated<number>;
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  last_version: Generated<number>;
}

export interface RegisteredModelTagsTable {
  model_id: number;
  key: string;
  value: string;
}

export interface ModelVersionsTable {
  model_id: number;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  current_stage: string;
  source: string;
  storage_location: string | null;
  run_id: string | null;
  run_link: string | null;
  status: string;
  status_message: string | null;
  logged_model_id: string | null;
}

export interface ModelVersionTagsTable {
  model_id: number;
  version: number;
  key: string;
  value: string;
}

export interface AliasesTable {
  model_id: number;
  alias: string;
  version: number;
}

export interface HistoryTable {
  seq: Generated<number>;
  model_id: number;
  kind: string;
  version: number | null;
  from_value: string | null;
  to_value: string | null;
  alias: string | null;
  actor: string | null;
  reason: string | null;
  created_at: number;
}

export interface RegistryDatabase {
  'registry.registered_models': RegisteredModelsTable;
  'registry.registered_model_tags': RegisteredModelTagsTable;
  'registry.model_versions': ModelVersionsTable;
  'registry.model_version_tags': ModelVersionTagsTable;
  'registry.aliases': AliasesTable;
  'registry.history': HistoryTable;
}

/** The pool or a transaction: every store function takes one first. */
export type RegistryExecutor = Kysely<RegistryDatabase>;

/** A registered model row as read. */
export interface ModelRow {
  id: number;
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  last_version: number;
  /** Whether it is a prompt (tag `mlflow.prompt.is_prompt` = "true"), computed on read. */
  is_prompt: boolean;
}

/** A model version row with its model's name. */
export type VersionRow = ModelVersionsTable & { name: string };
