import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  API,
  createExperiment,
  createRunId,
  DOCS_HINT,
  expectEmptyOk,
  expectError,
  getExperiment,
  getRun,
  uniqueName,
} from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** Experiment RPCs (spec §1.1) against the Experiment shape of §2. */
describe.each(BACKENDS)('experiments (%s)', (backend) => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
  });
  afterAll(async () => server.close());

  const post = (path: string, body: Record<string, unknown>) => server.client.post(`${API}${path}`, body);

  describe('Default experiment', () => {
    test('experiment "0" named Default exists, active, without tags', async () => {
      const response = await server.client.get(`${API}/experiments/get`, { experiment_id: '0' });
      expect(response.status).toBe(200);
      const { experiment } = response.body;
      expect(experiment).toEqual({
        experiment_id: '0',
        name: 'Default',
        artifact_location: 'mlflow-artifacts:/0',
        lifecycle_stage: 'active',
        last_update_time: expect.any(Number),
        creation_time: expect.any(Number),
      });
      const byName = await server.client.get(`${API}/experiments/get-by-name`, {
        experiment_name: 'Default',
      });
      expect(byName.body).toEqual(response.body);
    });
  });

  describe('create', () => {
    test('returns the new id; get shows every field of the Experiment shape', async () => {
      const before = Date.now();
      const name = uniqueName('create');
      const response = await post('/experiments/create', {
        name,
        tags: [
          { key: 'team', value: 'risk' },
          { key: 'mlflow.note.content', value: 'a description' },
          { key: 'empty', value: '' },
        ],
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ experiment_id: expect.stringMatching(/^[1-9]\d*$/) });
      const id = response.body.experiment_id;
      const experiment = await getExperiment(server.client, id);
      expect(experiment).toEqual({
        experiment_id: id,
        name,
        artifact_location: `mlflow-artifacts:/${id}`,
        lifecycle_stage: 'active',
        last_update_time: experiment.creation_time,
        creation_time: expect.any(Number),
        tags: expect.arrayContaining([
          { key: 'team', value: 'risk' },
          { key: 'mlflow.note.content', value: 'a description' },
          { key: 'empty', value: '' },
        ]),
      });
      expect(experiment.tags).toHaveLength(3);
      expect(experiment.creation_time).toBeGreaterThanOrEqual(before);
      expect(experiment.creation_time).toBeLessThanOrEqual(Date.now());
    });

    test('ids increase; a given artifact_location is kept verbatim', async () => {
      const first = Number(await createExperiment(server.client));
      const id = await createExperiment(server.client, uniqueName('s3'), {
        artifact_location: 's3://bucket/some/prefix',
      });
      expect(Number(id)).toBeGreaterThan(first);
      expect((await getExperiment(server.client, id)).artifact_location).toBe('s3://bucket/some/prefix');
      const runId = await createRunId(server.client, id);
      expect((await getRun(server.client, runId)).info.artifact_uri).toBe(
        `s3://bucket/some/prefix/${runId}/artifacts`,
      );
      // An empty artifact_location means "unset", like protobuf's default.
      const defaulted = await createExperiment(server.client, uniqueName('empty-loc'), {
        artifact_location: '',
      });
      expect((await getExperiment(server.client, defaulted)).artifact_location).toBe(
        `mlflow-artifacts:/${defaulted}`,
      );
    });

    test('a relative local artifact_location is made absolute against the server cwd (resolve_uri_if_local)', async () => {
      const cwd = process.cwd();
      for (const [given, stored] of [
        ['my_location', `${cwd}/my_location`],
        ['./a/b', `${cwd}/a/b`],
        ['file:rel/dir', `file://${cwd}/rel/dir`],
        ['/abs/dir', '/abs/dir'],
        ['file:///abs/dir', 'file:///abs/dir'],
      ]) {
        const id = await createExperiment(server.client, uniqueName('local'), { artifact_location: given });
        expect({ given, stored: (await getExperiment(server.client, id)).artifact_location }).toEqual({
          given,
          stored,
        });
      }
    });

    test('duplicate tag keys in one request: the last value wins', async () => {
      const id = await createExperiment(server.client, uniqueName('duptags'), {
        tags: [
          { key: 'k', value: 'first' },
          { key: 'k', value: 'second' },
        ],
      });
      expect((await getExperiment(server.client, id)).tags).toEqual([{ key: 'k', value: 'second' }]);
    });

    test('a duplicate name is 400 RESOURCE_ALREADY_EXISTS, also when the other one is deleted', async () => {
      const name = uniqueName('dup');
      const id = await createExperiment(server.client, name);
      const message = `Experiment(name=${name}) already exists.`;
      expectError(await post('/experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', message);
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expectError(await post('/experiments/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', message);
    });

    test('name: required, non-empty, at most 500 characters, any characters', async () => {
      const missing = `Missing value for required parameter 'name'.${DOCS_HINT}`;
      expectError(await post('/experiments/create', {}), 400, 'INVALID_PARAMETER_VALUE', missing);
      expectError(await post('/experiments/create', { name: '' }), 400, 'INVALID_PARAMETER_VALUE', missing);
      expectError(await post('/experiments/create', { name: null }), 400, 'INVALID_PARAMETER_VALUE', missing);
      const prefix = uniqueName('long');
      const long = prefix + 'x'.repeat(500 - prefix.length);
      expect(long).toHaveLength(500);
      expect((await post('/experiments/create', { name: long })).status).toBe(200);
      expectError(
        await post('/experiments/create', { name: `${long}y` }),
        400,
        'INVALID_PARAMETER_VALUE',
        /500/,
      );
      for (const name of [uniqueName('/Users/ada@example.com/my exp'), uniqueName('ünïcödé ✓'), ' ']) {
        const response = await post('/experiments/create', { name });
        expect(response.status).toBe(200);
        expect((await getExperiment(server.client, response.body.experiment_id)).name).toBe(name);
      }
    });

    test('artifact_location: runs:/ URIs, fragments, URL params and `..` in a query are rejected', async () => {
      for (const location of [
        'runs:/abc/model',
        's3://bucket/path#frag',
        's3://bucket/a;b=c',
        's3://bucket/p?a=../b',
        'http://host/p?x=%252e%252e/secret',
      ]) {
        expectError(
          await post('/experiments/create', { name: uniqueName('loc'), artifact_location: location }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      }
      const ok = await post('/experiments/create', {
        name: uniqueName('loc'),
        artifact_location: 's3://bucket/p?version=1.2',
      });
      expect(ok.status).toBe(200);
      // MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH's default, 2048 characters.
      const longest = `s3://b/${'k'.repeat(2048 - 'S3://b/'.length)}`;
      expect(
        (await post('/experiments/create', { name: uniqueName('loc'), artifact_location: longest })).status,
      ).toBe(200);
      expectError(
        await post('/experiments/create', { name: uniqueName('loc'), artifact_location: `${longest}k` }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Invalid artifact path length\. The length of the artifact path cannot be greater than 2048 characters\./,
      );
    });

    test('tags: keys validated like run tags, values at most 5000 characters', async () => {
      const ok = await post('/experiments/create', {
        name: uniqueName('tagok'),
        tags: [{ key: 'k', value: 'v'.repeat(5000) }],
      });
      expect(ok.status).toBe(200);
      expectError(
        await post('/experiments/create', {
          name: uniqueName('taglong'),
          tags: [{ key: 'k', value: 'v'.repeat(5001) }],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /tags\[0\]\.value.*5000/,
      );
      expectError(
        await post('/experiments/create', {
          name: uniqueName('tagkey'),
          tags: [{ key: 'bad!key', value: 'v' }],
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /Invalid tag name: 'bad!key'/,
      );
      expectError(
        await post('/experiments/create', { name: uniqueName('tagmissing'), tags: [{ value: 'v' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'tags[0].key'.${DOCS_HINT}`,
      );
    });
  });

  describe('get and get-by-name', () => {
    test('unknown or non-numeric ids are 404 RESOURCE_DOES_NOT_EXIST', async () => {
      for (const id of ['987654', 'abc', '-1', '1.5']) {
        expectError(
          await server.client.get(`${API}/experiments/get`, { experiment_id: id }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          `No Experiment with id=${id} exists`,
        );
      }
    });

    test('get works on deleted experiments', async () => {
      const id = await createExperiment(server.client);
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expect((await getExperiment(server.client, id)).lifecycle_stage).toBe('deleted');
    });

    test('get-by-name: 404 when missing, finds deleted experiments, name is exact', async () => {
      const name = uniqueName('byname');
      expectError(
        await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: name }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Could not find experiment with name '${name}'`,
      );
      const id = await createExperiment(server.client, name);
      const found = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: name });
      expect(found.body.experiment).toEqual(await getExperiment(server.client, id));
      expectError(
        await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: name.toUpperCase() }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      const deleted = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: name });
      expect(deleted.body.experiment).toMatchObject({ experiment_id: id, lifecycle_stage: 'deleted' });
      expectError(
        await server.client.get(`${API}/experiments/get-by-name`, {}),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'experiment_name'.${DOCS_HINT}`,
      );
    });
  });

  describe('delete and restore', () => {
    test('delete marks the experiment and all its runs deleted; restore brings them back', async () => {
      const http = server.client;
      const id = await createExperiment(http);
      const before = await getExperiment(http, id);
      const active = await createRunId(http, id);
      const alreadyDeleted = await createRunId(http, id);
      expectEmptyOk(await post('/runs/delete', { run_id: alreadyDeleted }));

      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      const deleted = await getExperiment(http, id);
      expect(deleted).toEqual({
        ...before,
        lifecycle_stage: 'deleted',
        last_update_time: expect.any(Number),
      });
      expect(deleted.last_update_time).toBeGreaterThanOrEqual(before.last_update_time);
      expect((await getRun(http, active)).info.lifecycle_stage).toBe('deleted');
      expect((await getRun(http, alreadyDeleted)).info.lifecycle_stage).toBe('deleted');
      const activeOnly = await post('/runs/search', { experiment_ids: [id] });
      expect(activeOnly.body).toEqual({});

      expectEmptyOk(await post('/experiments/restore', { experiment_id: id }));
      const restored = await getExperiment(http, id);
      expect(restored.lifecycle_stage).toBe('active');
      expect(restored.last_update_time).toBeGreaterThanOrEqual(deleted.last_update_time);
      expect((await getRun(http, active)).info.lifecycle_stage).toBe('active');
      const search = await post('/runs/search', { experiment_ids: [id] });
      expect(search.body.runs.map((r: any) => r.info.run_id).sort()).toContain(active);
    });

    test('only active experiments can be deleted and only deleted ones restored (else 404)', async () => {
      const id = await createExperiment(server.client);
      const notFound = `No Experiment with id=${id} exists`;
      expectError(
        await post('/experiments/restore', { experiment_id: id }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        notFound,
      );
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expectError(
        await post('/experiments/delete', { experiment_id: id }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        notFound,
      );
      expectEmptyOk(await post('/experiments/restore', { experiment_id: id }));
      expect((await getExperiment(server.client, id)).lifecycle_stage).toBe('active');
    });

    test('unknown ids are 404; a missing id is 400; numeric ids are accepted', async () => {
      for (const path of ['/experiments/delete', '/experiments/restore']) {
        expectError(
          await post(path, { experiment_id: '424242' }),
          404,
          'RESOURCE_DOES_NOT_EXIST',
          'No Experiment with id=424242 exists',
        );
        expectError(await post(path, { experiment_id: 'xyz' }), 404, 'RESOURCE_DOES_NOT_EXIST');
        expectError(
          await post(path, {}),
          400,
          'INVALID_PARAMETER_VALUE',
          `Missing value for required parameter 'experiment_id'.${DOCS_HINT}`,
        );
      }
      const id = await createExperiment(server.client);
      expectEmptyOk(await post('/experiments/delete', { experiment_id: Number(id) }));
      expectEmptyOk(await post('/experiments/restore', { experiment_id: Number(id) }));
    });

    test('runs cannot be created in a deleted experiment', async () => {
      const id = await createExperiment(server.client);
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expectError(
        await post('/runs/create', { experiment_id: id }),
        400,
        'INVALID_PARAMETER_VALUE',
        `The experiment ${id} must be in the 'active' state. Current state is deleted.`,
      );
    });
  });

  describe('update (rename)', () => {
    test('renames and bumps last_update_time', async () => {
      const id = await createExperiment(server.client);
      const before = await getExperiment(server.client, id);
      const newName = uniqueName('renamed');
      expectEmptyOk(await post('/experiments/update', { experiment_id: id, new_name: newName }));
      const after = await getExperiment(server.client, id);
      expect(after).toEqual({ ...before, name: newName, last_update_time: expect.any(Number) });
      expect(after.last_update_time).toBeGreaterThanOrEqual(before.last_update_time);
      const byName = await server.client.get(`${API}/experiments/get-by-name`, { experiment_name: newName });
      expect(byName.body.experiment.experiment_id).toBe(id);
      // Renaming to its own name is fine.
      expectEmptyOk(await post('/experiments/update', { experiment_id: id, new_name: newName }));
    });

    test('a taken name is RESOURCE_ALREADY_EXISTS; a deleted experiment is 500 INVALID_STATE', async () => {
      const taken = uniqueName('taken');
      await createExperiment(server.client, taken);
      const id = await createExperiment(server.client);
      expectError(
        await post('/experiments/update', { experiment_id: id, new_name: taken }),
        400,
        'RESOURCE_ALREADY_EXISTS',
        `Experiment(name=${taken}) already exists.`,
      );
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      expectError(
        await post('/experiments/update', { experiment_id: id, new_name: uniqueName('x') }),
        500,
        'INVALID_STATE',
        'Cannot rename a non-active experiment.',
      );
    });

    test('validation: unknown id 404, new_name required and at most 500 characters', async () => {
      expectError(
        await post('/experiments/update', { experiment_id: '55555', new_name: 'x' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'No Experiment with id=55555 exists',
      );
      const id = await createExperiment(server.client);
      expectError(
        await post('/experiments/update', { experiment_id: id }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'new_name'.${DOCS_HINT}`,
      );
      expectError(
        await post('/experiments/update', { experiment_id: id, new_name: 'n'.repeat(501) }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
      expectError(await post('/experiments/update', { new_name: 'x' }), 400, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('experiment tags', () => {
    test('set adds and overwrites; delete removes', async () => {
      const id = await createExperiment(server.client);
      expectEmptyOk(
        await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '1' }),
      );
      expectEmptyOk(
        await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'b', value: '' }),
      );
      expectEmptyOk(
        await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '2' }),
      );
      expect((await getExperiment(server.client, id)).tags).toEqual([
        { key: 'a', value: '2' },
        { key: 'b', value: '' },
      ]);
      expectEmptyOk(await post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'a' }));
      expect((await getExperiment(server.client, id)).tags).toEqual([{ key: 'b', value: '' }]);
      expectEmptyOk(await post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'b' }));
      expect((await getExperiment(server.client, id)).tags).toBeUndefined();
    });

    test('value > 5000 characters and bad keys are 400; key is required', async () => {
      const id = await createExperiment(server.client);
      expectEmptyOk(
        await post('/experiments/set-experiment-tag', {
          experiment_id: id,
          key: 'k',
          value: 'x'.repeat(5000),
        }),
      );
      expectError(
        await post('/experiments/set-experiment-tag', {
          experiment_id: id,
          key: 'k',
          value: 'x'.repeat(5001),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /5000/,
      );
      expect((await getExperiment(server.client, id)).tags[0].value).toHaveLength(5000);
      for (const key of ['a//b', '/lead', 'bad*char', 'k'.repeat(251)]) {
        expectError(
          await post('/experiments/set-experiment-tag', { experiment_id: id, key, value: 'v' }),
          400,
          'INVALID_PARAMETER_VALUE',
        );
      }
      expectError(
        await post('/experiments/set-experiment-tag', { experiment_id: id, value: 'v' }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Missing value for required parameter 'key'.${DOCS_HINT}`,
      );
    });

    test('deleting a missing tag is 404; unknown experiment 404; deleted experiment 400', async () => {
      const id = await createExperiment(server.client);
      expectError(
        await post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'nope' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `No tag with name: nope in experiment with id ${id}`,
      );
      expectError(
        await post('/experiments/set-experiment-tag', { experiment_id: '99999', key: 'k', value: 'v' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'No Experiment with id=99999 exists',
      );
      expectError(
        await post('/experiments/delete-experiment-tag', { experiment_id: '99999', key: 'k' }),
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      expectEmptyOk(
        await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' }),
      );
      expectEmptyOk(await post('/experiments/delete', { experiment_id: id }));
      const inactive = `The experiment ${id} must be in the 'active' state. Current state is deleted.`;
      expectError(
        await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'w' }),
        400,
        'INVALID_PARAMETER_VALUE',
        inactive,
      );
      expectError(
        await post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'k' }),
        400,
        'INVALID_PARAMETER_VALUE',
        inactive,
      );
      expect((await getExperiment(server.client, id)).tags).toEqual([{ key: 'k', value: 'v' }]);
    });
  });
});
