import type { NewView, SavedViewRecord } from '../domain/views.js';
import type { SavedViewsTable, TrackingExecutor } from './schema.js';

function toRecord(row: SavedViewsTable): SavedViewRecord {
  return {
    id: row.view_id,
    page: row.page,
    experimentId: row.experiment_id === null ? null : Number(row.experiment_id),
    state: row.state,
    name: row.name,
    description: row.description,
    owner: row.owner,
    shared: row.shared,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
  };
}

export async function findView(db: TrackingExecutor, id: string): Promise<SavedViewRecord | undefined> {
  const row = await db
    .selectFrom('tracking.saved_views')
    .selectAll()
    .where('view_id', '=', id)
    .executeTakeFirst();
  return row && toRecord(row);
}

/**
 * Stores a short link under `id` unless a view has that id already; either way the view now stored
 * under `id` (concurrent saves of one state all get the first one's row).
 */
export async function insertLinkView(
  db: TrackingExecutor,
  id: string,
  view: NewView,
  owner: string,
  now: number,
): Promise<SavedViewRecord> {
  await db
    .insertInto('tracking.saved_views')
    .values({
      view_id: id,
      page: view.page,
      experiment_id: view.experimentId,
      state: view.state,
      name: null,
      description: '',
      owner,
      shared: false,
      creation_time: now,
      last_update_time: now,
    })
    .onConflict((oc) => oc.column('view_id').doNothing())
    .execute();
  return (await findView(db, id))!;
}

/**
 * Stores a named view under a new `id`, or, when the owner already has a view of that name on that
 * page (and experiment), replaces its state, description and sharing and keeps its id: one statement,
 * so concurrent saves of one name leave one view (the last save's state).
 */
export async function upsertNamedView(
  db: TrackingExecutor,
  id: string,
  view: NewView,
  owner: string,
  now: number,
): Promise<SavedViewRecord> {
  const row = await db
    .insertInto('tracking.saved_views')
    .values({
      view_id: id,
      page: view.page,
      experiment_id: view.experimentId,
      state: view.state,
      name: view.name,
      description: view.description,
      owner,
      shared: view.shared,
      creation_time: now,
      last_update_time: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['owner', 'page', 'experiment_id', 'name'])
        .where('name', 'is not', null)
        .doUpdateSet((eb) => ({
          state: eb.ref('excluded.state'),
          description: eb.ref('excluded.description'),
          shared: eb.ref('excluded.shared'),
          last_update_time: eb.ref('excluded.last_update_time'),
        })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** The named views of a page (and experiment) that `user` may see: theirs and shared ones, by name. */
export async function listViews(
  db: TrackingExecutor,
  query: { page: string; experimentId: number | null; user: string; limit: number },
): Promise<SavedViewRecord[]> {
  const rows = await db
    .selectFrom('tracking.saved_views')
    .selectAll()
    .where('page', '=', query.page)
    .where((eb) =>
      query.experimentId === null
        ? eb('experiment_id', 'is', null)
        : eb('experiment_id', '=', query.experimentId),
    )
    .where('name', 'is not', null)
    .where((eb) => eb.or([eb('shared', '=', true), eb('owner', '=', query.user)]))
    .orderBy('name')
    .orderBy('owner')
    .limit(query.limit)
    .execute();
  return rows.map(toRecord);
}

/** Deletes a view; false when there was none. */
export async function deleteView(db: TrackingExecutor, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('tracking.saved_views').where('view_id', '=', id).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}
