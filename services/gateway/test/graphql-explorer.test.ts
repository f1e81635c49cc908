import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { buildAllInOne } from '../src/all-in-one.js';
import { loadAllInOneConfig } from '../src/services.js';

jest.setTimeout(180_000);

/** Issue 8, item 7: the explorer is off when introspection is off (its twin "on" test runs `mast server`). */
describe('GraphQL explorer', () => {
  test('introspection off: no explorer page, no assets, no Apollo landing page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mast-explorer-'));
    const server = await buildAllInOne(
      loadAllInOneConfig({
        MAST_BACKEND_STORE_URI: 'memory://',
        MAST_ARTIFACTS_DESTINATION: dir,
        MAST_LOG_LEVEL: 'silent',
        MAST_GRAPHQL_INTROSPECTION: 'false',
      }),
    );
    try {
      const page = await server.app.inject({
        method: 'GET',
        url: '/graphql',
        headers: { accept: 'text/html' },
      });
      expect([400, 406]).toContain(page.statusCode);
      expect(page.body).not.toMatch(/<html|apollographql/i);
      const asset = await server.app.inject({ method: 'GET', url: '/graphql/explorer/graphiql.min.js' });
      expect(asset.statusCode).toBe(404);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
