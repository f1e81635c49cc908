import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { API, createModel, uniqueName } from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

/** Rounds per scenario: each fires its conflicting requests at once on a fresh name. */
const ROUNDS = 20;
/** Concurrent requests per round (the test database's pool has 10 connections). */
const WRITERS = 8;

/**
 * Conflicting registry writes fired at once over HTTP against real PostgreSQL (PGlite runs one session
 * at a time, so it can never show a race), many times: one model per name, and versions of one model
 * numbered 1..n without gaps or duplicates, none lost, each with exactly one outbox event.
 */
describe('concurrent registry writes (postgres)', () => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistryServer('postgres');
  });
  afterAll(async () => server.close());

  test('create registered model: one wins, the others get RESOURCE_ALREADY_EXISTS', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = uniqueName('race');
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.client.post(`${API}/registered-models/create`, { name, description: `w${i}` }),
        ),
      );
      const ok = responses.filter((r) => r.status === 200);
      expect(ok).toHaveLength(1);
      for (const response of responses.filter((r) => r.status !== 200)) {
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          error_code: 'RESOURCE_ALREADY_EXISTS',
          message: `Registered Model (name=${name}) already exists.`,
        });
      }
      const got = await server.client.get(`${API}/registered-models/get`, { name });
      expect(got.body.registered_model.description).toBe(ok[0].body.registered_model.description);
      const events = await sql<{ n: string }>`
        select count(*) as n from registry.outbox
        where type = 'REGISTERED_MODEL_CREATED' and payload->>'name' = ${name}
      `.execute(server.database.db);
      expect(Number(events.rows[0].n)).toBe(1);
    }
  });

  test('create model version on one model: distinct consecutive numbers, none lost', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = uniqueName('versions');
      await createModel(server.client, name);
      const responses = await Promise.all(
        Array.from({ length: WRITERS * 2 }, (_, i) =>
          server.client.post(`${API}/model-versions/create`, { name, source: `s3://bucket/m${i}` }),
        ),
      );
      for (const response of responses) expect(response.status).toBe(200);
      const numbers = responses.map((r) => Number(r.body.model_version.version)).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: WRITERS * 2 }, (_, i) => i + 1));
      const sources = responses.map((r) => r.body.model_version.source).sort();
      const search = await server.client.get(`${API}/model-versions/search`, { filter: `name = '${name}'` });
      expect(search.body.model_versions.map((v: { source: string }) => v.source).sort()).toEqual(sources);
      const events = await sql<{ version: string }>`
        select payload->>'version' as version from registry.outbox
        where type = 'MODEL_VERSION_CREATED' and payload->>'name' = ${name}
      `.execute(server.database.db);
      expect(events.rows.map((row) => Number(row.version)).sort((a, b) => a - b)).toEqual(numbers);
    }
  });

  test('transitions with archive_existing_versions racing: at most one version stays in Production', async () => {
    for (let round = 0; round < 10; round++) {
      const name = uniqueName('stage');
      await createModel(server.client, name);
      for (let i = 0; i < WRITERS; i++) {
        await server.client.post(`${API}/model-versions/create`, { name, source: `s3://bucket/m${i}` });
      }
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.client.post(`${API}/model-versions/transition-stage`, {
            name,
            version: String(i + 1),
            stage: 'Production',
            archive_existing_versions: true,
          }),
        ),
      );
      for (const response of responses) expect(response.status).toBe(200);
      const latest = await server.client.post(`${API}/registered-models/get-latest-versions`, {
        name,
        stages: ['Production'],
      });
      expect(latest.body.model_versions).toHaveLength(1);
      const search = await server.client.get(`${API}/model-versions/search`, { filter: `name = '${name}'` });
      const inProduction = search.body.model_versions.filter(
        (v: { current_stage: string }) => v.current_stage === 'Production',
      );
      expect(inProduction).toHaveLength(1);
    }
  });
});
