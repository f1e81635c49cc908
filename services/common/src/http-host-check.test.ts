import { afterAll, describe, expect, test } from '@jest/globals';
import { createHttpApp } from './http.js';
import { inProcessCallHeaders } from './in-process-call.js';

/**
 * The Host-header check (DNS-rebinding protection, `--allowed-hosts`): MLflow answers `/health` and
 * `/version` whatever the Host (HEALTH_ENDPOINTS, mlflow/server/security_utils.py); Mast `/ready` and
 * `/metrics` too, for probes and scrapes by pod IP or service name. Everything else is checked.
 */
describe('the Host check exempts the probes', () => {
  const plain = createHttpApp({ logLevel: 'silent', bodyLimit: 1024, allowedHosts: ['mlflow.internal'] });
  const prefixed = createHttpApp({
    logLevel: 'silent',
    bodyLimit: 1024,
    allowedHosts: 'default',
    staticPrefix: '/mlflow',
  });
  for (const { app } of [plain, prefixed])
    app.get('/api/2.0/mlflow/experiments/search', async () => ({ experiments: [] }));
  afterAll(async () => {
    await plain.app.close();
    await prefixed.app.close();
  });

  const get = (app: typeof plain.app, url: string, host: string) =>
    app.inject({ method: 'GET', url, headers: { host } }).then((response) => response.statusCode);

  test('/health, /version, /ready and /metrics answer any Host; API routes and unknown paths do not', async () => {
    for (const path of ['/health', '/version', '/ready', '/metrics', '/health?probe=1'])
      expect({ path, status: await get(plain.app, path, 'lb.example.com') }).toEqual({ path, status: 200 });
    for (const path of ['/api/2.0/mlflow/experiments/search', '/health/x', '/healthz', '/nope'])
      expect({ path, status: await get(plain.app, path, 'lb.example.com') }).toEqual({ path, status: 403 });
    expect(await get(plain.app, '/api/2.0/mlflow/experiments/search', 'mlflow.internal')).toBe(200);
  });

  test("a service's in-process call to another passes whatever its Host; a forged marker does not", async () => {
    const call = (headers: Record<string, string>) =>
      plain.app
        .inject({ method: 'GET', url: '/api/2.0/mlflow/experiments/search', headers })
        .then((response) => response.statusCode);
    expect(await call({ host: 'localhost:80', ...inProcessCallHeaders() })).toBe(200);
    const forged = Object.fromEntries(Object.keys(inProcessCallHeaders()).map((name) => [name, 'guess']));
    expect(await call({ host: 'localhost:80', ...forged })).toBe(403);
  });

  test('under --static-prefix too, with the default hosts', async () => {
    expect(await get(prefixed.app, '/mlflow/health', 'mast.default.svc')).toBe(200);
    expect(await get(prefixed.app, '/mlflow/metrics', 'mast.default.svc')).toBe(200);
    expect(await get(prefixed.app, '/mlflow/api/2.0/mlflow/experiments/search', 'mast.default.svc')).toBe(
      403,
    );
    expect(await get(prefixed.app, '/mlflow/api/2.0/mlflow/experiments/search', '10.0.0.7:5000')).toBe(200);
  });
});
