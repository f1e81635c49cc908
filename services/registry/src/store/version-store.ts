import { compareColumn, filterToSql } from '@mast/common';
import { sql } from 'kysely';
import {
  IS_PROMPT_TAG,
  type KeyValue,
  type ModelVersionRecord,
  STAGE_DELETED_INTERNAL,
} from '../domain/records.js';
import type { FilterNode, OrderByTerm } from '../domain/search.js';
import type { ModelRow, RegistryExecutor, VersionRow } from './schema.js';
import { hydrateVersions, toVersionRecord, VERSION_COLUMNS } from './version-rows.js';

/**
 * Takes the model's next version number: bumps `last_version` (never decremented, so deleted numbers are
 * never reused) and the model's `last_updated_time` under the model's row lock, so concurrent creates on
 * one model get distinct consecutive numbers. Undefined when the model does not exist.
 */
export async function takeNextVersion(db: RegistryExecutor, modelId: number, now: number): Promise<number> {
  const row = await db
    .updateTable('registry.registered_models')
    .set((eb) => ({ last_version: eb('last_version', '+', 1), last_updated_time: now }))
    .where('id', '=', modelId)
    .returning('last_version')
    .executeTakeFirstOrThrow();
  return row.last_version;
}

export interface NewVersion {
  modelId: number;
  version: number;
  source: string;
  storageLocation: string | null;
  runId: string | null;
  runLink: string | null;
  description: string | null;
  modelId3: string | null;
  tags: KeyValue[];
  now: number;
}

export async function insertVersion(db: RegistryExecutor, version: NewVersion): Promise<void> {
  await db
    .insertInto('registry.model_versions')
    .values({
      model_id: version.modelId,
      version: version.version,
      creation_time: version.now,
      last_updated_time: version.now,
      description: version.description,
      user_id: null,
      current_stage: 'None',
      source: version.source,
      storage_location: version.storageLocation,
      run_id: version.runId,
      run_link: version.runLink,
      status: 'READY',
      status_message: null,
      logged_model_id: version.modelId3,
    })
    .execute();
  if (version.tags.length > 0) {
    await db
      .insertInto('registry.model_version_tags')
      .values(version.tags.map((tag) => ({ model_id: version.modelId, version: version.version, ...tag })))
      .execute();
  }
}

