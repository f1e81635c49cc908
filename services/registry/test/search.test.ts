import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, expectError } from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

describe.each(BACKENDS)('registry search (%s)', (backend) => {
  let server: RegistryServer;
  const names = (body: any) => (body.registered_models ?? []).map((m: { name: string }) => m.name);
  const versions = (body: any) => (body.model_versions ?? []).map((v: any) => `${v.name}/${v.version}`);

  beforeAll(async () => {
    server = await startRegistryServer(backend);
    const http = server.client;
    const models: Array<[string, Record<string, string>]> = [
      ['fraud-a', { team: 'risk' }],
      ['fraud-b', { team: 'growth' }],
      ['Fraud-C', {}],
      ['churn', { team: 'risk', 'dots.key': 'x' }],
      ['prompt-1', { 'mlflow.prompt.is_prompt': 'true' }],
    ];
    for (const [name, tags] of models) {
      await http.post(`${API}/registered-models/create`, {
        name,
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      });
    }
    for (const [name, runs] of [
      ['fraud-a', ['r1', 'r2', 'r3']],
      ['churn', ['r1', 'r4']],
    ] as const) {
      for (const run of runs) {
        await http.post(`${API}/model-versions/create`, {
          name,
          source: `s3://bucket/${name}/${run}`,
          run_id: run,
          tags: run === 'r2' ? [{ key: 'validated', value: 'yes' }] : [],
        });
      }
    }
    await http.post(`${API}/model-versions/create`, {
      name: 'prompt-1',
      source: 'dummy',
      tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }],
    });
  });
  afterAll(async () => server.close());

  const searchModels = (query: Record<string, any>) =>
    server.client.get(`${API}/registered-models/search`, query);
  const searchVersions = (query: Record<string, any>) =>
    server.client.get(`${API}/model-versions/search`, query);
  /** The order the filter cases are written in (the default is by last update, which ties within a ms). */
  const BY_NAME = ['name ASC', 'version_number DESC'];

  test.each<[string, string[]]>([
    ['', ['Fraud-C', 'churn', 'fraud-a', 'fraud-b']],
    ["name = 'fraud-a'", ['fraud-a']],
    ["name != 'fraud-a'", ['Fraud-C', 'churn', 'fraud-b']],
    ["name LIKE 'fraud-%'", ['fraud-a', 'fraud-b']],
    ["name ILIKE 'fraud-%'", ['Fraud-C', 'fraud-a', 'fraud-b']],
    ["attribute.name LIKE '%-a'", ['fraud-a']],
    ["tags.team = 'risk'", ['churn', 'fraud-a']],
    ["tag.team != 'risk'", ['fraud-b']],
    ["name LIKE 'fraud%' AND tags.team = 'risk'", ['fraud-a']],
    ["tags.`dots.key` = 'x'", ['churn']],
    ["tags.`mlflow.prompt.is_prompt` = 'true'", ['prompt-1']],
    ["tags.`mlflow.prompt.is_prompt` != 'false'", ['prompt-1']],
    ["tags.`mlflow.prompt.is_prompt` = 'false'", ['Fraud-C', 'churn', 'fraud-a', 'fraud-b']],
    ["tags.`mlflow.prompt.is_prompt` != 'true'", ['Fraud-C', 'churn', 'fraud-a', 'fraud-b']],
  ])('registered models: %s', async (filter, expected) => {
    const response = await searchModels(filter ? { filter } : {});
    expect(response.status).toBe(200);
    expect(names(response.body)).toEqual(expected);
  });

  test('registered models: order_by, paging, latest_versions in results', async () => {
    const byName = await searchModels({ order_by: 'name DESC' });
    expect(names(byName.body)).toEqual(['fraud-b', 'fraud-a', 'churn', 'Fraud-C']);
    const byTime = await searchModels({ order_by: ['last_updated_timestamp DESC'] });
    expect(byTime.status).toBe(200);
    const first = await searchModels({ max_results: 3 });
    expect(names(first.body)).toEqual(['Fraud-C', 'churn', 'fraud-a']);
    expect(first.body.next_page_token).toEqual(expect.any(String));
    const second = await searchModels({ max_results: 3, page_token: first.body.next_page_token });
    expect(names(second.body)).toEqual(['fraud-b']);
    expect(second.body.next_page_token).toBeUndefined();
    const fraudA = (await searchModels({ filter: "name = 'fraud-a'" })).body.registered_models[0];
    expect(fraudA.latest_versions.map((v: any) => [v.version, v.current_stage])).toEqual([['3', 'None']]);
    const none = await searchModels({ filter: "name = 'nothing'" });
    expect(none.body).toEqual({});
  });

  test('registered models: bad input', async () => {
    expectError(
      await searchModels({ max_results: 1001 }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Invalid value for request parameter max_results. It must be at most 1000, but got value 1001',
    );
    expectError(
      await searchModels({ filter: "owner = 'x'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid attribute key 'owner' specified. Valid keys are '{'name'}'",
    );
    expectError(await searchModels({ filter: 'name = fraud' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await searchModels({ filter: "metric.x = '1'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid entity type 'metric'. Valid entity types are ('attribute', 'tag', 'tags')",
    );
    expectError(await searchModels({ filter: "name > 'a'" }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await searchModels({ order_by: 'owner' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Invalid order by key 'owner' specified/,
    );
    expectError(
      await searchModels({ order_by: ['name', 'name DESC'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      /duplicate fields/,
    );
    expectError(
      await searchModels({ page_token: 'garbage' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid page token/,
    );
  });

  test.each<[string, string[]]>([
    ['', ['churn/2', 'churn/1', 'fraud-a/3', 'fraud-a/2', 'fraud-a/1']],
    ["name = 'churn'", ['churn/2', 'churn/1']],
    ["run_id = 'r1'", ['churn/1', 'fraud-a/1']],
    ["run_id IN ('r2', 'r4')", ['churn/2', 'fraud-a/2']],
    ["run_id != 'r1'", ['churn/2', 'fraud-a/3', 'fraud-a/2']],
    ['version_number >= 2', ['churn/2', 'fraud-a/3', 'fraud-a/2']],
    ["name = 'fraud-a' AND version_number < 3", ['fraud-a/2', 'fraud-a/1']],
    ["source_path LIKE 's3://bucket/churn/%'", ['churn/2', 'churn/1']],
    ["tags.validated = 'yes'", ['fraud-a/2']],
    ["tags.`mlflow.prompt.is_prompt` = 'true'", ['prompt-1/1']],
  ])('model versions: %s', async (filter, expected) => {
    const response = await searchVersions({ order_by: BY_NAME, ...(filter ? { filter } : {}) });
    expect(response.status).toBe(200);
    expect(versions(response.body)).toEqual(expected);
  });

  test('model versions: order_by, paging, bad input', async () => {
    const ordered = await searchVersions({ order_by: ['version_number ASC', 'name DESC'] });
    expect(versions(ordered.body)).toEqual(['fraud-a/1', 'churn/1', 'fraud-a/2', 'churn/2', 'fraud-a/3']);
    const page = await searchVersions({ max_results: 2, order_by: BY_NAME });
    expect(versions(page.body)).toEqual(['churn/2', 'churn/1']);
    const next = await searchVersions({
      max_results: 2,
      order_by: BY_NAME,
      page_token: page.body.next_page_token,
    });
    expect(versions(next.body)).toEqual(['fraud-a/3', 'fraud-a/2']);
    expectError(
      await searchVersions({ max_results: 200_001 }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Invalid value for request parameter max_results. It must be at most 200000, but got value 200001',
    );
    expectError(
      await searchVersions({ filter: "name IN ('a')" }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
    );
    expectError(await searchVersions({ filter: "version_number = 'x'" }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(
      await searchVersions({ filter: "stage = 'x'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Invalid attribute key 'stage' specified/,
    );
    expectError(
      await searchVersions({ order_by: 'run_id' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Invalid order by key 'run_id'/,
    );
  });

  test('model versions: most recently updated first by default, name and version break ties', async () => {
    const http = server.client;
    const pause = () => new Promise((resolve) => setTimeout(resolve, 3));
    for (const name of ['recent-a', 'recent-b']) await http.post(`${API}/registered-models/create`, { name });
    for (const name of ['recent-b', 'recent-a', 'recent-b', 'recent-a']) {
      await pause();
      await http.post(`${API}/model-versions/create`, { name, source: `s3://bucket/${name}` });
    }
    const filter = "name LIKE 'recent-%'";
    expect(versions((await searchVersions({ filter })).body)).toEqual([
      'recent-a/2',
      'recent-b/2',
      'recent-a/1',
      'recent-b/1',
    ]);
    await pause();
    await http.request('PATCH', `${API}/model-versions/update`, {
      name: 'recent-b',
      version: '1',
      description: 'touched',
    });
    expect(versions((await searchVersions({ filter })).body)).toEqual([
      'recent-b/1',
      'recent-a/2',
      'recent-b/2',
      'recent-a/1',
    ]);
    expect(versions((await searchVersions({ filter, order_by: 'version_number DESC' })).body)).toEqual([
      'recent-a/2',
      'recent-b/2',
      'recent-a/1',
      'recent-b/1',
    ]);
    expect(versions((await searchVersions({ filter, order_by: 'name DESC' })).body)).toEqual([
      'recent-b/2',
      'recent-b/1',
      'recent-a/2',
      'recent-a/1',
    ]);
  });
});
