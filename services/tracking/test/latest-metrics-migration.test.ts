import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type Database, migrateToLatest } from '@mast/common';
import { BACKENDS, openTestDatabase } from '@mast/test-support';
import { sql } from 'kysely';
import { trackingMigrations } from '../src/store/migrations/index.js';

const BEFORE_0005 = Object.fromEntries(
  Object.entries(trackingMigrations.migrations).filter(([name]) => name < '0005'),
);

/**
 * Migration 0005 replaces the `latest_metrics` table by a view over the chunk summaries: the latest
 * values of a database written before it read the same afterwards (int64 steps exact, NaN greatest),
 * and points logged after it move them.
 */
describe.each(BACKENDS)('latest metrics from chunk summaries: migration 0005 (%s)', (backend) => {
  let database: Database<unknown>;
  const latest = async () =>
    (
      await sql<{ run_uuid: string; key: string; step: string; timestamp: string; value: number }>`
        select run_uuid, key, step::text, timestamp::text, value from tracking.latest_metrics
        order by run_uuid, key
      `.execute(database.db)
    ).rows;

  beforeAll(async () => {
    database = await openTestDatabase(backend);
    await migrateToLatest(database.db, { ...trackingMigrations, migrations: BEFORE_0005 });
    await sql`insert into tracking.experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
      values ('e', '', 'active', 0, 0)`.execute(database.db);
    await sql`insert into tracking.runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
      select r, e.experiment_id, r, '', 'RUNNING', 0, '', 'active' from tracking.experiments e, (values ('r1'), ('r2')) v (r)`.execute(
      database.db,
    );
    // r1/a: the greatest step lies in a later chunk; r1/b: NaN beats 5 at the same step and time;
    // r2/c: a step beyond 2^53, next to one a double cannot tell apart from it.
    await sql`insert into tracking.metrics (run_uuid, key, step, timestamp, value) values
      ('r1', 'a', 1, 50, 1), ('r1', 'a', 700, 10, 2), ('r1', 'a', 699, 90, 3),
      ('r1', 'b', 3, 1, 5), ('r1', 'b', 3, 1, 'NaN'),
      ('r2', 'c', 9007199254740992, 1, 1), ('r2', 'c', 9007199254740993, 1, 2)`.execute(database.db);
    // As the old log-batch kept them.
    await sql`insert into tracking.latest_metrics (run_uuid, key, step, timestamp, value)
      select distinct on (run_uuid, key) run_uuid, key, step, timestamp, value from tracking.metrics
      order by run_uuid, key, step desc, timestamp desc, value desc`.execute(database.db);
  });
  afterAll(async () => database.close());

  test('the latest values read the same before and after the migration, then follow new points', async () => {
    const before = await latest();
    expect(before).toEqual([
      { run_uuid: 'r1', key: 'a', step: '700', timestamp: '10', value: 2 },
      { run_uuid: 'r1', key: 'b', step: '3', timestamp: '1', value: Number.NaN },
      { run_uuid: 'r2', key: 'c', step: '9007199254740993', timestamp: '1', value: 2 },
    ]);
    await migrateToLatest(database.db, trackingMigrations);
    expect(await latest()).toEqual(before);
    await sql`insert into tracking.metrics (run_uuid, key, step, timestamp, value) values
      ('r1', 'a', 700, 11, 0), ('r1', 'b', 2, 9, 9), ('r2', 'd', -5, 1, 4)`.execute(database.db);
    expect(await latest()).toEqual([
      { run_uuid: 'r1', key: 'a', step: '700', timestamp: '11', value: 0 },
      { run_uuid: 'r1', key: 'b', step: '3', timestamp: '1', value: Number.NaN },
      { run_uuid: 'r2', key: 'c', step: '9007199254740993', timestamp: '1', value: 2 },
      { run_uuid: 'r2', key: 'd', step: '-5', timestamp: '1', value: 4 },
    ]);
    // Deleting the latest point recomputes its chunk from the points left.
    await sql`delete from tracking.metrics where run_uuid = 'r1' and key = 'a' and step = 700`.execute(
      database.db,
    );
    expect((await latest())[0]).toEqual({ run_uuid: 'r1', key: 'a', step: '699', timestamp: '90', value: 3 });
  });
});
