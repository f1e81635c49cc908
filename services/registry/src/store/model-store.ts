import { compareColumn, compareKeyValue, filterToSql } from '@mast/common';
import { type RawBuilder, sql } from 'kysely';
import { IS_PROMPT_TAG, type KeyValue, type RegisteredModelRecord } from '../domain/records.js';
import type { Comparison, FilterNode, OrderByTerm } from '../domain/search.js';
import type { ModelRow, RegistryExecutor } from './schema.js';
import { hydrateVersions, latestVersionRows } from './version-rows.js';

const MODEL_COLUMNS = [
  'id',
  'name',
  'creation_time',
  'last_updated_time',
  'description',
  'user_id',
  'last_version',
] as const;

/** `is_prompt` of a model row aliased `m` (or the table itself). */
function isPrompt(owner: RawBuilder<unknown>) {
  return sql<boolean>`exists (select 1 from registry.registered_model_tags pt where pt.model_id = ${owner} and pt.key = ${IS_PROMPT_TAG} and pt.value = 'true')`.as(
    'is_prompt',
  );
}

/** Inserts a model and its tags; a taken name raises the unique violation (`isUniqueViolation`). */
export async function insertModel(
  db: RegistryExecutor,
  model: { name: string; description: string | null; tags: KeyValue[]; now: number },
): Promise<ModelRow> {
  const row = await db
    .insertInto('registry.registered_models')
    .values({
      name: model.name,
      description: model.description,
      creation_time: model.now,
      last_updated_time: model.now,
    })
    .returning(MODEL_COLUMNS)
    .executeTakeFirstOrThrow()
    .then((inserted) => ({
      ...inserted,
      is_prompt: model.tags.some((tag) => tag.key === IS_PROMPT_TAG && tag.value === 'true'),
    }));
  if (model.tags.length > 0) {
    await db
      .insertInto('registry.registered_model_tags')
      .values(model.tags.map((tag) => ({ model_id: row.id, key: tag.key, value: tag.value })))
      .execute();
  }
  return row;
}

/** The model named so; `lock` takes its row lock (serialising writers of one model). */
export function findModel(db: RegistryExecutor, name: string, lock = false): Promise<ModelRow | undefined> {
  const query = db
    .selectFrom('registry.registered_models')
    .select(MODEL_COLUMNS)
    .select(isPrompt(sql.ref('registry.registered_models.id')))
    .where('name', '=', name);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

export async function findModelsByIds(db: RegistryExecutor, ids: number[]): Promise<ModelRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('registry.registered_models')
    .select(MODEL_COLUMNS)
    .select(isPrompt(sql.ref('registry.registered_models.id')))
    .where('id', 'in', ids)
    .execute();
}

export async function findModelsByNames(db: RegistryExecutor, names: string[]): Promise<ModelRow[]> {
  if (names.length === 0) return [];
  return db
    .selectFrom('registry.registered_models')
    .select(MODEL_COLUMNS)
    .select(isPrompt(sql.ref('registry.registered_models.id')))
    .where('name', 'in', names)
    .execute();
}

/** Renames a model (a taken name raises the unique violation); its versions' timestamps are bumped. */
export async function renameModel(
  db: RegistryExecutor,
  id: number,
  newName: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('registry.registered_models')
    .set({ name: newName, last_updated_time: now })
    .where('id', '=', id)
    .execute();
  await db
    .updateTable('registry.model_versions')
    .set({ last_updated_time: now })
    .where('model_id', '=', id)
    .where('current_stage', '<>', 'Deleted_Internal')
    .execute();
}

