/**
 * SQL of registered scorers (migration 0010). Functions take the pool or the caller's transaction; the
 * service decides what commits together.
 */
import { sql } from 'kysely';
import type { ScorerVersionRecord } from '../domain/scorers.js';
import type { TrackingExecutor } from './schema.js';

/** A version row joined with its scorer, as `ScorerVersionRecord` names it. */
function versions(db: TrackingExecutor) {
  return db
    .selectFrom('tracking.scorer_versions as v')
    .innerJoin('tracking.scorers as s', 's.scorer_id', 'v.scorer_id')
    .select([
      's.scorer_id as scorerId',
      's.experiment_id as experimentId',
      's.scorer_name as scorerName',
      'v.scorer_version as scorerVersion',
      'v.serialized_scorer as serializedScorer',
      'v.creation_time as creationTime',
    ]);
}

/**
 * The scorer named so in the experiment, created with `newScorerId` when it has none, and row-locked
 * until the transaction ends: concurrent registrations of one name wait here for each other (a
 * conflicting insert waits on the unique key, then locks the row it finds), so each reads the versions
 * the one before it committed.
 */
export async function lockOrCreateScorer(
  db: TrackingExecutor,
  experimentId: number,
  name: string,
  newScorerId: string,
): Promise<string> {
  const row = await db
    .insertInto('tracking.scorers')
    .values({ scorer_id: newScorerId, experiment_id: experimentId, scorer_name: name })
    .onConflict((conflict) =>
      conflict
        .columns(['experiment_id', 'scorer_name'])
        .doUpdateSet({ scorer_name: sql`excluded.scorer_name` }),
    )
    .returning('scorer_id')
    .executeTakeFirstOrThrow();
  return row.scorer_id;
}

/** Stores the scorer's next version (its highest plus one, 1 for none) and returns it. */
export async function insertNextScorerVersion(
  db: TrackingExecutor,
  scorerId: string,
  serializedScorer: string,
  creationTime: number,
): Promise<number> {
  const row = await db
    .insertInto('tracking.scorer_versions')
    .columns(['scorer_id', 'scorer_version', 'serialized_scorer', 'creation_time'])
    .expression(
      db
        .selectFrom('tracking.scorer_versions')
        .where('scorer_id', '=', scorerId)
        .select([
          sql.val(scorerId).as('scorer_id'),
          sql<number>`coalesce(max(scorer_version), 0) + 1`.as('scorer_version'),
          sql.val(serializedScorer).as('serialized_scorer'),
          sql.val(creationTime).as('creation_time'),
        ]),
    )
    .returning('scorer_version')
    .executeTakeFirstOrThrow();
  return row.scorer_version;
}

/** The scorer's id in the experiment, or undefined. */
export async function findScorerId(
  db: TrackingExecutor,
  experimentId: number,
  name: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('tracking.scorers')
    .select('scorer_id')
    .where('experiment_id', '=', experimentId)
    .where('scorer_name', '=', name)
    .executeTakeFirst();
  return row?.scorer_id;
}

/** The latest version of each scorer of the experiment, by name (MLflow's `list_scorers` order). */
export function latestScorerVersions(
  db: TrackingExecutor,
  experimentId: number,
): Promise<ScorerVersionRecord[]> {
  return versions(db)
    .where('s.experiment_id', '=', experimentId)
    .where('v.scorer_version', '=', (eb) =>
      eb
        .selectFrom('tracking.scorer_versions as latest')
        .select((inner) => inner.fn.max('latest.scorer_version').as('max'))
        .whereRef('latest.scorer_id', '=', 's.scorer_id'),
    )
    .orderBy('s.scorer_name')
    .execute() as Promise<ScorerVersionRecord[]>;
}

/** Every version of the scorer, oldest first. */
export function scorerVersions(db: TrackingExecutor, scorerId: string): Promise<ScorerVersionRecord[]> {
  return versions(db).where('v.scorer_id', '=', scorerId).orderBy('v.scorer_version').execute() as Promise<
    ScorerVersionRecord[]
  >;
}

/** One version of the scorer, or its latest when `version` is undefined; undefined when it has none. */
export async function findScorerVersion(
  db: TrackingExecutor,
  scorerId: string,
  version: number | undefined,
): Promise<ScorerVersionRecord | undefined> {
  let query = versions(db).where('v.scorer_id', '=', scorerId);
  query =
    version === undefined
      ? query.orderBy('v.scorer_version', 'desc').limit(1)
      : query.where('v.scorer_version', '=', version);
  return (await query.executeTakeFirst()) as ScorerVersionRecord | undefined;
}

/** Deletes one version of the scorer; whether it had that version. */
export async function deleteScorerVersion(
  db: TrackingExecutor,
  scorerId: string,
  version: number,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom('tracking.scorer_versions')
    .where('scorer_id', '=', scorerId)
    .where('scorer_version', '=', version)
    .executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** Deletes the scorer and all its versions; whether it had any version. */
export async function deleteScorer(db: TrackingExecutor, scorerId: string): Promise<boolean> {
  const versionsDeleted = await db
    .deleteFrom('tracking.scorer_versions')
    .where('scorer_id', '=', scorerId)
    .executeTakeFirst();
  await db.deleteFrom('tracking.scorers').where('scorer_id', '=', scorerId).execute();
  return versionsDeleted.numDeletedRows > 0n;
}