/** A live (not deleted) version of a model; `lock` takes its row lock. */
export function findVersion(
  db: RegistryExecutor,
  modelId: number,
  version: number,
  lock = false,
): Promise<VersionRow | undefined> {
  const query = db
    .selectFrom('registry.model_versions as v')
    .innerJoin('registry.registered_models as m', 'm.id', 'v.model_id')
    .select(VERSION_COLUMNS)
    .where('v.model_id', '=', modelId)
    .where('v.version', '=', version)
    .where('v.current_stage', '<>', STAGE_DELETED_INTERNAL);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * A model (row-locked, serialising the model's writers) and one of its live versions with its tags and
 * aliases, in one round trip; the version is undefined when the model has no such live version, the
 * whole result when there is no model.
 */
export async function lockModelAndVersion(
  db: RegistryExecutor,
  name: string,
  version: number,
): Promise<{ model: ModelRow; version: ModelVersionRecord | undefined } | undefined> {
  const { rows } = await sql<
    ModelRow & { v: VersionRow | string | null; v_tags: unknown; v_aliases: unknown }
  >`
    select m.id, m.name, m.creation_time, m.last_updated_time, m.description, m.user_id, m.last_version,
      exists (select 1 from registry.registered_model_tags pt
        where pt.model_id = m.id and pt.key = ${IS_PROMPT_TAG} and pt.value = 'true') as is_prompt,
      (select row_to_json(v) from registry.model_versions v
        where v.model_id = m.id and v.version = ${version} and v.current_stage <> ${STAGE_DELETED_INTERNAL}) as v,
      (select json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key)
        from registry.model_version_tags t where t.model_id = m.id and t.version = ${version}) as v_tags,
      (select json_agg(a.alias order by a.alias)
        from registry.aliases a where a.model_id = m.id and a.version = ${version}) as v_aliases
    from registry.registered_models m where m.name = ${name}
    for update of m
  `.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { v, v_tags, v_aliases, ...model } = row;
  const parsed = parseJson<VersionRow>(v);
  return {
    model: {
      ...model,
      id: Number(model.id),
      last_updated_time: Number(model.last_updated_time),
      creation_time: Number(model.creation_time),
    },
    version: parsed
      ? toVersionRecord(
          { ...parsed, name: model.name },
          parseJson<KeyValue[]>(v_tags) ?? [],
          parseJson<string[]>(v_aliases) ?? [],
        )
      : undefined,
  };
}

/** A history row to write with a stage change. */
export interface StageHistory {
  version: number;
  from: string;
  to: string;
  actor: string | null;
  reason: string | null;
}

/**
 * Sets a version's stage, bumps it and its model's `last_updated_time`, and writes the transitions'
 * history rows, in one statement (one round trip on the write path the deploy pipeline waits on).
 */
export async function setStage(
  db: RegistryExecutor,
  modelId: number,
  version: number,
  stage: string,
  now: number,
  history: StageHistory[],
) {
  await sql`
    with moved as (
      update registry.model_versions set current_stage = ${stage}, last_updated_time = ${now}
      where model_id = ${modelId} and version = ${version}
    ), touched as (
      update registry.registered_models set last_updated_time = ${now} where id = ${modelId}
    )
    insert into registry.history (model_id, kind, version, from_value, to_value, actor, reason, created_at)
    select ${modelId}, 'STAGE_TRANSITION', h.version, h.from_value, h.to_value, h.actor, h.reason, ${now}
    from unnest(${history.map((h) => h.version)}::int4[], ${history.map((h) => h.from)}::text[],
                ${history.map((h) => h.to)}::text[], ${history.map((h) => h.actor)}::text[],
                ${history.map((h) => h.reason)}::text[]) with ordinality
      as h(version, from_value, to_value, actor, reason, i)
    order by h.i
  `.execute(db);
}

/** json values arrive parsed from pg and PGlite; tolerate a driver that leaves them as text. */
function parseJson<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** Live versions of a model, highest number first. */
export function listVersions(db: RegistryExecutor, modelId: number): Promise<VersionRow[]> {
  return db
    .selectFrom('registry.model_versions as v')
    .innerJoin('registry.registered_models as m', 'm.id', 'v.model_id')
    .select(VERSION_COLUMNS)
    .where('v.model_id', '=', modelId)
    .where('v.current_stage', '<>', STAGE_DELETED_INTERNAL)
    .orderBy('v.version', 'desc')
    .execute();
}

/** Live versions whose run is one of `runIds` (GraphQL's `Run.modelVersions`). */
export function versionsOfRuns(db: RegistryExecutor, runIds: string[]): Promise<VersionRow[]> {
  if (runIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('registry.model_versions as v')
    .innerJoin('registry.registered_models as m', 'm.id', 'v.model_id')
    .select(VERSION_COLUMNS)
    .where('v.run_id', 'in', runIds)
    .where('v.current_stage', '<>', STAGE_DELETED_INTERNAL)
    .orderBy('m.name')
    .orderBy('v.version', 'desc')
    .execute();
}

export async function updateVersion(
  db: RegistryExecutor,
  modelId: number,
  version: number,
  changes: { description?: string | null; stage?: string; now: number },
): Promise<void> {
  await db
    .updateTable('registry.model_versions')
    .set({
      last_updated_time: changes.now,
      ...(changes.description !== undefined && { description: changes.description }),
      ...(changes.stage !== undefined && { current_stage: changes.stage }),
    })
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
}

export async function touchModel(db: RegistryExecutor, modelId: number, now: number): Promise<void> {
  await db
    .updateTable('registry.registered_models')
    .set({ last_updated_time: now })
    .where('id', '=', modelId)
    .execute();
}

/** Moves every other live version in `stage` to Archived; resolves with their numbers (ascending). */
export async function archiveOthersInStage(
  db: RegistryExecutor,
  modelId: number,
  stage: string,
  except: number,
  now: number,
): Promise<number[]> {
  const rows = await db
    .updateTable('registry.model_versions')
    .set({ current_stage: 'Archived', last_updated_time: now })
    .where('model_id', '=', modelId)
    .where('current_stage', '=', stage)
    .where('version', '<>', except)
    .returning('version')
    .execute();
  return rows.map((row) => row.version).sort((a, b) => a - b);
}

/** MLflow's soft delete: stage Deleted_Internal, source/run redacted, text fields cleared; tags removed. */
export async function softDeleteVersion(db: RegistryExecutor, modelId: number, version: number, now: number) {
  await db
    .updateTable('registry.model_versions')
    .set({
      current_stage: STAGE_DELETED_INTERNAL,
      source: 'REDACTED-SOURCE-PATH',
      storage_location: null,
      run_id: 'REDACTED-RUN-ID',
      run_link: 'REDACTED-RUN-LINK',
      description: null,
      user_id: null,
      status_message: null,
      last_updated_time: now,
    })
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
  await db
    .deleteFrom('registry.model_version_tags')
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
}

export async function upsertVersionTag(
  db: RegistryExecutor,
  modelId: number,
  version: number,
  tag: KeyValue,
) {
  await db
    .insertInto('registry.model_version_tags')
    .values({ model_id: modelId, version, key: tag.key, value: tag.value })
    .onConflict((oc) => oc.columns(['model_id', 'version', 'key']).doUpdateSet({ value: tag.value }))
    .execute();
}

/** Deletes a version tag; resolves with whether it existed. */
export async function deleteVersionTag(db: RegistryExecutor, modelId: number, version: number, key: string) {
  const result = await db
    .deleteFrom('registry.model_version_tags')
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .where('key', '=', key)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function versionTags(
  db: RegistryExecutor,
  modelId: number,
  version: number,
): Promise<KeyValue[]> {
  return db
    .selectFrom('registry.model_version_tags')
    .select(['key', 'value'])
    .where('model_id', '=', modelId)
    .where('version', '=', version)
    .orderBy('key')
    .execute();
}

export { hydrateVersions };

export interface VersionSearch {
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  includePrompts: boolean;
  maxResults: number;
  offset: number;
}

/** Live versions matching a search, one more than asked to tell whether another page exists. */
export async function searchVersions(
  db: RegistryExecutor,
  search: VersionSearch,
): Promise<{ versions: ModelVersionRecord[]; hasMore: boolean }> {
  let query = db
    .selectFrom('registry.model_versions as v')
    .innerJoin('registry.registered_models as m', 'm.id', 'v.model_id')
    .select(VERSION_COLUMNS)
    .where('v.current_stage', '<>', STAGE_DELETED_INTERNAL);
  const columns = {
    name: sql.ref('m.name'),
    version_number: sql.ref('v.version'),
    run_id: sql.ref('v.run_id'),
    source_path: sql.ref('v.source'),
  };
  const promptFlag = sql`coalesce((select t.value from registry.registered_model_tags t where t.model_id = v.model_id and t.key = ${IS_PROMPT_TAG}), (select t.value from registry.model_version_tags t where t.model_id = v.model_id and t.version = v.version and t.key = ${IS_PROMPT_TAG}), 'false')`;
  if (search.filter) {
    query = query.where(
      filterToSql(search.filter, (comparison) => {
        if (comparison.type === 'tag') {
          if (comparison.key === IS_PROMPT_TAG) return compareColumn(promptFlag, comparison);
          return sql<boolean>`exists (select 1 from registry.model_version_tags kv where kv.model_id = v.model_id and kv.version = v.version and kv.key = ${comparison.key} and ${compareColumn(sql`kv.value`, comparison)})`;
        }
        return compareColumn(columns[comparison.key as keyof typeof columns], comparison);
      }),
    );
  }
  if (!search.includePrompts) {
    query = query.where(
      sql<boolean>`not exists (select 1 from registry.registered_model_tags p where p.model_id = v.model_id and p.key = ${IS_PROMPT_TAG})`,
    );
  }
  const columnOf = {
    name: 'm.name',
    version_number: 'v.version',
    creation_timestamp: 'v.creation_time',
    last_updated_timestamp: 'v.last_updated_time',
  } as const;
  for (const term of search.orderBy) {
    query = query.orderBy(columnOf[term.key as keyof typeof columnOf], term.ascending ? 'asc' : 'desc');
  }
  if (!search.orderBy.some((term) => term.key === 'name')) query = query.orderBy('m.name', 'asc');
  if (!search.orderBy.some((term) => term.key === 'version_number'))
    query = query.orderBy('v.version', 'desc');
  const rows = await query
    .limit(search.maxResults + 1)
    .offset(search.offset)
    .execute();
  const hasMore = rows.length > search.maxResults;
  return { versions: await hydrateVersions(db, rows.slice(0, search.maxResults)), hasMore };
}
