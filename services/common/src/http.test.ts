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