export async function updateModel(
  db: RegistryExecutor,
  id: number,
  changes: { description?: string | null; now: number },
): Promise<void> {
  await db
    .updateTable('registry.registered_models')
    .set({
      last_updated_time: changes.now,
      ...(changes.description !== undefined && { description: changes.description }),
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteModel(db: RegistryExecutor, id: number): Promise<void> {
  await db.deleteFrom('registry.registered_models').where('id', '=', id).execute();
}

export async function modelTags(db: RegistryExecutor, id: number): Promise<KeyValue[]> {
  return db
    .selectFrom('registry.registered_model_tags')
    .select(['key', 'value'])
    .where('model_id', '=', id)
    .orderBy('key')
    .execute();
}

export async function upsertModelTag(db: RegistryExecutor, id: number, tag: KeyValue): Promise<void> {
  await db
    .insertInto('registry.registered_model_tags')
    .values({ model_id: id, key: tag.key, value: tag.value })
    .onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet({ value: tag.value }))
    .execute();
}

/** Deletes a tag; resolves with whether it existed. */
export async function deleteModelTag(db: RegistryExecutor, id: number, key: string): Promise<boolean> {
  const result = await db
    .deleteFrom('registry.registered_model_tags')
    .where('model_id', '=', id)
    .where('key', '=', key)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The version an alias points at, if set. */
export async function findAlias(
  db: RegistryExecutor,
  id: number,
  alias: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('registry.aliases')
    .select('version')
    .where('model_id', '=', id)
    .where('alias', '=', alias)
    .executeTakeFirst();
  return row?.version;
}

/** Points an alias at a version (moving it if set); resolves with the version it pointed at before. */
export async function setAlias(
  db: RegistryExecutor,
  id: number,
  alias: string,
  version: number,
): Promise<number | undefined> {
  const previous = await db
    .selectFrom('registry.aliases')
    .select('version')
    .where('model_id', '=', id)
    .where('alias', '=', alias)
    .forUpdate()
    .executeTakeFirst();
  await db
    .insertInto('registry.aliases')
    .values({ model_id: id, alias, version })
    .onConflict((oc) => oc.columns(['model_id', 'alias']).doUpdateSet({ version }))
    .execute();
  return previous?.version;
}

/** Deletes an alias; resolves with the version it pointed at, undefined when it was not set. */
export async function deleteAlias(
  db: RegistryExecutor,
  id: number,
  alias: string,
): Promise<number | undefined> {
  const row = await db
    .deleteFrom('registry.aliases')
    .where('model_id', '=', id)
    .where('alias', '=', alias)
    .returning('version')
    .executeTakeFirst();
  return row?.version;
}

/** Deletes the aliases pointing at a version; resolves with their names. */
export async function deleteAliasesOfVersion(
  db: RegistryExecutor,
  id: number,
  version: number,
): Promise<string[]> {
  const rows = await db
    .deleteFrom('registry.aliases')
    .where('model_id', '=', id)
    .where('version', '=', version)
    .returning('alias')
    .execute();
  return rows.map((row) => row.alias).sort();
}

/** Model rows as records: tags, aliases and the newest version per stage. */
export async function hydrateModels(
  db: RegistryExecutor,
  rows: ModelRow[],
): Promise<RegisteredModelRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const [tags, aliases, latestRows] = await Promise.all([
    db
      .selectFrom('registry.registered_model_tags')
      .select(['model_id', 'key', 'value'])
      .where('model_id', 'in', ids)
      .orderBy('key')
      .execute(),
    db
      .selectFrom('registry.aliases')
      .select(['model_id', 'alias', 'version'])
      .where('model_id', 'in', ids)
      .orderBy('alias')
      .execute(),
    latestVersionRows(db, ids),
  ]);
  const latest = await hydrateVersions(db, latestRows);
  return rows.map((row) => ({
    name: row.name,
    creationTimestamp: row.creation_time,
    lastUpdatedTimestamp: row.last_updated_time,
    userId: row.user_id,
    description: row.description,
    tags: tags.filter((t) => t.model_id === row.id).map((t) => ({ key: t.key, value: t.value })),
    aliases: aliases
      .filter((a) => a.model_id === row.id)
      .map((a) => ({ alias: a.alias, version: a.version })),
    latestVersions: latest.filter((_, i) => latestRows[i].model_id === row.id),
  }));
}

export interface ModelSearch {
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  includePrompts: boolean;
  maxResults: number;
  offset: number;
}

/** The prompt tag's value, `'false'` when absent (MLflow treats an untagged model as not a prompt). */
function promptFlag(owner: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`coalesce((select t.value from registry.registered_model_tags t where t.model_id = ${owner} and t.key = ${IS_PROMPT_TAG}), 'false')`;
}

/** A registry comparison as SQL over a model id (`owner`) and the attribute columns given. */
export function registryComparisonSql(
  comparison: Comparison,
  owner: RawBuilder<unknown>,
  columns: Record<string, RawBuilder<unknown>>,
  tagTable: { table: string; ownerColumn: string; owner: RawBuilder<unknown> },
): RawBuilder<boolean> {
  if (comparison.type === 'tag') {
    if (comparison.key === IS_PROMPT_TAG) return compareColumn(promptFlag(owner), comparison);
    return compareKeyValue(tagTable.table, tagTable.owner, tagTable.ownerColumn, comparison, compareColumn);
  }
  return compareColumn(columns[comparison.key], comparison);
}

/** Models matching a search, one more than asked to tell whether another page exists. */
export async function searchModels(
  db: RegistryExecutor,
  search: ModelSearch,
): Promise<{ models: RegisteredModelRecord[]; hasMore: boolean }> {
  let query = db
    .selectFrom('registry.registered_models as m')
    .select(MODEL_COLUMNS.map((c) => `m.${c}` as const))
    .select(sql<boolean>`false`.as('is_prompt'));
  if (search.filter) {
    const filter = search.filter;
    query = query.where(
      filterToSql(filter, (comparison) =>
        registryComparisonSql(
          comparison,
          sql.ref('m.id'),
          { name: sql.ref('m.name') },
          {
            table: 'registry.registered_model_tags',
            ownerColumn: 'model_id',
            owner: sql.ref('m.id'),
          },
        ),
      ),
    );
  }
  if (!search.includePrompts) {
    query = query.where(
      sql<boolean>`not exists (select 1 from registry.registered_model_tags p where p.model_id = m.id and p.key = ${IS_PROMPT_TAG})`,
    );
  }
  const columnOf: Record<string, 'm.name' | 'm.last_updated_time' | 'm.creation_time'> = {
    name: 'm.name',
    last_updated_timestamp: 'm.last_updated_time',
    creation_timestamp: 'm.creation_time',
  };
  for (const term of search.orderBy)
    query = query.orderBy(columnOf[term.key], term.ascending ? 'asc' : 'desc');
  if (!search.orderBy.some((term) => term.key === 'name')) query = query.orderBy('m.name', 'asc');
  const rows = await query
    .limit(search.maxResults + 1)
    .offset(search.offset)
    .execute();
  const hasMore = rows.length > search.maxResults;
  return { models: await hydrateModels(db, rows.slice(0, search.maxResults)), hasMore };
}
