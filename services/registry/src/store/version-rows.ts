import { sql } from 'kysely';
import type { KeyValue, ModelVersionRecord } from '../domain/records.js';
import type { RegistryExecutor, VersionRow } from './schema.js';

/** The columns of a version row with its model's name (`v` = model_versions, `m` = registered_models). */
export const VERSION_COLUMNS = [
  'v.model_id',
  'v.version',
  'v.creation_time',
  'v.last_updated_time',
  'v.description',
  'v.user_id',
  'v.current_stage',
  'v.source',
  'v.storage_location',
  'v.run_id',
  'v.run_link',
  'v.status',
  'v.status_message',
  'v.logged_model_id',
  'm.name',
] as const;

/** Version rows as records, with their tags and aliases read in one query. */
export async function hydrateVersions(
  db: RegistryExecutor,
  rows: VersionRow[],
): Promise<ModelVersionRecord[]> {
  if (rows.length === 0) return [];
  const modelIds = rows.map((row) => row.model_id);
  const versions = rows.map((row) => row.version);
  // Pairs as two parallel arrays: two parameters however many rows.
  const { rows: extras } = await sql<{ i: number; tags: KeyValue[] | null; aliases: string[] | null }>`
    select p.i::int4 as i,
      (select json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key)
         from registry.model_version_tags t where t.model_id = p.model_id and t.version = p.version) as tags,
      (select json_agg(a.alias order by a.alias)
         from registry.aliases a where a.model_id = p.model_id and a.version = p.version) as aliases
    from unnest(${modelIds}::int8[], ${versions}::int4[]) with ordinality as p(model_id, version, i)
  `.execute(db);
  const byIndex = new Map(extras.map((extra) => [Number(extra.i), extra]));
  return rows.map((row, index) => {
    const extra = byIndex.get(index + 1);
    return toVersionRecord(row, parseJson(extra?.tags) ?? [], parseJson(extra?.aliases) ?? []);
  });
}

/** json values arrive parsed from pg and PGlite; tolerate a driver that leaves them as text. */
function parseJson<T>(value: T | string | null | undefined): T | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

export function toVersionRecord(row: VersionRow, tags: KeyValue[], aliases: string[]): ModelVersionRecord {
  return {
    name: row.name,
    version: row.version,
    creationTimestamp: row.creation_time,
    lastUpdatedTimestamp: row.last_updated_time,
    userId: row.user_id,
    currentStage: row.current_stage,
    description: row.description,
    source: row.source,
    storageLocation: row.storage_location,
    runId: row.run_id,
    runLink: row.run_link,
    status: row.status as ModelVersionRecord['status'],
    statusMessage: row.status_message,
    modelId: row.logged_model_id,
    tags,
    aliases,
  };
}

/**
 * The newest non-deleted version per stage of each model, as MLflow's `latest_versions`: stages in the
 * order their lowest version number first entered them (MLflow's dict insertion order over versions).
 */
export async function latestVersionRows(db: RegistryExecutor, modelIds: number[]): Promise<VersionRow[]> {
  if (modelIds.length === 0) return [];
  const { rows } = await sql<VersionRow & { first_version: number }>`
    select v.*, m.name, s.first_version
    from (
      select model_id, current_stage, max(version) as latest, min(version) as first_version
      from registry.model_versions
      where model_id = any(${modelIds}::int8[]) and current_stage <> 'Deleted_Internal'
      group by model_id, current_stage
    ) s
    join registry.model_versions v on v.model_id = s.model_id and v.version = s.latest
    join registry.registered_models m on m.id = v.model_id
    order by v.model_id, s.first_version
  `.execute(db);
  return rows.map(({ first_version: _, ...row }) => row);
}
