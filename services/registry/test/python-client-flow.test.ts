import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { type RegistryServer, startRegistryServer } from './harness.js';

const API = '/api/2.0/mlflow';

/**
 * Replays the requests of the MLflow Python client's registry calls with their exact shapes:
 * `mlflow.register_model(...)` (create model, tolerate RESOURCE_ALREADY_EXISTS, create version, poll
 * get until READY), `MlflowClient.set_registered_model_alias`, `load_model("models:/name@alias")`
 * (get by alias, get-download-uri), the deprecated stage calls, and `mlflow.genai.register_prompt` /
 * `search_prompts` (a tagged model, hidden from `search_registered_models`).
 */
describe.each(BACKENDS)('Python client registry session (%s)', (backend) => {
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistryServer(backend);
  });
  afterAll(async () => server.close());

  test('register_model twice, alias, load by alias, stages', async () => {
    const http = server.client;
    const runId = '0123456789abcdef0123456789abcdef';
    for (let round = 1; round <= 2; round++) {
      const created = await http.post(`${API}/registered-models/create`, { name: 'fraud' });
      if (round === 1) expect(created.status).toBe(200);
      else expect(created.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      const version = await http.post(`${API}/model-versions/create`, {
        name: 'fraud',
        source: `models:/m-0a24c301ab8840bc9af390a84b80d1c${round}`,
        run_id: runId,
        model_id: `m-0a24c301ab8840bc9af390a84b80d1c${round}`,
      });
      expect(version.status).toBe(200);
      expect(version.body.model_version.version).toBe(String(round));
      const polled = await http.get(`${API}/model-versions/get`, { name: 'fraud', version: String(round) });
      expect(polled.body.model_version.status).toBe('READY');
      expect(polled.body.model_version.model_id).toBe(`m-0a24c301ab8840bc9af390a84b80d1c${round}`);
    }
    expect(
      (await http.post(`${API}/registered-models/alias`, { name: 'fraud', alias: 'champion', version: '2' }))
        .status,
    ).toBe(200);
    const byAlias = await http.get(`${API}/registered-models/alias`, { name: 'fraud', alias: 'champion' });
    expect(byAlias.body.model_version).toMatchObject({ version: '2', aliases: ['champion'], run_id: runId });
    const uri = await http.get(`${API}/model-versions/get-download-uri`, { name: 'fraud', version: '2' });
    expect(uri.body).toEqual({ artifact_uri: 'models:/m-0a24c301ab8840bc9af390a84b80d1c2' });
    const moved = await http.post(`${API}/model-versions/transition-stage`, {
      name: 'fraud',
      version: '2',
      stage: 'production',
      archive_existing_versions: false,
    });
    expect(moved.body.model_version.current_stage).toBe('Production');
    const latest = await http.post(`${API}/registered-models/get-latest-versions`, {
      name: 'fraud',
      stages: ['Production'],
    });
    expect(latest.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    // The client deletes with a JSON body.
    const deleted = await http.request('DELETE', `${API}/registered-models/alias`, {
      name: 'fraud',
      alias: 'champion',
    });
    expect(deleted.status).toBe(200);
  });

  test('register_prompt, search_prompts, load_prompt; prompts stay out of model searches', async () => {
    const http = server.client;
    const promptTags = [{ key: 'mlflow.prompt.is_prompt', value: 'true' }];
    await http.post(`${API}/registered-models/create`, { name: 'greeting', tags: promptTags });
    const version = await http.post(`${API}/model-versions/create`, {
      name: 'greeting',
      source: 'dummy-source',
      description: 'first',
      tags: [...promptTags, { key: 'mlflow.prompt.text', value: 'Hello {{name}}' }],
    });
    expect(version.status).toBe(200);
    const prompts = await http.get(`${API}/registered-models/search`, {
      filter: "tags.`mlflow.prompt.is_prompt` = 'true'",
      max_results: 50,
    });
    expect(prompts.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['greeting']);
    const models = await http.get(`${API}/registered-models/search`, { max_results: 100 });
    expect((models.body.registered_models ?? []).map((m: { name: string }) => m.name)).not.toContain(
      'greeting',
    );
    const loaded = await http.get(`${API}/model-versions/get`, { name: 'greeting', version: '1' });
    expect(loaded.body.model_version.tags).toContainEqual({
      key: 'mlflow.prompt.text',
      value: 'Hello {{name}}',
    });
  });
});
