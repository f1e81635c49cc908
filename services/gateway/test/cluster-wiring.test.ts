import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createPostgresDatabase, type ServiceProcess, startServiceProcess } from './processes.js';

jest.setTimeout(120_000);

/**
 * Issue 8, item 6: the cluster's processes (tracking, artifact, registry, gateway: their compiled
 * entry points) and what the gateway says when one of them is down.
 */
describe('cluster wiring when a service is down', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const artifacts = mkdtempSync(join(tmpdir(), 'mast-wiring-'));
  const processes: ServiceProcess[] = [];
  let gateway: ServiceProcess;
  let registry: ServiceProcess;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const tracking = await startServiceProcess('tracking', { MAST_BACKEND_STORE_URI: database.url });
    const artifact = await startServiceProcess('artifact', {
      MAST_ARTIFACTS_DESTINATION: artifacts,
      MAST_TRACKING_URL: tracking.url,
    });
    registry = await startServiceProcess('registry', { MAST_BACKEND_STORE_URI: database.url });
    processes.push(tracking, artifact, registry);
    gateway = await startServiceProcess('gateway', {
      MAST_SERVICE_URLS: `tracking=${tracking.url},artifact=${artifact.url},registry=${registry.url}`,
    });
    processes.push(gateway);
  });
  afterAll(async () => {
    for (const process of processes.reverse())
      if (process.child.exitCode === null && process.child.signalCode === null) await process.stop();
    await database.drop();
    rmSync(artifacts, { recursive: true, force: true });
  });

  test('/ready names the services that are down; GraphQL and REST answer coded errors without internal URLs', async () => {
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);

    registry.child.kill('SIGKILL');
    await new Promise((resolve) => registry.child.once('exit', resolve));

    const ready = await fetch(`${gateway.url}/ready`);
    expect(ready.status).toBe(503);
    const readyText = await ready.text();
    expect(readyText).toMatch(/registry \(unreachable\)/);
    expect(readyText).not.toMatch(/tracking|artifact|127\.0\.0\.1|http:/);

    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ registeredModel(name: "m") { name } }' }),
    });
    const body = (await response.json()) as {
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
    };
    expect(body.errors?.[0]?.extensions?.code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(body.errors?.[0]?.message).toMatch(/registry/);
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|http:\/\/|ECONNREFUSED/);

    const rest = await fetch(`${gateway.url}/api/2.0/mlflow/registered-models/get?name=m`);
    expect(rest.status).toBe(503);
    const restBody = (await rest.json()) as { error_code: string; message: string };
    expect(restBody.error_code).toBe('TEMPORARILY_UNAVAILABLE');
    expect(restBody.message).not.toMatch(/127\.0\.0\.1|http:\/\//);

    // The services still up keep answering through the gateway.
    const search = await fetch(`${gateway.url}/api/2.0/mlflow/experiments/search?max_results=1`);
    expect(search.status).toBe(200);
  });
});
