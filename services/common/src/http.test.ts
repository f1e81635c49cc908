import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, jest, test } from '@jest/globals';
import { Client } from 'minio';
import { freePort } from './addresses.js';
import { createHttpApp, ReadinessFailure } from './http.js';

describe('/ready', () => {
  test('an S3 store that is down: 503, and one log line with the reason, no stack, no credentials', async () => {
    // The artifact service's check: `bucketExists` on its S3 endpoint, here a port where nothing listens.
    const port = await freePort();
    const s3 = new Client({
      endPoint: '127.0.0.1',
      port,
      useSSL: false,
      accessKey: 'AKIAMAST',
      secretKey: 'wJalrXUtnFEMI-secret',
      region: 'us-east-1',
    });
    const { app } = createHttpApp({
      logLevel: 'warn',
      bodyLimit: 1024,
      readinessChecks: [
        async () => {
          await s3.bucketExists('artifacts');
        },
        async () => {
          throw new ReadinessFailure('the job queue (Redis) is unreachable');
        },
        async () => {
          // A message with a URL's credentials and a multi-line text, caused by a network error.
          throw new Error('HEAD http://AKIAMAST:wJalrXUtnFEMI-secret@s3.internal/artifacts failed\ndetails', {
            cause: Object.assign(new Error('connect EHOSTUNREACH 10.0.0.9:9000'), { code: 'EHOSTUNREACH' }),
          });
        },
      ],
    });
    const warn = jest.spyOn(app.log, 'warn').mockImplementation(() => {});
    try {
      const response = await app.inject({ method: 'GET', url: '/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.body).toBe(
        'NOT READY: the database is unreachable; the job queue (Redis) is unreachable',
      );
      const lines = warn.mock.calls.map((call) => call as unknown[]);
      expect(lines).toHaveLength(3);
      for (const args of lines) {
        // One string argument: no error object for pino to serialize with its stack.
        expect(args).toHaveLength(1);
        expect(typeof args[0]).toBe('string');
        expect(args[0]).not.toMatch(/\n|wJalr/);
      }
      expect(lines[0]![0]).toMatch(
        new RegExp(`^readiness check failed: .*ECONNREFUSED.*127\\.0\\.0\\.1:${port}`),
      );
      expect(lines[1]![0]).toBe('readiness check failed: the job queue (Redis) is unreachable');
      expect(lines[2]![0]).toBe(
        'readiness check failed: HEAD http://AKIAMAST:***@s3.internal/artifacts failed: connect EHOSTUNREACH 10.0.0.9:9000',
      );
    } finally {
      await app.close();
    }
  });
});

describe('path values MLflow routes cannot take', () => {
  function appWithRoute() {
    const { app } = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 });
    let handled = 0;
    app.get('/api/3.0/mlflow/traces/:trace_id', async (request) => {
      handled++;
      return { trace_id: (request.params as { trace_id: string }).trace_id };
    });
    return { app, handled: () => handled };
  }

  test('a NUL in a path parameter is a 400 before the handler (PostgreSQL text cannot hold it)', async () => {
    const { app, handled } = appWithRoute();
    const response = await app.inject({ method: 'GET', url: '/api/3.0/mlflow/traces/tr-%00' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining('Strings may not contain NUL characters.'),
    });
    expect(handled()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/api/3.0/mlflow/traces/tr-1' })).json()).toEqual({
      trace_id: 'tr-1',
    });
  });

  test("a malformed %-escape and an over-long segment answer in MLflow's format with Fastify's status", async () => {
    const { app } = appWithRoute();
    const malformed = await app.inject({ method: 'GET', url: '/api/3.0/mlflow/traces/abc%ZZ' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'The URL path "/api/3.0/mlflow/traces/abc%ZZ" is not valid percent-encoding.',
    });
    const long = await app.inject({ method: 'GET', url: `/api/3.0/mlflow/traces/${'x'.repeat(1001)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'A path segment of the URL is longer than 1000 characters.',
    });
  });
});

describe('closing', () => {
  test('a keep-alive connection whose request is in flight ends soon after its answer, not at the keep-alive', async () => {
    const { app } = createHttpApp({ logLevel: 'warn', bodyLimit: 1024 });
    app.get('/slow', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { done: true };
    });
    const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
    const socket = connect(Number(url.port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    const ended = once(socket, 'close');
    socket.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    await app.close();
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"done":true}');
    // Fastify's keep-alive is 72 s and this client never lets go: without the hook close() waits it out.
    expect(Date.now() - started).toBeLessThan(5000);
  }, 20_000);
});
