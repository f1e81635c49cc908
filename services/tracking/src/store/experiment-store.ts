import { MlflowError } from '@mast/common';
import type { Experiment, ExperimentTag, ViewType } from '@mast/proto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { OrderByTerm } from '../domain/order-by.js';
import type { Comparison, FilterNode } from '../domain/search-filter.js';
import { isUniqueViolation } from './errors.js';
import type { ExperimentsTable, TrackingDatabase } from './schema.js';
import { compareColumn, compareKeyValue, filterToSql } from './search-sql.js';

export const DEFAULT_EXPERIMENT_ID = '0';

type ExperimentRow = Omit<ExperimentsTable, 'experiment_id'> & { experiment_id: number };

/** `<root>/<id>` the way MLflow appends to a URI path (`mlflow-artifacts:/` + 1 → `mlflow-artifacts:/1`). */
export function childUri(root: string, child: string): string {
  return `${root.replace(/\/+$/, '')}/${child}`;
}

/** Experiment ids are integers written as strings; anything else names no experiment. */
export function parseExperimentId(id: string): number | undefined {
  return /^\d{1,18}$/.test(id) ? Number(id) : undefined;
}

export function experimentNotFound(id: string): MlflowError {
  return MlflowError.notFound(`No Experiment with id=${id} exists`);
}

export interface ExperimentSearch {
  filter: FilterNode | undefined;
  orderBy: OrderByTerm[];
  viewType: ViewType;
  maxResults: number;
  offset: number;
}

export function lifecycleStages(viewType: ViewType): string[] {
  if (viewType === 'ACTIVE_ONLY') return ['active'];
  if (viewType === 'DELETED_ONLY') return ['deleted'];
  return ['active', 'deleted'];
}

/** Experiments and their tags in the `tracking` schema. */
export class ExperimentStore {
  constructor(
    private readonly db: Kysely<TrackingDatabase>,
    private readonly defaultArtifactRoot: string,
  ) {}

  /** Experiment "0" named "Default" always exists (the UI and `start_run()` without an experiment use it). */
  async ensureDefault(now: number): Promise<void> {
    await this.db
      .insertInto('tracking.experiments')
      .values({
        experiment_id: 0,
        name: 'Default',
        artifact_location: childUri(this.defaultArtifactRoot, DEFAULT_EXPERIMENT_ID),
        lifecycle_stage: 'active',
        creation_time: now,
        last_update_time: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async create(input: {
    name: string;
    artifactLocation?: string;
    tags: ExperimentTag[];
    now: number;
  }): Promise<string> {
    try {
      return await this.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ id: number }>`
          select nextval(pg_get_serial_sequence('tracking.experiments', 'experiment_id'))::int8 as id
        `.execute(tx);
        const id = rows[0]!.id;
        await tx
          .insertInto('tracking.experiments')
          .values({
            experiment_id: id,
            name: input.name,
            artifact_location: input.artifactLocation ?? childUri(this.defaultArtifactRoot, String(id)),
            lifecycle_stage: 'active',
            creation_time: input.now,
            last_update_time: input.now,
          })
          .execute();
        if (input.tags.length > 0) {
          await tx
            .insertInto('tracking.experiment_tags')
            .values(
              lastValuePerKey(input.tags).map((tag) => ({
                experiment_id: id,
                key: tag.key,
                value: tag.value,
              })),
            )
            .execute();
        }
        return String(id);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${input.name}) already exists.`);
      }
      throw error;
    }
  }

  async get(id: string): Promise<Experiment> {
    const numericId = parseExperimentId(id);
    const row =
      numericId === undefined
        ? undefined
        : await this.db
            .selectFrom('tracking.experiments')
            .selectAll()
            .where('experiment_id', '=', numericId)
            .executeTakeFirst();
    if (!row) throw experimentNotFound(id);
    const [experiment] = await this.withTags([row]);
    return experiment!;
  }

  /** Prefers the active experiment when a deleted one has the same name. */
  async getByName(name: string): Promise<Experiment> {
    const row = await this.db
      .selectFrom('tracking.experiments')
      .selectAll()
      .where('name', '=', name)
      .orderBy(sql`lifecycle_stage = 'active'`, 'desc')
      .executeTakeFirst();
    if (!row) throw MlflowError.notFound(`Could not find experiment with name '${name}'`);
    const [experiment] = await this.withTags([row]);
    return experiment!;
  }

  /** The experiment's lifecycle stage and artifact location, or a 404. */
  async lookup(id: string): Promise<{ lifecycleStage: string; artifactLocation: string }> {
    const numericId = parseExperimentId(id);
    const row =
      numericId === undefined
        ? undefined
        : await this.db
            .selectFrom('tracking.experiments')
            .select(['lifecycle_stage', 'artifact_location'])
            .where('experiment_id', '=', numericId)
            .executeTakeFirst();
    if (!row) throw experimentNotFound(id);
    return { lifecycleStage: row.lifecycle_stage, artifactLocation: row.artifact_location };
  }

  async requireActive(id: string): Promise<{ artifactLocation: string }> {
    const experiment = await this.lookup(id);
    if (experiment.lifecycleStage !== 'active') {
      throw MlflowError.invalidParameter(
        `The experiment ${id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
    return experiment;
  }

  /** Soft-deletes the experiment and its runs (restore brings both back). */
  async setLifecycle(
    id: string,
    from: 'active' | 'deleted',
    to: 'active' | 'deleted',
    now: number,
  ): Promise<void> {
    const numericId = parseExperimentId(id);
    if (numericId === undefined) throw experimentNotFound(id);
    await this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('tracking.experiments')
        .set({ lifecycle_stage: to, last_update_time: now })
        .where('experiment_id', '=', numericId)
        .where('lifecycle_stage', '=', from)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        // MLflow looks the experiment up among the `from` stage only: in the other stage it is not found.
        throw experimentNotFound(id);
      }
      await tx
        .updateTable('tracking.runs')
        .set({ lifecycle_stage: to, deleted_time: to === 'deleted' ? now : null })
        .where('experiment_id', '=', numericId)
        .where('lifecycle_stage', '=', from)
        .execute();
    });
  }

