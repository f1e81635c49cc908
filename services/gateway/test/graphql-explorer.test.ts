import { describe, expect, jest, test } from '@jest/globals';
import { startAllInOne } from './harness.js';

jest.setTimeout(180_000);

/** Issue 8, item 7: the explorer is off when introspection is off (its twin "on" test runs `mast server`). */
describe('GraphQL explorer', () => {
  test('introspection off: no explorer page, no assets, no Apollo landing page', async () => {
    const mast = await startAllInOne({
      name: 'mast-explorer-',
      env: { MAST_GRAPHQL_INTROSPECTION: 'false' },
    });
    try {
      const page = await mast.server.app.inject({
        method: 'GET',
        url: '/graphql',
        headers: { accept: 'text/html' },
      });
      expect([400, 406]).toContain(page.statusCode);
      expect(page.body).not.toMatch(/<html|apollographql/i);
      const asset = await mast.server.app.inject({ method: 'GET', url: '/graphql/explorer/graphiql.min.js' });
      expect(asset.statusCode).toBe(404);
    } finally {
      await mast.close();
    }
  });
});
