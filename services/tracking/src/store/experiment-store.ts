import { compareColumn, compareKeyValue, filterToSql, lifecycleStages } from '@mast/common';
import type { ViewType } from '@mast/proto';
import { type RawBuilder, sql } from 'kysely';
import type { OrderByTerm } from '../domain/order-by.js';
import type { ExperimentRecord, KeyValue } from '../domain/records.js';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import type { ExperimentRow, TrackingExecutor } from './schema.js';

export interface ExperimentSearch {
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

interface NewExperiment {
  id: number;
  name: string;
  artifactLocation: string;
  now: number;
}

function experimentValues(experiment: NewExperiment) {
  return {
    experiment_id: experiment.id,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: 'active',
    creation_time: experiment.now,
    last_update_time: experiment.now,
  };
}

/** Inserts experiment `id` unless it exists (the Default experiment, "0"). */
export async function insertExperimentIfMissing(
  db: TrackingExecutor,
  experiment: NewExperiment,
): Promise<void> {
  await db
    .insertInto('tracking.experiments')
    .values(experimentValues(experiment))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** The next experiment id from the table's sequence (so the artifact location can name it). */
export async function nextExperimentId(db: TrackingExecutor): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    select nextval(pg_get_serial_sequence('tracking.experiments', 'experiment_id'))::int8 as id
  `.execute(db);
  return rows[0]!.id;
}

/** Inserts an experiment with its tags; a taken name raises the unique violation (`isUniqueViolation`). */
export async function insertExperiment(
  db: TrackingExecutor,
  experiment: NewExperiment & { tags: KeyValue[] },
): Promise<void> {
  await db.insertInto('tracking.experiments').values(experimentValues(experiment)).execute();
  if (experiment.tags.length > 0) {
    await db
      .insertInto('tracking.experiment_tags')
      .values(
        experiment.tags.map((tag) => ({ experiment_id: experiment.id, key: tag.key, value: tag.value })),
      )
      .execute();
  }
}

export function findExperiment(db: TrackingExecutor, id: number): Promise<ExperimentRow | undefined> {
  return db.selectFrom('tracking.experiments').selectAll().where('experiment_id', '=', id).executeTakeFirst();
}

/** The experiment named so, preferring the active one when a deleted one has the same name. */
export function findExperimentByName(db: TrackingExecutor, name: string): Promise<ExperimentRow | undefined> {
  return db
    .selectFrom('tracking.experiments')
    .selectAll()
    .where('name', '=', name)
    .orderBy(sql`lifecycle_stage = 'active'`, 'desc')
    .executeTakeFirst();
}

/**
 * Moves an experiment and its runs from one lifecycle stage to another (restore brings both back);
 * false when no experiment `id` is in stage `from`.
 */
export async function setExperimentLifecycle(
  db: TrackingExecutor,
  id: number,
  from: 'active' | 'deleted',
  to: 'active' | 'deleted',
  now: number,
): Promise<boolean> {
  const updated = await db
    .updateTable('tracking.experiments')
    .set({ lifecycle_stage: to, last_update_time: now })
    .where('experiment_id', '=', id)
    .where('lifecycle_stage', '=', from)
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) return false;
  await db
    .updateTable('tracking.runs')
    .set({ lifecycle_stage: to, deleted_time: to === 'deleted' ? now : null })
    .where('experiment_id', '=', id)
    .where('lifecycle_stage', '=', from)
    .execute();
  return true;
}

/** Renames an experiment; a taken name raises the unique violation (`isUniqueViolation`). */
export async function renameExperiment(
  db: TrackingExecutor,
  id: number,
  name: string,
  now: number,
): Promise<void> {
  await db
    .updateTable('tracking.experiments')
    .set({ name, last_update_time: now })
    .where('experiment_id', '=', id)
    .execute();
}

export async function upsertExperimentTag(db: TrackingExecutor, id: number, tag: KeyValue): Promise<void> {
  await db
    .insertInto('tracking.experiment_tags')
    .values({ experiment_id: id, key: tag.key, value: tag.value })
    .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: tag.value }))
    .execute();
}

/** Deletes one experiment tag; false when there is none with that key. */
export async function deleteExperimentTag(db: TrackingExecutor, id: number, key: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('tracking.experiment_tags')
    .where('experiment_id', '=', id)
    .where('key', '=', key)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** One page of experiments, fetching one extra row to know whether another page exists. */
export async function searchExperiments(
  db: TrackingExecutor,
  search: ExperimentSearch,
): Promise<{ experiments: ExperimentRecord[]; hasMore: boolean }> {
  let query = db
    .selectFrom('tracking.experiments as e')
    .selectAll()
    .where('e.lifecycle_stage', 'in', lifecycleStages(search.viewType));
  if (search.filter) query = query.where(filterToSql(search.filter, experimentComparison));
  for (const term of experimentOrder(search.orderBy)) {
    query = query.orderBy(sql`${sql.ref(`e.${term.key}`)} ${sql.raw(term.ascending ? 'asc' : 'desc')}`);
  }
  const rows = await query
    .limit(search.maxResults + 1)
    .offset(search.offset)
    .execute();
  const hasMore = rows.length > search.maxResults;
  return { experiments: await withTags(db, rows.slice(0, search.maxResults)), hasMore };
}

/** Experiments with their tags (one statement for the tags of all of them). */
export async function withTags(db: TrackingExecutor, rows: ExperimentRow[]): Promise<ExperimentRecord[]> {
  if (rows.length === 0) return [];
  const tags = await db
    .selectFrom('tracking.experiment_tags')
    .select(['experiment_id', 'key', 'value'])
    .where(
      'experiment_id',
      'in',
      rows.map((row) => row.experiment_id),
    )
    .orderBy('key')
    .execute();
  const byExperiment = new Map<number, KeyValue[]>();
  for (const tag of tags) {
    const list = byExperiment.get(tag.experiment_id) ?? [];
    list.push({ key: tag.key, value: tag.value });
    byExperiment.set(tag.experiment_id, list);
  }
  return rows.map((row) => toExperimentRecord(row, byExperiment.get(row.experiment_id) ?? []));
}

function toExperimentRecord(row: ExperimentRow, tags: KeyValue[]): ExperimentRecord {
  return {
    experimentId: row.experiment_id,
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage,
    creationTime: row.creation_time,
    lastUpdateTime: row.last_update_time,
    tags,
  };
}

function experimentComparison(comparison: Comparison): RawBuilder<boolean> {
  if (comparison.type === 'tag') {
    return compareKeyValue(
      'tracking.experiment_tags',
      sql.ref('e.experiment_id'),
      'experiment_id',
      comparison,
      compareColumn,
    );
  }
  return compareColumn(sql.ref(`e.${comparison.key}`), comparison);
}

/** MLflow appends `experiment_id` as the tie-break; with no order given, newest first. */
function experimentOrder(orderBy: OrderByTerm[]): OrderByTerm[] {
  const terms =
    orderBy.length > 0
      ? [...orderBy]
      : [{ type: 'attribute' as const, key: 'creation_time', ascending: false }];
  if (!terms.some((term) => term.key === 'experiment_id')) {
    terms.push({ type: 'attribute', key: 'experiment_id', ascending: orderBy.length === 0 });
  }
  return terms;
}
