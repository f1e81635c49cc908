import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, DOCS_HINT, expectEmptyOk, expectError } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const SCORERS = '/api/3.0/mlflow/scorers';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What `Scorer.register` serializes (any JSON text: the server keeps it verbatim). */
const serialized = (tag: string) => JSON.stringify({ name: 'judge', instructions: `rate ${tag}` });

/**
 * MLflow 3's scorer registry over real HTTP: what `Scorer.register`, `list_scorers`, `get_scorer`,
 * `list_scorer_versions` and `delete_scorer` send (mlflow/genai/scorers/registry.py through the REST
 * store), the versions they get, and the SQL store's errors.
 */
describe.each(BACKENDS)('scorer registry (%s)', (backend) => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
  });
  afterAll(async () => server?.close());

  const http = () => server.client;
  const register = (experimentId: string, name: string, body = serialized(name)) =>
    http().post(`${SCORERS}/register`, { experiment_id: experimentId, name, serialized_scorer: body });
  const remove = (body: Record<string, unknown>) => http().request('DELETE', `${SCORERS}/delete`, body);

  async function registered(experimentId: string, name: string, body = serialized(name)): Promise<any> {
    const response = await register(experimentId, name, body);
    expect(response.status).toBe(200);
    return response.body;
  }

  test('register answers each new version with the scorer id, request fields and creation time', async () => {
    const experimentId = await createExperiment(http());
    const before = Date.now();
    const first = await registered(experimentId, 'accuracy', '{"data": "v1"}');
    expect(first).toEqual({
      version: 1,
      scorer_id: expect.stringMatching(UUID),
      experiment_id: experimentId,
      name: 'accuracy',
      serialized_scorer: '{"data": "v1"}',
      creation_time: expect.any(Number),
    });
    expect(first.creation_time).toBeGreaterThanOrEqual(before);
    const second = await registered(experimentId, 'accuracy', '{"data": "v2"}');
    expect(second).toMatchObject({ version: 2, scorer_id: first.scorer_id });
    // Versions count per experiment and name.
    expect(await registered(experimentId, 'safety')).toMatchObject({ version: 1 });
    const other = await createExperiment(http());
    const elsewhere = await registered(other, 'accuracy');
    expect(elsewhere.version).toBe(1);
    expect(elsewhere.scorer_id).not.toBe(first.scorer_id);
  });

  test('list gives the latest version of each name, sorted by name; an experiment without any gives {}', async () => {
    const experimentId = await createExperiment(http());
    expect(await http().get(`${SCORERS}/list`, { experiment_id: experimentId })).toMatchObject({
      status: 200,
      body: {},
    });
    for (const [name, body] of [
      ['safety', 's1'],
      ['accuracy', 'a1'],
      ['accuracy', 'a2'],
      ['relevance', 'r1'],
      ['accuracy', 'a3'],
      ['safety', 's2'],
    ]) {
      await registered(experimentId, name!, body);
    }
    const response = await http().get(`${SCORERS}/list`, { experiment_id: experimentId });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(['scorers']);
    const scorers = response.body.scorers;
    expect(scorers.map((s: any) => [s.scorer_name, s.scorer_version, s.serialized_scorer])).toEqual([
      ['accuracy', 3, 'a3'],
      ['relevance', 1, 'r1'],
      ['safety', 2, 's2'],
    ]);
    // `Scorer`'s experiment_id is an int32: a JSON number, unlike RegisterScorer's string.
    expect(scorers[0]).toEqual({
      experiment_id: Number(experimentId),
      scorer_name: 'accuracy',
      scorer_version: 3,
      serialized_scorer: 'a3',
      creation_time: expect.any(Number),
      scorer_id: expect.stringMatching(UUID),
    });
  });

  test('versions lists every version oldest first; get gives one or the latest', async () => {
    const experimentId = await createExperiment(http());
    const ids = [];
    for (const body of ['v1', 'v2', 'v3'])
      ids.push((await registered(experimentId, 'accuracy', body)).scorer_id);
    const versions = await http().get(`${SCORERS}/versions`, {
      experiment_id: experimentId,
      name: 'accuracy',
    });
    expect(versions.status).toBe(200);
    expect(versions.body.scorers.map((s: any) => [s.scorer_version, s.serialized_scorer])).toEqual([
      [1, 'v1'],
      [2, 'v2'],
      [3, 'v3'],
    ]);
    expect(new Set(versions.body.scorers.map((s: any) => s.scorer_id))).toEqual(new Set([ids[0]]));

    const latest = await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy' });
    expect(latest.status).toBe(200);
    expect(latest.body).toEqual({ scorer: versions.body.scorers[2] });
    const second = await http().get(`${SCORERS}/get`, {
      experiment_id: experimentId,
      name: 'accuracy',
      version: 2,
    });
    expect(second.body).toEqual({ scorer: versions.body.scorers[1] });
  });

  test("unknown names and versions are MLflow's 404s", async () => {
    const experimentId = await createExperiment(http());
    await registered(experimentId, 'accuracy');
    const missing = `Scorer with name 'nope' not found for experiment ${experimentId}.`;
    const missingVersion = `Scorer with name 'accuracy' and version 999 not found for experiment ${experimentId}.`;
    expectError(
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'nope' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      missing,
    );
    expectError(
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy', version: 999 }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      missingVersion,
    );
    expectError(
      await http().get(`${SCORERS}/versions`, { experiment_id: experimentId, name: 'nope' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      missing,
    );
    expectError(
      await remove({ experiment_id: experimentId, name: 'nope' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      missing,
    );
    expectError(
      await remove({ experiment_id: experimentId, name: 'accuracy', version: 999 }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      missingVersion,
    );
  });

  test('delete removes one version, or every version (and the name) when none is given', async () => {
    const experimentId = await createExperiment(http());
    for (const body of ['v1', 'v2', 'v3']) await registered(experimentId, 'accuracy', body);
    const first = await registered(experimentId, 'safety');

    expectEmptyOk(await remove({ experiment_id: experimentId, name: 'accuracy', version: 3 }));
    expectError(
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy', version: 3 }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // The latest is now version 2, and the next registration takes 3 again (the highest plus one).
    const latest = await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy' });
    expect(latest.body.scorer).toMatchObject({ scorer_version: 2, serialized_scorer: 'v2' });
    expect(await registered(experimentId, 'accuracy', 'v3b')).toMatchObject({ version: 3 });

    // A body-less DELETE reads the query string, as every Mast RPC does.
    expectEmptyOk(
      await http().request(
        'DELETE',
        `${SCORERS}/delete?experiment_id=${experimentId}&name=accuracy&version=1`,
      ),
    );
    const versions = await http().get(`${SCORERS}/versions`, {
      experiment_id: experimentId,
      name: 'accuracy',
    });
    expect(versions.body.scorers.map((s: any) => s.scorer_version)).toEqual([2, 3]);

    expectEmptyOk(await remove({ experiment_id: experimentId, name: 'accuracy' }));
    const list = await http().get(`${SCORERS}/list`, { experiment_id: experimentId });
    expect(list.body.scorers.map((s: any) => s.scorer_name)).toEqual(['safety']);
    expectError(
      await http().get(`${SCORERS}/versions`, { experiment_id: experimentId, name: 'accuracy' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // The name starts over: a new scorer at version 1.
    const again = await registered(experimentId, 'accuracy');
    expect(again.version).toBe(1);
    expect(again.scorer_id).not.toBe(first.scorer_id);
  });

  test('a name whose every version was deleted one by one is not found, and registers at version 1', async () => {
    const experimentId = await createExperiment(http());
    await registered(experimentId, 'accuracy');
    expectEmptyOk(await remove({ experiment_id: experimentId, name: 'accuracy', version: 1 }));
    const missing = `Scorer with name 'accuracy' not found for experiment ${experimentId}.`;
    for (const response of [
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy' }),
      await http().get(`${SCORERS}/versions`, { experiment_id: experimentId, name: 'accuracy' }),
      await remove({ experiment_id: experimentId, name: 'accuracy' }),
    ]) {
      expectError(response, 404, 'RESOURCE_DOES_NOT_EXIST', missing);
    }
    expect(await http().get(`${SCORERS}/list`, { experiment_id: experimentId })).toMatchObject({ body: {} });
    expect(await registered(experimentId, 'accuracy')).toMatchObject({ version: 1 });
  });

  test('unknown and deleted experiments: 404, then 400 until restored (scorers survive soft deletion)', async () => {
    expectError(
      await register('999999999', 'accuracy'),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No Experiment with id=999999999 exists',
    );
    expectError(
      await http().get(`${SCORERS}/list`, { experiment_id: 'abc' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No Experiment with id=abc exists',
    );
    const experimentId = await createExperiment(http());
    await registered(experimentId, 'accuracy');
    expect((await http().post(`${API}/experiments/delete`, { experiment_id: experimentId })).status).toBe(
      200,
    );
    const inactive = `The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`;
    for (const response of [
      await register(experimentId, 'accuracy'),
      await http().get(`${SCORERS}/list`, { experiment_id: experimentId }),
      await http().get(`${SCORERS}/versions`, { experiment_id: experimentId, name: 'accuracy' }),
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'accuracy' }),
      await remove({ experiment_id: experimentId, name: 'accuracy' }),
    ]) {
      expectError(response, 400, 'INVALID_PARAMETER_VALUE', inactive);
    }
    expect((await http().post(`${API}/experiments/restore`, { experiment_id: experimentId })).status).toBe(
      200,
    );
    const list = await http().get(`${SCORERS}/list`, { experiment_id: experimentId });
    expect(list.body.scorers.map((s: any) => [s.scorer_name, s.scorer_version])).toEqual([['accuracy', 1]]);
  });

  test("missing or malformed parameters are MLflow's 400s, and nothing is stored", async () => {
    const experimentId = await createExperiment(http());
    const missing = (name: string) => `Missing value for required parameter '${name}'.${DOCS_HINT}`;
    expectError(
      await http().post(`${SCORERS}/register`, { name: 'a', serialized_scorer: '{}' }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('experiment_id'),
    );
    expectError(
      await http().post(`${SCORERS}/register`, {
        experiment_id: experimentId,
        name: '',
        serialized_scorer: '{}',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('name'),
    );
    expectError(
      await http().post(`${SCORERS}/register`, { experiment_id: experimentId, name: 'a' }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('serialized_scorer'),
    );
    expectError(
      await http().post(`${SCORERS}/register`, {
        experiment_id: experimentId,
        name: 'a',
        serialized_scorer: {},
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Invalid value \{\} for parameter 'serialized_scorer' supplied/,
    );
    expectError(
      await http().get(`${SCORERS}/list`),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('experiment_id'),
    );
    expectError(
      await http().get(`${SCORERS}/versions`, { experiment_id: experimentId }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('name'),
    );
    expectError(
      await http().get(`${SCORERS}/get`, { experiment_id: experimentId }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('name'),
    );
    expectError(
      await remove({ experiment_id: experimentId }),
      400,
      'INVALID_PARAMETER_VALUE',
      missing('name'),
    );
    await registered(experimentId, 'a');
    for (const version of ['abc', '1.5', '2147483648']) {
      expectError(
        await http().get(`${SCORERS}/get`, { experiment_id: experimentId, name: 'a', version }),
        400,
        'INVALID_PARAMETER_VALUE',
        /parameter 'version'/,
      );
    }
    expectError(
      await remove({ experiment_id: experimentId, name: 'a', version: 2 ** 40 }),
      400,
      'INVALID_PARAMETER_VALUE',
      /parameter 'version'/,
    );
    const list = await http().get(`${SCORERS}/list`, { experiment_id: experimentId });
    expect(list.body.scorers.map((s: any) => [s.scorer_name, s.scorer_version])).toEqual([['a', 1]]);
  });

  test('the web UI reaches the same RPCs under /ajax-api/3.0; /api/2.0 has none', async () => {
    const experimentId = await createExperiment(http());
    const response = await http().post('/ajax-api/3.0/mlflow/scorers/register', {
      experiment_id: experimentId,
      name: 'judge',
      serialized_scorer: '{}',
    });
    expect(response.body).toMatchObject({ version: 1 });
    const list = await http().get('/ajax-api/3.0/mlflow/scorers/list', { experiment_id: experimentId });
    expect(list.body.scorers.map((s: any) => s.scorer_name)).toEqual(['judge']);
    expect((await http().get(`${API}/scorers/list`, { experiment_id: experimentId })).status).toBe(404);
  });
});

/**
 * Registrations of one name fired at once against real PostgreSQL (PGlite runs one session at a time,
 * so it can never show a race): each gets its own version, none lost or doubled.
 */
describe('concurrent scorer registrations (postgres)', () => {
  const WRITERS = 12;
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer('postgres');
  });
  afterAll(async () => server?.close());

  test(`${WRITERS} registrations of one new name at once get versions 1..${WRITERS}`, async () => {
    for (let round = 0; round < 3; round++) {
      const experimentId = await createExperiment(server.client);
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.client.post(`${SCORERS}/register`, {
            experiment_id: experimentId,
            name: 'judge',
            serialized_scorer: `w${i}`,
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(WRITERS).fill(200));
      const versions = responses.map((r) => r.body.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
      expect(new Set(responses.map((r) => r.body.scorer_id)).size).toBe(1);
      // What each writer was told is what is stored.
      const stored = await server.client.get(`${SCORERS}/versions`, {
        experiment_id: experimentId,
        name: 'judge',
      });
      expect(stored.body.scorers.map((s: any) => [s.scorer_version, s.serialized_scorer])).toEqual(
        [...responses]
          .sort((a, b) => a.body.version - b.body.version)
          .map((r) => [r.body.version, r.body.serialized_scorer]),
      );
    }
  });
});
