import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHttpApp, gatewayClusterConfig, graphqlConfig, httpConfig, loadConfig } from '@mast/common';
import { buildGateway, type Gateway } from '@mast/gateway';
import { HttpClient } from '@mast/test-support';
import { registerWebUi } from '../../gateway/src/web-ui.js';
import { requireBuiltUi } from './browser.js';

/**
 * How the gateway serves the UI, without a browser: the cluster gateway process's app (no services
 * behind it) answers `/` and client routes with the app, assets as immutable, API paths with MLflow's
 * JSON 404; and a server without a build says how to build it.
 */
describe('the web UI as the gateway serves it', () => {
  let gateway: Gateway;
  let http: HttpClient;

  beforeAll(async () => {
    requireBuiltUi();
    gateway = await buildGateway(
      loadConfig({ MAST_LOG_LEVEL: 'silent' }, [httpConfig, graphqlConfig, gatewayClusterConfig]),
    );
    http = new HttpClient(await gateway.app.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterAll(async () => {
    await gateway?.close();
  });

  test('the cluster gateway serves the app at / and client routes, never cached, with a CSP', async () => {
    for (const path of ['/', '/experiments/1/runs/abc', '/models/my.model/versions/2?history=ALIAS_SET']) {
      const response = await http.get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.text).toContain('<base href="/" />');
      expect(response.text).toMatch(/<script type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js">/);
    }
  });

  test('hashed assets are immutable; a missing asset is a JSON 404', async () => {
    const index = await http.get('/');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(index.text)![1]!;
    const asset = await http.get(`/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await http.get('/assets/missing-0000.js');
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  test('a file the build does not have is a 404, not the app; names with dots stay client routes', async () => {
    for (const path of ['/favicon.ico', '/foo.js', '/robots.txt?x=1', '/static/js/app.js']) {
      const response = await http.get(path);
      expect({ path, status: response.status, code: response.body.error_code }).toEqual({
        path,
        status: 404,
        code: 'ENDPOINT_NOT_FOUND',
      });
    }
    for (const path of [
      '/index.html',
      '/models/my.model',
      '/experiments/1/runs/abc/artifacts/plots/loss.png',
      '/settings',
    ]) {
      const response = await http.get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.text).toContain('<base href="/" />');
    }
    // Under --static-prefix too.
    const prefixed = createHttpApp({ logLevel: 'silent', bodyLimit: 1024, staticPrefix: '/mlflow' });
    await registerWebUi(prefixed.app, { staticPrefix: '/mlflow' });
    try {
      expect((await prefixed.app.inject({ method: 'GET', url: '/mlflow/favicon.ico' })).statusCode).toBe(404);
      const route = await prefixed.app.inject({ method: 'GET', url: '/mlflow/models/my.model' });
      expect({ status: route.statusCode, base: route.body.includes('<base href="/mlflow/" />') }).toEqual({
        status: 200,
        base: true,
      });
    } finally {
      await prefixed.app.close();
    }
  });

  test('API paths keep their JSON answers', async () => {
    for (const path of [
      '/api/2.0/mlflow/unknown',
      '/ajax-api/2.0/mlflow/x',
      '/graphql/x',
      '/get-artifact/x',
      '/model-versions/x',
    ]) {
      const response = await http.get(path);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No route for GET ${path}`,
      });
    }
    expect((await http.get('/health')).text).toBe('OK');
    expect((await http.get('/version')).status).toBe(200);
    const posted = await http.post('/experiments', {});
    expect(posted.status).toBe(404);
    expect(posted.body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  test('without a build, / says how to build the UI and client routes stay JSON 404s', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mast-no-ui-'));
    const bare = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 });
    await registerWebUi(bare.app, { root: empty });
    try {
      const root = await bare.app.inject({ method: 'GET', url: '/' });
      expect(root.statusCode).toBe(404);
      expect(root.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(root.body).toContain('The Mast web UI is not built. Run `npm run build`');
      const route = await bare.app.inject({ method: 'GET', url: '/experiments' });
      expect(route.statusCode).toBe(404);
      expect(route.json().error_code).toBe('ENDPOINT_NOT_FOUND');
    } finally {
      await bare.app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
