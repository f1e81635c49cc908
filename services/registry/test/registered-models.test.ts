import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import {
  AJAX,
  API,
  createModel,
  createVersion,
  DOCS_HINT,
  del,
  expectEmptyOk,
  expectError,
  patch,
  uniqueName,
} from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

describe.each(BACKENDS)('registered models and versions over HTTP (%s)', (backend) => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistryServer(backend);
  });
  afterAll(async () => server.close());
  const http = () => server.client;

  test('create/get: fields present as MLflow writes them, empty lists omitted', async () => {
    const name = uniqueName();
    const created = await createModel(http(), name);
    expect(created).toEqual({
      name,
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: created.creation_timestamp,
    });
    const got = await http().get(`${API}/registered-models/get`, { name });
    expect(got.body).toEqual({ registered_model: created });
    const ajax = await http().get(`${AJAX}/registered-models/get`, { name });
    expect(ajax.status).toBe(200);

    const tagged = await createModel(http(), uniqueName(), {
      description: 'fraud model',
      tags: [
        { key: 'team', value: 'risk' },
        { key: 'team', value: 'risk2' },
        { key: 'empty', value: '' },
      ],
    });
    expect(tagged.description).toBe('fraud model');
    expect(tagged.tags).toEqual([
      { key: 'empty', value: '' },
      { key: 'team', value: 'risk2' },
    ]);
  });

  test('create errors: duplicate name, missing name, bad tags', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    expectError(
      await http().post(`${API}/registered-models/create`, { name }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Registered Model (name=${name}) already exists.`,
    );
    expectError(
      await http().post(`${API}/registered-models/create`, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      `Missing value for required parameter 'name'.${DOCS_HINT}`,
    );
    expectError(
      await http().post(`${API}/registered-models/create`, {
        name: uniqueName(),
        tags: [{ key: 'k', value: 'x'.repeat(5001) }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      "'value' exceeds the maximum length of 5000 characters",
    );
    expectError(
      await http().post(`${API}/registered-models/create`, {
        name: uniqueName(),
        tags: [{ key: '../x', value: '' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http().get(`${API}/registered-models/get`, { name: 'nope-model' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Registered Model with name=nope-model not found',
    );
  });

  test('rename moves versions and aliases; taken/unknown names are errors', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name);
    expectEmptyOk(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' }),
    );
    const newName = uniqueName('renamed');
    const renamed = await http().post(`${API}/registered-models/rename`, { name, new_name: newName });
    expect(renamed.status).toBe(200);
    expect(renamed.body.registered_model.name).toBe(newName);
    expect(renamed.body.registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    const version = await http().get(`${API}/model-versions/get`, { name: newName, version: '1' });
    expect(version.body.model_version).toMatchObject({ name: newName, version: '1', aliases: ['champion'] });
    expectError(await http().get(`${API}/registered-models/get`, { name }), 404, 'RESOURCE_DOES_NOT_EXIST');

    const other = uniqueName();
    await createModel(http(), other);
    expectError(
      await http().post(`${API}/registered-models/rename`, { name: other, new_name: newName }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Registered Model (name=${newName}) already exists.`,
    );
    expectError(
      await http().post(`${API}/registered-models/rename`, { name: 'missing-x', new_name: uniqueName() }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  test('update description, delete model (hard: versions gone)', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name);
    const updated = await patch(http(), `${API}/registered-models/update`, { name, description: 'new' });
    expect(updated.body.registered_model.description).toBe('new');
    const cleared = await patch(http(), `${API}/registered-models/update`, { name, description: '' });
    expect(cleared.body.registered_model.description).toBeUndefined();
    expectEmptyOk(await del(http(), `${API}/registered-models/delete`, { name }));
    expectError(await http().get(`${API}/registered-models/get`, { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(
      await http().get(`${API}/model-versions/get`, { name, version: '1' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await del(http(), `${API}/registered-models/delete`, { name }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // The name can be registered again, its versions starting at 1.
    await createModel(http(), name);
    expect((await createVersion(http(), name)).version).toBe('1');
  });

  test('model tags: set overwrites, delete of a missing key is a no-op, unknown model 404', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    expectEmptyOk(await http().post(`${API}/registered-models/set-tag`, { name, key: 'a', value: '1' }));
    expectEmptyOk(await http().post(`${API}/registered-models/set-tag`, { name, key: 'a', value: '2' }));
    expectEmptyOk(await http().post(`${API}/registered-models/set-tag`, { name, key: 'b', value: '' }));
    let model = (await http().get(`${API}/registered-models/get`, { name })).body.registered_model;
    expect(model.tags).toEqual([
      { key: 'a', value: '2' },
      { key: 'b', value: '' },
    ]);
    expectEmptyOk(await del(http(), `${API}/registered-models/delete-tag`, { name, key: 'a' }));
    expectEmptyOk(await del(http(), `${API}/registered-models/delete-tag`, { name, key: 'zzz' }));
    model = (await http().get(`${API}/registered-models/get`, { name })).body.registered_model;
    expect(model.tags).toEqual([{ key: 'b', value: '' }]);
    expectError(
      await http().post(`${API}/registered-models/set-tag`, { name: 'missing-y', key: 'a', value: '1' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await del(http(), `${API}/registered-models/delete-tag`, { name: 'missing-y', key: 'a' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http().post(`${API}/registered-models/set-tag`, { name, key: 'x'.repeat(251), value: '1' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  test('versions: numbers never reused after deletes; soft delete hides the version', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    const v1 = await createVersion(http(), name, {
      run_id: 'run1',
      description: 'first',
      tags: [{ key: 't', value: 'v' }],
    });
    expect(v1).toEqual({
      name,
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: v1.creation_timestamp,
      current_stage: 'None',
      description: 'first',
      source: 'mlflow-artifacts:/1/abc/artifacts/model',
      run_id: 'run1',
      status: 'READY',
      tags: [{ key: 't', value: 'v' }],
    });
    await createVersion(http(), name);
    await createVersion(http(), name);
    expectEmptyOk(await del(http(), `${API}/model-versions/delete`, { name, version: '3' }));
    expect((await createVersion(http(), name)).version).toBe('4');
    expectError(
      await http().get(`${API}/model-versions/get`, { name, version: '3' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Model Version (name=${name}, version=3) not found`,
    );
    expectError(
      await del(http(), `${API}/model-versions/delete`, { name, version: '3' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await http().get(`${API}/model-versions/get`, { name, version: 'x' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Parameter 'version' must be an integer, got 'x'.",
    );
    expectError(
      await http().post(`${API}/model-versions/create`, { name: 'missing-z', source: 's3://b/m' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Registered Model with name=missing-z not found',
    );
    const search = await http().get(`${API}/model-versions/search`, { filter: `name = '${name}'` });
    expect(search.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['4', '2', '1']);
  });

  test('update version description; get-download-uri', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name, { source: 's3://bucket/path/model' });
    const updated = await patch(http(), `${API}/model-versions/update`, {
      name,
      version: '1',
      description: 'd',
    });
    expect(updated.body.model_version.description).toBe('d');
    const uri = await http().get(`${API}/model-versions/get-download-uri`, { name, version: '1' });
    expect(uri.body).toEqual({ artifact_uri: 's3://bucket/path/model' });
    // A models:/<name>/<version> source resolves to that version's location.
    const v2 = await createVersion(http(), name, { source: `models:/${name}/1` });
    const uri2 = await http().get(`${API}/model-versions/get-download-uri`, { name, version: v2.version });
    expect(uri2.body).toEqual({ artifact_uri: 's3://bucket/path/model' });
  });

  test('source validation: relative paths, local paths, prompts', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    for (const source of [
      'mlflow-artifacts://host:9000/models/..%2f..%2fartifacts',
      'mlflow-artifacts://host:9000/models/artifact%00',
      's3:/my_bucket/models/path/../../other/path',
      'http://host/api/2.0/mlflow-artifacts/artifacts/../../',
    ]) {
      expectError(
        await http().post(`${API}/model-versions/create`, { name, source }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Invalid model version source: .*an absolute path must be provided without relative path references present/,
      );
    }
    for (const source of ['/tmp/model', 'file:///tmp/model', 'relative/model']) {
      expectError(
        await http().post(`${API}/model-versions/create`, { name, source, run_id: 'r' }),
        400,
        'INVALID_PARAMETER_VALUE',
        /^Invalid model version source: .*To use a local path as a model version source, the run_id request parameter/,
      );
    }
    // Prompts skip the run anchoring (only local paths are refused).
    const prompt = await http().post(`${API}/model-versions/create`, {
      name,
      source: 'dummy-source',
      tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
    });
    expect(prompt.status).toBe(200);
    expectError(
      await http().post(`${API}/model-versions/create`, {
        name,
        source: '/etc/passwd',
        tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid prompt source: '/etc/passwd'. Local source paths are not allowed for prompts.",
    );
  });

  test('stages: case-insensitive, archive_existing_versions, latest versions', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    for (let i = 0; i < 4; i++) await createVersion(http(), name);
    const t1 = await http().post(`${API}/model-versions/transition-stage`, {
      name,
      version: '1',
      stage: 'production',
    });
    expect(t1.body.model_version.current_stage).toBe('Production');
    await http().post(`${API}/model-versions/transition-stage`, { name, version: '2', stage: 'PRODUCTION' });
    await http().post(`${API}/model-versions/transition-stage`, { name, version: '3', stage: 'staging' });
    let latest = await http().post(`${API}/registered-models/get-latest-versions`, { name });
    expect(latest.body.model_versions.map((v: any) => [v.version, v.current_stage])).toEqual([
      ['2', 'Production'],
      ['3', 'Staging'],
      ['4', 'None'],
    ]);
    latest = await http().get(`${API}/registered-models/get-latest-versions`, {
      name,
      stages: ['staging', 'None'],
    });
    expect(latest.body.model_versions.map((v: any) => v.version)).toEqual(['3', '4']);
    latest = await http().post(`${API}/registered-models/get-latest-versions`, {
      name,
      stages: ['Archived'],
    });
    expect(latest.body).toEqual({});

    const t4 = await http().post(`${API}/model-versions/transition-stage`, {
      name,
      version: '4',
      stage: 'Production',
      archive_existing_versions: true,
    });
    expect(t4.body.model_version.current_stage).toBe('Production');
    const stages = await Promise.all(
      ['1', '2', '3', '4'].map(
        async (version) =>
          (await http().get(`${API}/model-versions/get`, { name, version })).body.model_version.current_stage,
      ),
    );
    expect(stages).toEqual(['Archived', 'Archived', 'Staging', 'Production']);
    const model = (await http().get(`${API}/registered-models/get`, { name })).body.registered_model;
    expect(model.latest_versions.map((v: any) => [v.version, v.current_stage])).toEqual([
      ['2', 'Archived'],
      ['3', 'Staging'],
      ['4', 'Production'],
    ]);

    expectError(
      await http().post(`${API}/model-versions/transition-stage`, { name, version: '1', stage: 'Bogus' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Invalid Model Version stage Bogus.',
    );
    expectError(
      await http().post(`${API}/model-versions/transition-stage`, {
        name,
        version: '1',
        stage: 'archived',
        archive_existing_versions: true,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Model version transition cannot archive existing model versions because 'Archived' is not an Active stage. Valid stages are ['Staging', 'Production']",
    );
    expectError(
      await http().post(`${API}/registered-models/get-latest-versions`, { name, stages: ['nope'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Invalid Model Version stage nope.',
    );
    expectError(
      await http().post(`${API}/registered-models/get-latest-versions`, { name: 'missing-q' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  test('aliases: set/move/get/delete, reserved names, deleted version drops its aliases', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name);
    await createVersion(http(), name);
    expectEmptyOk(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' }),
    );
    expectEmptyOk(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: 2 }),
    );
    const got = await http().get(`${API}/registered-models/alias`, { name, alias: 'champion' });
    expect(got.body.model_version).toMatchObject({ version: '2', aliases: ['champion'] });
    expectError(
      await http().get(`${API}/registered-models/alias`, { name, alias: 'nope' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Registered model alias nope not found.',
    );
    expectError(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'Latest', version: '1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "'latest' alias name (case insensitive) is reserved.",
    );
    expectError(
      await http().get(`${API}/registered-models/alias`, { name, alias: 'latest' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "'latest' alias name (case insensitive) is reserved.",
    );
    expectError(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'v3', version: '1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Version alias name 'v3' is reserved.",
    );
    expectError(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'a b', version: '1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
    );
    expectError(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'ok', version: '9' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Model Version (name=${name}, version=9) not found`,
    );
    expectEmptyOk(
      await http().post(`${API}/registered-models/alias`, { name, alias: 'challenger', version: '1' }),
    );
    const model = (await http().get(`${API}/registered-models/get`, { name })).body.registered_model;
    expect(model.aliases).toEqual([
      { alias: 'challenger', version: '1' },
      { alias: 'champion', version: '2' },
    ]);
    expectEmptyOk(await del(http(), `${API}/registered-models/alias`, { name, alias: 'challenger' }));
    expectEmptyOk(await del(http(), `${API}/registered-models/alias`, { name, alias: 'challenger' }));
    expectEmptyOk(await del(http(), `${API}/model-versions/delete`, { name, version: '2' }));
    expectError(
      await http().get(`${API}/registered-models/alias`, { name, alias: 'champion' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expect(
      (await http().get(`${API}/registered-models/get`, { name })).body.registered_model.aliases,
    ).toBeUndefined();
  });

  test('version tags: set, overwrite, delete, unknown version', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name);
    expectEmptyOk(
      await http().post(`${API}/model-versions/set-tag`, { name, version: '1', key: 'k', value: 'a' }),
    );
    expectEmptyOk(
      await http().post(`${API}/model-versions/set-tag`, { name, version: '1', key: 'k', value: 'b' }),
    );
    let version = (await http().get(`${API}/model-versions/get`, { name, version: '1' })).body.model_version;
    expect(version.tags).toEqual([{ key: 'k', value: 'b' }]);
    expectEmptyOk(await del(http(), `${API}/model-versions/delete-tag`, { name, version: '1', key: 'k' }));
    expectEmptyOk(await del(http(), `${API}/model-versions/delete-tag`, { name, version: '1', key: 'k' }));
    version = (await http().get(`${API}/model-versions/get`, { name, version: '1' })).body.model_version;
    expect(version.tags).toBeUndefined();
    expectError(
      await http().post(`${API}/model-versions/set-tag`, { name, version: '7', key: 'k', value: 'a' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  test('history: stage and alias changes with who, when, from, to, reason', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name);
    await createVersion(http(), name);
    const auth = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
    await http().request(
      'POST',
      `${API}/model-versions/transition-stage`,
      { name, version: '1', stage: 'Production', comment: 'go live' },
      auth,
    );
    await http().post(`${API}/model-versions/transition-stage`, {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' });
    await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '2' });
    await del(http(), `${API}/registered-models/alias`, { name, alias: 'champion' });
    const history = await http().get('/api/2.0/mast/registered-models/history', { name });
    expect(history.status).toBe(200);
    expect(
      history.body.entries.map((e: any) => [e.kind, e.version, e.from, e.to, e.alias, e.actor, e.reason]),
    ).toEqual([
      ['STAGE_TRANSITION', '1', 'None', 'Production', undefined, 'alice', 'go live'],
      [
        'STAGE_TRANSITION',
        '1',
        'Production',
        'Archived',
        undefined,
        undefined,
        'archived by the transition of version 2 to Production',
      ],
      ['STAGE_TRANSITION', '2', 'None', 'Production', undefined, undefined, undefined],
      ['ALIAS_SET', '1', undefined, '1', 'champion', undefined, undefined],
      ['ALIAS_SET', '2', '1', '2', 'champion', undefined, undefined],
      ['ALIAS_DELETED', '2', '2', undefined, 'champion', undefined, undefined],
    ]);
    for (const entry of history.body.entries) expect(entry.timestamp).toEqual(expect.any(Number));
    const one = await http().get('/api/2.0/mast/registered-models/history', {
      name,
      version: '2',
      max_results: 2,
    });
    expect(one.body.entries).toHaveLength(2);
    expect(one.body.next_page_token).toEqual(expect.any(String));
    expectError(
      await http().get('/api/2.0/mast/registered-models/history', { name: 'missing-h' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  test('model-versions/get-artifact redirects to the artifact service for proxied sources', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    const proxyRoot = 'http://mlflow.internal:5000/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts';
    for (const source of [
      'mlflow-artifacts:/7/run1/artifacts/model',
      `${proxyRoot}/model`,
      'runs:/run1/model',
      's3://bucket/7/run1/artifacts/model',
    ]) {
      await createVersion(http(), name, { source });
    }
    const locate = async (version: string) => {
      const query = new URLSearchParams({ name, version, path: 'data/MLmodel' });
      const response = await fetch(`${http().baseUrl}/model-versions/get-artifact?${query}`, {
        redirect: 'manual',
      });
      return { status: response.status, location: response.headers.get('location') };
    };
    const proxied = {
      status: 302,
      location: '/api/2.0/mlflow-artifacts/artifacts/7/run1/artifacts/model/data/MLmodel',
    };
    expect(await locate('1')).toEqual(proxied);
    expect(await locate('2')).toEqual(proxied);
    expect(await locate('3')).toEqual({
      status: 302,
      location: '/get-artifact?run_id=run1&path=model%2Fdata%2FMLmodel',
    });
    expect((await locate('4')).status).toBe(501);
  });

  test('models:/ resolution: version, stage, latest, alias, model id, bad URIs', async () => {
    const name = uniqueName();
    await createModel(http(), name);
    await createVersion(http(), name, { source: 's3://b/v1' });
    await createVersion(http(), name, { source: 's3://b/v2' });
    await createVersion(http(), name, { source: 's3://b/v3' });
    await http().post(`${API}/model-versions/transition-stage`, { name, version: '2', stage: 'Staging' });
    await http().post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' });
    const resolve = (uri: string) => http().get('/api/2.0/mast/models/resolve', { uri });
    const cases: Array<[string, string]> = [
      [`models:/${name}/1`, 's3://b/v1'],
      [`models:/${name}/staging`, 's3://b/v2'],
      [`models:/${name}/latest`, 's3://b/v3'],
      [`models:/${name}/LATEST`, 's3://b/v3'],
      [`models:/${name}/None`, 's3://b/v3'],
      [`models:/${name}@champion`, 's3://b/v1'],
    ];
    for (const [uri, artifact] of cases) {
      const response = await resolve(uri);
      expect({ uri, status: response.status, artifact: response.body.artifact_uri }).toEqual({
        uri,
        status: 200,
        artifact,
      });
      expect(response.body.model_version.name).toBe(name);
    }
    const byId = await resolve('models:/m-0123456789abcdef0123456789abcdef');
    expect(byId.body).toEqual({ model_id: 'm-0123456789abcdef0123456789abcdef' });
    for (const bad of ['models:/', 'models:/a/b/c', 'runs:/x/model', `models:/${name}/`, 'models:/@x']) {
      expectError(await resolve(bad), 400, 'INVALID_PARAMETER_VALUE', /^Not a proper models:\/ URI/);
    }
    expectError(await resolve(`models:/${name}/production`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await resolve(`models:/${name}/9`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await resolve(`models:/${name}@nope`), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await resolve(`models:/${name}/bogus`),
      400,
      'INVALID_PARAMETER_VALUE',
      'Invalid Model Version stage bogus.',
    );
  });
});

describe.each(BACKENDS)('local version sources anchored by their run or logged model (%s)', (backend) => {
  let server: RegistryServer;
  const runRoots: Record<string, string> = {
    'run-local': 'file:///srv/mlruns/1/run-local/artifacts',
    'run-s3': 's3://bucket/1/run-s3/artifacts',
  };
  beforeAll(async () => {
    server = await startRegistryServer(backend, {
      runs: { artifactUri: async (runId) => runRoots[runId] },
      loggedModels: {
        get: async (modelId) =>
          modelId === 'm-local'
            ? { modelId, artifactUri: '/srv/mlruns/1/models/m-local/artifacts' }
            : undefined,
        setTags: async () => {},
      },
    });
  });
  afterAll(async () => server.close());

  test('inside the run or logged model root: stored as given; outside or unanchored: refused', async () => {
    const http = server.client;
    const name = uniqueName();
    await createModel(http, name);
    for (const source of [
      '/srv/mlruns/1/run-local/artifacts/model',
      'file:///srv/mlruns/1/run-local/artifacts',
      'file:///srv/mlruns/1/run-local/artifacts/model%20v2',
    ]) {
      const created = await http.post(`${API}/model-versions/create`, { name, source, run_id: 'run-local' });
      expect({ status: created.status, source: created.body.model_version?.source }).toEqual({
        status: 200,
        source,
      });
    }
    const fromModel = await http.post(`${API}/model-versions/create`, {
      name,
      source: '/srv/mlruns/1/models/m-local/artifacts/model',
      model_id: 'm-local',
    });
    expect(fromModel.status).toBe(200);

    for (const [source, runId] of [
      ['/srv/mlruns/1/run-local/artifacts/../../other/model', 'run-local'],
      ['/srv/mlruns/1/run-local/artifacts-evil/model', 'run-local'],
      ['/srv/mlruns/1/run-s3/artifacts/model', 'run-s3'],
      ['/srv/mlruns/1/run-local/artifacts/model', undefined],
    ] as const) {
      expectError(
        await http.post(`${API}/model-versions/create`, {
          name,
          source,
          ...(runId ? { run_id: runId } : {}),
        }),
        400,
        'INVALID_PARAMETER_VALUE',
        /To use a local path as a model version source, the run_id request parameter has to be specified/,
      );
    }
    expectError(
      await http.post(`${API}/model-versions/create`, {
        name,
        source: '/srv/mlruns/1/run-local/artifacts/model',
        model_id: 'm-local',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /the model_id request parameter has to be specified/,
    );
    expectError(
      await http.post(`${API}/model-versions/create`, { name, source: '/srv/x', run_id: 'missing' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Run with id=missing not found',
    );
    expectError(
      await http.post(`${API}/model-versions/create`, { name, source: '/srv/x', model_id: 'm-missing' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Logged model with ID 'm-missing' not found.",
    );
    // MLflow's test_create_model_version_with_file_uri: `.` and `..` that stay inside are fine.
    for (const source of [
      'file:///srv/mlruns/1/run-local/artifacts/.',
      'file:///srv/mlruns/1/run-local/artifacts/model/..',
    ]) {
      const created = await http.post(`${API}/model-versions/create`, { name, source, run_id: 'run-local' });
      expect(created.status).toBe(200);
    }
    expectError(
      await http.post(`${API}/model-versions/create`, {
        name,
        source: 'file://123.456.789.123/path/to/source',
        run_id: 'missing',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /is not a valid remote uri/,
    );
    const listed = await http.get(`${API}/model-versions/search`, { filter: `name = '${name}'` });
    expect(listed.body.model_versions).toHaveLength(6);

    // The UI's download of a version file goes through the run's /get-artifact.
    const query = new URLSearchParams({ name, version: '1', path: 'data/MLmodel' });
    const download = await fetch(`${http.baseUrl}/model-versions/get-artifact?${query}`, {
      redirect: 'manual',
    });
    expect({ status: download.status, location: download.headers.get('location') }).toEqual({
      status: 302,
      location: '/get-artifact?run_id=run-local&path=model%2Fdata%2FMLmodel',
    });
  });
});
