import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ArtifactStorage, registerArtifactSubgraph } from '@mast/artifact';
import { createHttpApp, loadConfig, registerSubgraphEndpoint } from '@mast/common';
import { HttpClient } from '@mast/test-support';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildGateway, type Gateway } from '../src/cluster.js';
import { DASHBOARD_QUERY, seedDashboard } from './dashboard.js';
import { type FakeModelVersion, fakeRegistrySubgraph } from './fake-registry.js';
import { GraphQLClient } from './harness.js';
import { createPostgresDatabase, freePort, type ServiceProcess, startServiceProcess } from './processes.js';

/**
 * Cluster wiring: the tracking service as its own process (its compiled main.js, on PostgreSQL), a
 * second subgraph on its own Fastify instance, and the gateway composing them over HTTP and forwarding
 * MLflow REST paths, so clients need the gateway's URL only.
 */
describe('gateway over HTTP (cluster wiring)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let tracking: ServiceProcess;
  let registry: FastifyInstance;
  let artifact: FastifyInstance;
  let artifactStorage: ArtifactStorage;
  const artifactsDir = mkdtempSync(join(tmpdir(), 'mast-cluster-artifacts-'));
  let gateway: Gateway;
  let http: HttpClient;
  let graphql: GraphQLClient;
  const versions: FakeModelVersion[] = [];
  const received: { bytes: number; sha: string; contentType?: string; query?: unknown }[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    tracking = await startServiceProcess('tracking', { MAST_BACKEND_STORE_URI: database.url });

    const fake = fakeRegistrySubgraph(versions);
    registry = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 }).app;
    registerSubgraphEndpoint(registry, fake.schema);
    const registryUrl = await registry.listen({ host: '127.0.0.1', port: 0 });

    // A stand-in for the artifact service: counts what it receives, streams big downloads; its
    // subgraph at /graphql is the real one (over an empty local destination).
    artifact = Fastify();
    artifactStorage = await ArtifactStorage.open({
      destination: artifactsDir,
      allowedRoots: [],
      s3: { region: 'us-east-1', timeoutMs: 1000, partSize: 5 * 1024 * 1024 },
    });
    registerArtifactSubgraph(artifact, {
      storage: artifactStorage,
      serveArtifacts: true,
      maxUploadBytes: 1024,
    });
    artifact.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    artifact.put('/api/2.0/mlflow-artifacts/artifacts/*', async (request) => {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of request.body as Readable) {
        bytes += chunk.length;
        hash.update(chunk);
      }
      received.push({
        bytes,
        sha: hash.digest('hex'),
        contentType: request.headers['content-type'],
        query: request.query,
      });
      return {};
    });
    artifact.get('/api/2.0/mlflow-artifacts/artifacts/*', async (_request, reply) => {
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      const stream = Readable.from(
        (function* () {
          while (sent < 64) {
            sent += 1;
            yield chunk;
          }
        })(),
      );
      return reply.type('application/octet-stream').send(stream);
    });
    const artifactUrl = await artifact.listen({ host: '127.0.0.1', port: 0 });

    const config = loadConfig({
      MAST_LOG_LEVEL: 'silent',
      MAST_SERVICE_URLS: `tracking=${tracking.url},artifact=${artifactUrl},registry=http://127.0.0.1:${await freePort()}`,
      MAST_SUBGRAPH_URLS: `registry=${registryUrl}/graphql`,
      MAST_SUPERGRAPH: 'introspect',
    });
    gateway = await buildGateway(config);
    http = new HttpClient(await gateway.app.listen({ host: '127.0.0.1', port: 0 }));
    graphql = new GraphQLClient(http);
  });
  afterAll(async () => {
    await gateway?.close();
    await registry?.close();
    await artifact?.close();
    await artifactStorage?.close();
    rmSync(artifactsDir, { recursive: true, force: true });
    await tracking?.stop();
    await database?.drop();
  });

  test('MLflow REST through the gateway: the Python client flow', async () => {
    const created = await http.post('/api/2.0/mlflow/experiments/create', { name: 'via-gateway' });
    expect(created.status).toBe(200);
    const experimentId = created.body.experiment_id;
    const run = await http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      start_time: 1,
    });
    const runId = run.body.run.info.run_id;
    const batch = await http.post('/api/2.0/mlflow/runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'loss', value: 'NaN', timestamp: 1, step: 0 }],
      params: [{ key: 'lr', value: '0.1' }],
    });
    expect({ status: batch.status, body: batch.body }).toEqual({ status: 200, body: {} });
    const got = await http.get('/api/2.0/mlflow/runs/get', { run_id: runId });
    expect(got.body.run.data.metrics).toEqual([{ key: 'loss', value: 'NaN', timestamp: 1, step: 0 }]);
    const ajax = await http.get('/ajax-api/2.0/mlflow/experiments/get', { experiment_id: experimentId });
    expect(ajax.body.experiment.name).toBe('via-gateway');
    const missing = await http.get('/api/2.0/mlflow/runs/get', { run_id: 'nope' });
    expect({ status: missing.status, code: missing.body.error_code }).toEqual({
      status: 404,
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    const unknown = await http.post('/api/2.0/mlflow/no-such-rpc', {});
    expect({ status: unknown.status, code: unknown.body.error_code }).toEqual({
      status: 404,
      code: 'ENDPOINT_NOT_FOUND',
    });
    const info = await http.get('/api/3.0/mlflow/server-info');
    expect(info.body.store_type).toBe('SqlStore');
  });

  test('REST bodies stream through the proxy both ways', async () => {
    const size = 48 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) body[i] = i % 251;
    const upload = await fetch(`${http.baseUrl}/api/2.0/mlflow-artifacts/artifacts/1/run/model.bin?x=1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(Readable.from([body.subarray(0, size / 2), body.subarray(size / 2)])) as any,
      duplex: 'half',
    } as RequestInit);
    expect(upload.status).toBe(200);
    expect(received.at(-1)).toEqual({
      bytes: size,
      sha: createHash('sha256').update(body).digest('hex'),
      contentType: 'application/octet-stream',
      query: { x: '1' },
    });
    const download = await fetch(`${http.baseUrl}/api/2.0/mlflow-artifacts/artifacts/1/run/model.bin`);
    expect(download.status).toBe(200);
    let bytes = 0;
    for await (const chunk of download.body as any) bytes += chunk.length;
    expect(bytes).toBe(64 * 1024 * 1024);
  });

  test('a service that is down is a 503 MLflow clients retry', async () => {
    const down = await buildGateway(
      loadConfig({
        MAST_LOG_LEVEL: 'silent',
        MAST_SERVICE_URLS: `tracking=${tracking.url},artifact=http://127.0.0.1:${await freePort()}`,
      }),
    );
    try {
      const client = new HttpClient(await down.app.listen({ host: '127.0.0.1', port: 0 }));
      const response = await client.get('/api/2.0/preview/mlflow-artifacts/artifacts/x');
      expect(response.status).toBe(503);
      expect(response.body.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      // Paths no service owns (the registry is not deployed yet) are MLflow's 404.
      const registry = await client.get('/api/2.0/mlflow/registered-models/get', { name: 'x' });
      expect({ status: registry.status, code: registry.body.error_code }).toEqual({
        status: 404,
        code: 'ENDPOINT_NOT_FOUND',
      });
    } finally {
      await down.close();
    }
  });

  test('GraphQL composed over HTTP: dashboard query, mutations, errors', async () => {
    const { experimentId, runIds } = await seedDashboard(graphql, 'cluster-dashboard', 20);
    const { runs } = await graphql.data(DASHBOARD_QUERY, { ids: [experimentId], first: 20 });
    expect(runs.nodes).toHaveLength(20);
    expect(runs.nodes[0].latestMetrics).toHaveLength(10);
    expect(runs.nodes[0].experiment.name).toBe('cluster-dashboard');
    const error = await graphql.error(`{ run(id: "nope") { id } }`);
    expect(error.extensions).toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST', serviceName: 'tracking' });
    const filter = await graphql.error(
      `{ runs(experimentIds: ["0"], filter: "params.x ~ 1") { nodes { id } } }`,
    );
    expect(filter.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
    const badLong = await graphql.error(
      `{ run(id: "x") { metricHistory(key: "a", endStep: "soon") { totalPoints } } }`,
    );
    expect(badLong.extensions?.code).toBe('BAD_USER_INPUT');

    versions.push({ name: 'fraud', version: 3, runId: runIds[2]! });
    const { modelVersions } = await graphql.data(
      `{ modelVersions { version run { name latestMetrics(keys: ["m1"]) { value } } } }`,
    );
    expect(modelVersions).toEqual([{ version: 3, run: { name: 'run-2', latestMetrics: [{ value: 2.1 }] } }]);
    const { run } = await graphql.data(`query($id: ID!) { run(id: $id) { name modelVersions { name } } }`, {
      id: runIds[2],
    });
    expect(run).toEqual({ name: 'run-2', modelVersions: [{ name: 'fraud' }] });
  });

  test('the subgraph endpoint itself answers GraphQL over HTTP', async () => {
    const direct = new GraphQLClient(new HttpClient(tracking.url));
    const { _service } = await direct.data('{ _service { sdl } }');
    expect(_service.sdl).toMatch(/type Run\s+@key\(fields: "id"\)/);
    const error = await direct.error('{ run(id: "nope") { id } }');
    expect(error.extensions?.code).toBe('RESOURCE_DOES_NOT_EXIST');
    const invalid = await direct.error('{ run(id: "nope") { nope } }');
    expect(invalid.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const syntax = await direct.error('{ run(');
    expect(syntax.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  test('the committed supergraph, with subgraph URLs from the configuration', async () => {
    const committed = await buildGateway(
      loadConfig({ MAST_LOG_LEVEL: 'silent', MAST_SERVICE_URLS: `tracking=${tracking.url}` }),
    );
    try {
      const client = new GraphQLClient(
        new HttpClient(await committed.app.listen({ host: '127.0.0.1', port: 0 })),
      );
      const { experiment } = await client.data(`{ experiment(name: "cluster-dashboard") { name runCount } }`);
      expect(experiment).toEqual({ name: 'cluster-dashboard', runCount: 20 });
    } finally {
      await committed.close();
    }
  });

  test('the gateway as its own process', async () => {
    const process = await startServiceProcess('gateway', { MAST_SERVICE_URLS: `tracking=${tracking.url}` });
    try {
      const client = new HttpClient(process.url);
      const rest = await client.get('/api/2.0/mlflow/experiments/get-by-name', {
        experiment_name: 'cluster-dashboard',
      });
      expect(rest.status).toBe(200);
      const gql = await new GraphQLClient(client).data(
        `{ experiments(nameContains: "cluster") { totalCount } }`,
      );
      expect(gql.experiments.totalCount).toBe(1);
    } finally {
      await process.stop();
    }
  });
});

/**
 * Every service from its descriptor, each as its own process (`runService` in its main.js), and the
 * gateway process routing to them: the cluster wiring as Helm deploys it.
 */
describe('every service as its own process (cluster wiring from the descriptors)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const processes: ServiceProcess[] = [];
  let http: HttpClient;
  let experimentId: string;
  const artifactsDir = mkdtempSync(join(tmpdir(), 'mast-cluster-services-'));

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const tracking = await startServiceProcess('tracking', {
      MAST_BACKEND_STORE_URI: database.url,
      // Another process's variables, invalid here: the tracking process must not read them.
      MAST_SERVICE_URLS: 'not-a-pair',
      MAST_S3_PART_SIZE: 'tiny',
    });
    processes.push(tracking);
    const artifact = await startServiceProcess('artifact', {
      MAST_ARTIFACTS_DESTINATION: artifactsDir,
      MAST_TRACKING_URL: tracking.url,
      // The artifact process opens no database: a bad database setting is not its concern.
      MAST_DB_POOL_SIZE: 'many',
    });
    processes.push(artifact);
    const gateway = await startServiceProcess('gateway', {
      MAST_SERVICE_URLS: `tracking=${tracking.url},artifact=${artifact.url}`,
      MAST_BACKEND_STORE_URI: 'postgresql://nobody@127.0.0.1:1/none',
    });
    processes.push(gateway);
    http = new HttpClient(gateway.url);
  });
  afterAll(async () => {
    for (const process of processes.reverse()) await process.stop();
    await database?.drop();
    rmSync(artifactsDir, { recursive: true, force: true });
  });

  test('MLflow REST through the gateway under the preview prefix, across tracking and artifact', async () => {
    const created = await http.post('/api/2.0/preview/mlflow/experiments/create', { name: 'preview' });
    expect(created.status).toBe(200);
    experimentId = created.body.experiment_id;
    const run = await http.post('/api/2.0/preview/mlflow/runs/create', { experiment_id: experimentId });
    expect(run.status).toBe(200);
    const info = run.body.run.info;
    const path = info.artifact_uri.replace('mlflow-artifacts:/', '');
    const put = await http.request(
      'PUT',
      `/api/2.0/preview/mlflow-artifacts/artifacts/${path}/model/MLmodel`,
      'flavors: {}\n',
      { 'content-type': 'text/plain' },
    );
    expect(put.status).toBe(200);
    // The artifact service asks the tracking process for the run's root, over HTTP.
    const listed = await http.get('/api/2.0/preview/mlflow/artifacts/list', {
      run_id: info.run_id,
      path: 'model',
    });
    expect(listed.body).toEqual({
      root_uri: info.artifact_uri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 12 }],
    });
    const download = await http.get('/get-artifact', { run_uuid: info.run_id, path: 'model/MLmodel' });
    expect({ status: download.status, text: download.text }).toEqual({ status: 200, text: 'flavors: {}\n' });
    const ajax = await http.get('/ajax-api/2.0/mlflow/runs/get', { run_id: info.run_id });
    expect(ajax.body.run.info.run_id).toBe(info.run_id);
  });

  test("a logged model's artifacts through the gateway: the model from tracking, its files from artifact", async () => {
    const created = await http.post('/api/2.0/mlflow/logged-models', {
      experiment_id: experimentId,
      name: 'm',
    });
    expect(created.status).toBe(200);
    const model = created.body.model.info;
    const path = model.artifact_uri.replace('mlflow-artifacts:/', '');
    const put = await http.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${path}/MLmodel`,
      'flavors: {}\n',
      {
        'content-type': 'text/plain',
      },
    );
    expect(put.status).toBe(200);
    const listed = await http.get(
      `/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/directories`,
    );
    expect(listed.body).toEqual({
      root_uri: model.artifact_uri,
      files: [{ path: 'MLmodel', is_dir: false, file_size: 12 }],
    });
    const download = await http.get(`/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/files`, {
      artifact_file_path: 'MLmodel',
    });
    expect({ status: download.status, text: download.text }).toEqual({ status: 200, text: 'flavors: {}\n' });
    const unknown = await http.get('/api/2.0/mlflow/logged-models/m-unknown/artifacts/directories');
    expect({ status: unknown.status, code: unknown.body.error_code }).toEqual({
      status: 404,
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    // Tracking still answers the model itself under the same prefix.
    const got = await http.get(`/api/2.0/mlflow/logged-models/${model.model_id}`);
    expect(got.body.model.info.model_id).toBe(model.model_id);
  });

  test('GraphQL composed from both subgraphs over HTTP', async () => {
    const { runs } = await new GraphQLClient(http).data(
      `query($ids: [ID!]!) { runs(experimentIds: $ids) { nodes { name artifacts(path: "model") { path isDir } } } }`,
      { ids: [experimentId] },
    );
    expect(runs.nodes).toHaveLength(1);
    expect(runs.nodes[0].artifacts).toEqual([{ path: 'model/MLmodel', isDir: false }]);
    const { loggedModels } = await new GraphQLClient(http).data(
      `query($ids: [ID!]!) { loggedModels(experimentIds: $ids) { nodes { name artifacts { path fileSize } } } }`,
      { ids: [experimentId] },
    );
    expect(loggedModels.nodes).toEqual([{ name: 'm', artifacts: [{ path: 'MLmodel', fileSize: 12 }] }]);
  });

  test('SIGTERM stops a service process cleanly', async () => {
    const artifact = processes[1]!;
    await artifact.stop();
    expect(artifact.child.exitCode).toBe(0);
    const down = await http.get('/api/2.0/mlflow/artifacts/list', { run_id: 'x' });
    expect({ status: down.status, code: down.body.error_code }).toEqual({
      status: 503,
      code: 'TEMPORARILY_UNAVAILABLE',
    });
  });
});