  async rename(id: string, newName: string, now: number): Promise<void> {
    const experiment = await this.lookup(id);
    if (experiment.lifecycleStage !== 'active') {
      throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
    }
    try {
      await this.db
        .updateTable('tracking.experiments')
        .set({ name: newName, last_update_time: now })
        .where('experiment_id', '=', Number(id))
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists.`);
      }
      throw error;
    }
  }

  async setTag(id: string, key: string, value: string): Promise<void> {
    await this.requireActiveForTags(id);
    await this.db
      .insertInto('tracking.experiment_tags')
      .values({ experiment_id: Number(id), key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteTag(id: string, key: string): Promise<void> {
    await this.requireActiveForTags(id);
    const deleted = await this.db
      .deleteFrom('tracking.experiment_tags')
      .where('experiment_id', '=', Number(id))
      .where('key', '=', key)
      .executeTakeFirst();
    if (deleted.numDeletedRows === 0n) {
      throw MlflowError.notFound(`No tag with name: ${key} in experiment with id ${id}`);
    }
  }

  private async requireActiveForTags(id: string): Promise<void> {
    const experiment = await this.lookup(id);
    if (experiment.lifecycleStage !== 'active') {
      throw MlflowError.invalidParameter(
        `The experiment ${id} must be in the 'active' state. Current state is ${experiment.lifecycleStage}.`,
      );
    }
  }

  /** One page of experiments, fetching one extra row to know whether another page exists. */
  async search(search: ExperimentSearch): Promise<{ experiments: Experiment[]; hasMore: boolean }> {
    let query = this.db
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
    return { experiments: await this.withTags(rows.slice(0, search.maxResults)), hasMore };
  }

  private async withTags(rows: ExperimentRow[]): Promise<Experiment[]> {
    if (rows.length === 0) return [];
    const tags = await this.db
      .selectFrom('tracking.experiment_tags')
      .select(['experiment_id', 'key', 'value'])
      .where(
        'experiment_id',
        'in',
        rows.map((row) => row.experiment_id),
      )
      .orderBy('key')
      .execute();
    const byExperiment = new Map<number, ExperimentTag[]>();
    for (const tag of tags) {
      const list = byExperiment.get(tag.experiment_id) ?? [];
      list.push({ key: tag.key, value: tag.value });
      byExperiment.set(tag.experiment_id, list);
    }
    return rows.map((row) => toExperiment(row, byExperiment.get(row.experiment_id)));
  }
}

function toExperiment(row: ExperimentRow, tags: ExperimentTag[] | undefined): Experiment {
  return {
    experiment_id: String(row.experiment_id),
    name: row.name,
    artifact_location: row.artifact_location,
    lifecycle_stage: row.lifecycle_stage,
    last_update_time: row.last_update_time,
    creation_time: row.creation_time,
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

/** Last write wins when the same key appears twice in one request. */
export function lastValuePerKey<T extends { key?: string; value?: string }>(
  items: T[],
): Array<{ key: string; value: string }> {
  const byKey = new Map<string, string>();
  for (const item of items) byKey.set(item.key ?? '', item.value ?? '');
  return [...byKey].map(([key, value]) => ({ key, value }));
}
