/**
 * The model registry in the all-in-one wiring: its REST routes beside tracking's on one port, GraphQL
 * joining tracking's runs and the registry's versions through the in-process gateway, and
 * `models:/<logged-model-id>` resolved through tracking's logged models (the in-process peer link).
 */
import { describe, expect, test } from '@jest/globals';
import { useAllInOne } from './harness.js';

const API = '/api/2.0/mlflow';

describe('registry in mast server (all-in-one)', () => {
  const mast = useAllInOne({ name: 'mast-registry-' });

  test('GraphQL joins runs and model versions across the tracking and registry subgraphs', async () => {
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: '0', run_name: 'trainer' })).body
      .run.info;
    expect((await mast.http.post(`${API}/registered-models/create`, { name: 'iris' })).status).toBe(200);
    const created = await mast.http.post(`${API}/model-versions/create`, {
      name: 'iris',
      source: `runs:/${run.run_id}/model`,
      run_id: run.run_id,
    });
    expect(created.status).toBe(200);

    const data = await mast.graphql.data(
      `query($runId: ID!) {
        modelVersion(name: "iris", version: "1") {
          version currentStage run { id name experimentId }
          registeredModel { name latestVersions { version } }
        }
        run(id: $runId) { id name modelVersions { name version } }
      }`,
      { runId: run.run_id },
    );
    expect(data).toEqual({
      modelVersion: {
        version: '1',
        currentStage: 'None',
        run: { id: run.run_id, name: 'trainer', experimentId: '0' },
        registeredModel: { name: 'iris', latestVersions: [{ version: '1' }] },
      },
      run: { id: run.run_id, name: 'trainer', modelVersions: [{ name: 'iris', version: '1' }] },
    });
  });

  test('GraphQL searches are cursor connections over MLflow registry filters', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await mast.http.post(`${API}/registered-models/create`, {
        name,
        tags: [{ key: 'team', value: 'paging' }],
      });
    }
    const first = await mast.graphql.data(
      `{ registeredModels(filter: "tags.team = 'paging'", first: 2) { nodes { name } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(first.registeredModels.nodes).toEqual([{ name: 'page-a' }, { name: 'page-b' }]);
    expect(first.registeredModels.pageInfo.hasNextPage).toBe(true);
    const second = await mast.graphql.data(
      `query($after: String) { registeredModels(filter: "tags.team = 'paging'", first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage } } }`,
      { after: first.registeredModels.pageInfo.endCursor },
    );
    expect(second.registeredModels).toEqual({
      edges: [{ node: { name: 'page-c' } }],
      pageInfo: { hasNextPage: false },
    });
    const error = await mast.graphql.error(`{ registeredModels(filter: "owner = 'x'") { nodes { name } } }`);
    expect(error.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
  });

  test('GraphQL mutations: transition, alias, tags; history readable', async () => {
    await mast.http.post(`${API}/registered-models/create`, { name: 'churn' });
    await mast.http.post(`${API}/model-versions/create`, { name: 'churn', source: 's3://b/churn/1' });
    const moved = await mast.graphql.data(
      `mutation {
        transitionModelVersionStage(name: "churn", version: "1", stage: "staging", reason: "tests pass") { currentStage }
        setRegisteredModelAlias(name: "churn", alias: "champion", version: "1") { aliases }
        setModelVersionTag(name: "churn", version: "1", key: "validated", value: "yes") { tags { key value } }
        setRegisteredModelTag(name: "churn", key: "team", value: "risk") { tags { key value } }
      }`,
    );
    expect(moved).toEqual({
      transitionModelVersionStage: { currentStage: 'Staging' },
      setRegisteredModelAlias: { aliases: ['champion'] },
      setModelVersionTag: { tags: [{ key: 'validated', value: 'yes' }] },
      setRegisteredModelTag: { tags: [{ key: 'team', value: 'risk' }] },
    });
    const { registeredModel } = await mast.graphql.data(
      `{ registeredModel(name: "churn") { aliases { alias version } history { kind version from to alias reason } } }`,
    );
    expect(registeredModel).toEqual({
      aliases: [{ alias: 'champion', version: '1' }],
      history: [
        {
          kind: 'STAGE_TRANSITION',
          version: '1',
          from: 'None',
          to: 'Staging',
          alias: null,
          reason: 'tests pass',
        },
        { kind: 'ALIAS_SET', version: '1', from: null, to: '1', alias: 'champion', reason: null },
      ],
    });
    const error = await mast.graphql.error(
      `mutation { transitionModelVersionStage(name: "churn", version: "1", stage: "bogus") { currentStage } }`,
    );
    expect(error.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
    const { resolveModelUri } = await mast.graphql.data(
      `{ resolveModelUri(uri: "models:/churn@champion") { artifactUri modelVersion { version } } }`,
    );
    expect(resolveModelUri).toEqual({ artifactUri: 's3://b/churn/1', modelVersion: { version: '1' } });
  });

  test('model-versions/get-artifact streams a version file through the artifact service', async () => {
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: '0' })).body.run.info;
    const root = run.artifact_uri.replace('mlflow-artifacts:/', '');
    const upload = await mast.http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`,
      'flavors: {}\n',
      {
        'content-type': 'text/plain',
      },
    );
    expect(upload.status).toBe(200);
    await mast.http.post(`${API}/registered-models/create`, { name: 'with-files' });
    await mast.http.post(`${API}/model-versions/create`, {
      name: 'with-files',
      source: `runs:/${run.run_id}/model`,
      run_id: run.run_id,
    });
    await mast.http.post(`${API}/model-versions/create`, {
      name: 'with-files',
      source: `${run.artifact_uri}/model`,
      run_id: run.run_id,
    });
    for (const [version, prefix] of [
      ['1', ''],
      ['2', ''],
      ['2', '/ajax-api/2.0/mlflow'],
    ]) {
      const file = await mast.http.get(`${prefix}/model-versions/get-artifact`, {
        name: 'with-files',
        version,
        path: 'MLmodel',
      });
      expect({ version, prefix, status: file.status, text: file.text }).toEqual({
        version,
        prefix,
        status: 200,
        text: 'flavors: {}\n',
      });
    }
    const bad = await mast.http.get('/model-versions/get-artifact', {
      name: 'with-files',
      version: '1',
      path: '../x',
    });
    expect({ status: bad.status, code: bad.body.error_code }).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
    });
  });

  test('models:/<logged-model-id> sources and URIs resolve through tracking', async () => {
    const run = (await mast.http.post(`${API}/runs/create`, { experiment_id: '0' })).body.run.info;
    const logged = await mast.http.post(`${API}/logged-models`, {
      experiment_id: '0',
      name: 'model',
      source_run_id: run.run_id,
    });
    expect(logged.status).toBe(200);
    const { model_id: modelId, artifact_uri: artifactUri } = logged.body.model.info;
    await mast.http.post(`${API}/registered-models/create`, { name: 'from-logged' });
    const version = await mast.http.post(`${API}/model-versions/create`, {
      name: 'from-logged',
      source: `models:/${modelId}`,
      model_id: modelId,
    });
    expect(version.status).toBe(200);
    expect(version.body.model_version).toMatchObject({
      source: `models:/${modelId}`,
      run_id: run.run_id,
      model_id: modelId,
    });
    // As MLflow 3, the logged model lists the versions made from it.
    const tagged = await mast.http.get(`${API}/logged-models/${modelId}`);
    expect(tagged.body.model.info.tags).toContainEqual({
      key: 'mlflow.modelVersions',
      value: '[{"name": "from-logged", "version": "1"}]',
    });
    const uri = await mast.http.get(`${API}/model-versions/get-download-uri`, {
      name: 'from-logged',
      version: '1',
    });
    expect(uri.body).toEqual({ artifact_uri: artifactUri });
    const resolved = await mast.http.get('/api/2.0/mast/models/resolve', { uri: `models:/${modelId}` });
    expect(resolved.body).toEqual({ model_id: modelId, artifact_uri: artifactUri });
    const missing = await mast.http.get('/api/2.0/mast/models/resolve', {
      uri: 'models:/m-00000000000000000000000000000000',
    });
    expect(missing.status).toBe(404);
    const unknown = await mast.http.post(`${API}/model-versions/create`, {
      name: 'from-logged',
      source: 'models:/m-00000000000000000000000000000000',
    });
    expect({ status: unknown.status, code: unknown.body.error_code }).toEqual({
      status: 400,
      code: 'INVALID_PARAMETER_VALUE',
    });
  });
});
