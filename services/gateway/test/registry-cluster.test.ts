/**
 * The model registry in the cluster wiring: tracking, artifact and registry each as its own compiled
 * process (run `npm run build` first) on one PostgreSQL, and the gateway process routing MLflow REST to
 * them and composing the committed supergraph over HTTP: GraphQL joins runs and model versions across
 * processes, `models:/<logged-model-id>` resolves through tracking over HTTP (`MAST_TRACKING_URL`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HttpClient } from '@mast/test-support';
import { GraphQLClient } from './harness.js';
import { createPostgresDatabase, type ServiceProcess, startServiceProcess } from './processes.js';

const API = '/api/2.0/mlflow';

describe('registry as its own process behind the gateway (cluster wiring)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const processes: ServiceProcess[] = [];
  let http: HttpClient;
  const artifactsDir = mkdtempSync(join(tmpdir(), 'mast-registry-cluster-'));

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const tracking = await startServiceProcess('tracking', { MAST_BACKEND_STORE_URI: database.url });
    processes.push(tracking);
    const artifact = await startServiceProcess('artifact', {
      MAST_ARTIFACTS_DESTINATION: artifactsDir,
      MAST_TRACKING_URL: tracking.url,
    });
    processes.push(artifact);
    const registry = await startServiceProcess('registry', {
      MAST_BACKEND_STORE_URI: database.url,
      MAST_TRACKING_URL: tracking.url,
    });
    processes.push(registry);
    const gateway = await startServiceProcess('gateway', {
      MAST_SERVICE_URLS: `tracking=${tracking.url},artifact=${artifact.url},registry=${registry.url}`,
    });
    processes.push(gateway);
    http = new HttpClient(gateway.url);
  });
  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    await database?.drop();
    rmSync(artifactsDir, { recursive: true, force: true });
  });

  test('REST through the gateway, GraphQL joining runs and versions across processes', async () => {
    const run = (await http.post(`${API}/runs/create`, { experiment_id: '0', run_name: 'trainer' })).body.run
      .info;
    const logged = await http.post(`${API}/logged-models`, { experiment_id: '0', source_run_id: run.run_id });
    const modelId = logged.body.model.info.model_id;
    expect(
      (await http.post('/api/2.0/preview/mlflow/registered-models/create', { name: 'iris' })).status,
    ).toBe(200);
    const version = await http.post(`${API}/model-versions/create`, {
      name: 'iris',
      source: `models:/${modelId}`,
    });
    expect(version.status).toBe(200);
    // The registry asked tracking (over HTTP) for the logged model's run and location.
    expect(version.body.model_version.run_id).toBe(run.run_id);
    const uri = await http.get('/ajax-api/2.0/mlflow/model-versions/get-download-uri', {
      name: 'iris',
      version: '1',
    });
    expect(uri.body.artifact_uri).toBe(logged.body.model.info.artifact_uri);

    const data = await new GraphQLClient(http).data(
      `query($runId: ID!) {
        registeredModel(name: "iris") { versions { version run { id name } } }
        run(id: $runId) { name modelVersions { name version } }
      }`,
      { runId: run.run_id },
    );
    expect(data).toEqual({
      registeredModel: { versions: [{ version: '1', run: { id: run.run_id, name: 'trainer' } }] },
      run: { name: 'trainer', modelVersions: [{ name: 'iris', version: '1' }] },
    });
    const resolved = await http.get('/api/2.0/mast/models/resolve', { uri: 'models:/iris/latest' });
    expect(resolved.body.model_version.version).toBe('1');
  });
});
