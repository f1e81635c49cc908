import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { API_DOCS_HINT } from './errors.js';
import { createHttpApp } from './http.js';

/** The JSON body parser every Mast service shares (`createHttpApp`), through a route echoing the body. */
describe('JSON request bodies', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 }).app;
    app.post('/echo', async (request) => ({ body: request.body }));
    await app.ready();
  });
  afterAll(async () => app.close());

  const post = (payload: string | Buffer) =>
    app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });

  test('UTF-8 text, with or without a byte order mark, and surrogate pairs are read', async () => {
    for (const payload of [
      '{"name": "é😀"}',
      '{"name": "\\u00e9\\ud83d\\ude00"}',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"name": "é😀"}')]),
    ]) {
      const response = await post(payload);
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 200,
        body: { body: { name: 'é😀' } },
      });
    }
  });

  test('bytes that are not UTF-8 (invalid, overlong, an encoded surrogate): 400, never U+FFFD', async () => {
    for (const bad of [[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe9]]) {
      const response = await post(
        Buffer.concat([Buffer.from('{"name": "a'), Buffer.from(bad), Buffer.from('b"}')]),
      );
      expect({ status: response.statusCode, body: response.json() }).toEqual({
        status: 400,
        body: {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: `Malformed JSON request body: it is not valid UTF-8.${API_DOCS_HINT}`,
        },
      });
    }
  });

  test('a string with an unpaired surrogate anywhere (also double-encoded JSON): 400 naming it', async () => {
    for (const [payload, path] of [
      ['{"name": "a\\ud800b"}', 'name'],
      ['{"a": {"b": ["x", "\\udc00"]}}', 'a.b[1]'],
      [JSON.stringify('{"name": "\\ud800"}'), 'name'],
    ] as const) {
      const response = await post(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: expect.stringMatching(
          new RegExp(
            `^Invalid value "[^"]*" for parameter '${path.replace(/[[\]]/g, '\\$&')}' supplied: Strings must be valid Unicode`,
          ),
        ),
      });
    }
  });
});
