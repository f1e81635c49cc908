import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { createHttpApp } from '@mast/common';
import { registerWebUi } from '../../gateway/src/web-ui.js';
import { requireBuiltUi } from './browser.js';

/**
 * The UI's favicon (services/ui/public/favicon.svg): linked from index.html relative to `<base href>`,
 * served by the gateway at the root and under `--static-prefix`, so no page asks for a missing icon.
 */
describe('the favicon', () => {
  const icon = readFileSync(new URL('../public/favicon.svg', import.meta.url), 'utf8');

  test.each([
    ['', '/'],
    ['/mlflow', '/mlflow/'],
  ])('with static prefix %j: linked from the page and served as SVG', async (prefix, page) => {
    requireBuiltUi();
    const { app } = createHttpApp({ logLevel: 'silent', bodyLimit: 1024, staticPrefix: prefix });
    await registerWebUi(app, { staticPrefix: prefix });
    try {
      const html = (await app.inject({ method: 'GET', url: page })).body;
      const href = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)"/.exec(html)?.[1];
      const base = /<base href="([^"]+)"/.exec(html)?.[1];
      // Where a browser resolves the link: against <base href>.
      const url = new URL(href!, new URL(base!, 'http://127.0.0.1')).pathname;
      expect(url).toBe(`${prefix}/favicon.svg`);
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('image/svg+xml');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.body).toBe(icon);
      if (prefix !== '')
        expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
