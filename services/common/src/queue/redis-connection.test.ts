import { afterAll, describe, expect, test } from '@jest/globals';
import { startRedisServer, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import { freePort } from '../addresses.js';
import { RedisQueueConnection, reconnectDelayMs } from './redis-connection.js';

describe('RedisQueueConnection when Redis is unreachable', () => {
  const opened: RedisQueueConnection[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((connection) => connection.close()));
  });

  test('reconnects with backoff from 0.5 s to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(reconnectDelayMs)).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  test('nothing listening: one line per attempt, a bounded wait, and close() at once', async () => {
    const port = await freePort();
    const errors: Error[] = [];
    const connection = new RedisQueueConnection({
      url: `redis://mast:s3cret@127.0.0.1:${port}`,
      prefix: uniqueRedisPrefix(),
      onError: (error) => errors.push(error),
    });
    opened.push(connection);
    // Queues and workers made while Redis is down must neither repeat the connection's lines nor hold
    // shutdown.
    const queue = connection.queue('jobs');
    queue.process(async () => {});

    const started = Date.now();
    await expect(connection.waitUntilConnected(1600)).rejects.toThrow(
      `Redis at 127.0.0.1:${port} did not answer within 2 s: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    // Bounds, not speed checks: a loaded CI machine delays timers.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(connection.connected).toBe(false);
    // Attempts at 0, 0.5, 1.5, 3.5 and 7.5 s: within 10 s at most five lines, not a flood (BullMQ's own
    // retries would log dozens).
    await waitFor(() => errors.length >= 2, 'a second reconnect attempt', { timeoutMs: 8000 });
    expect(errors.length).toBeLessThanOrEqual(5);
    expect(errors[0]!.message).toBe(
      `Redis at 127.0.0.1:${port} is not reachable (attempt 1: connect ECONNREFUSED 127.0.0.1:${port}); retrying in 0.5 s`,
    );
    expect(errors[1]!.message).toMatch(/\(attempt 2: .*\); retrying in 1 s$/);
    for (const error of errors) expect(error.message).not.toMatch(/s3cret|\n/);

    const closing = Date.now();
    await connection.close();
    expect(Date.now() - closing).toBeLessThan(5000);
  });

  test('Redis going down after start: not connected, one line per attempt, close() at once', async () => {
    const port = await freePort();
    const redis = await startRedisServer(port);
    const errors: Error[] = [];
    const connection = new RedisQueueConnection({
      url: `redis://127.0.0.1:${port}`,
      prefix: uniqueRedisPrefix(),
      onError: (error) => errors.push(error),
    });
    opened.push(connection);
    try {
      await connection.waitUntilConnected(5000);
      expect(connection.connected).toBe(true);
      const queue = connection.queue('jobs');
      await queue.add('job', { n: 1 });
      const handled: number[] = [];
      queue.process(async (job) => {
        handled.push((job.data as { n: number }).n);
      });
      await waitFor(() => handled.length === 1, 'the job to run');
    } finally {
      redis.kill('SIGKILL');
    }
    await waitFor(() => !connection.connected, 'the connection to notice', { timeoutMs: 5000 });
    await waitFor(() => errors.length >= 2, 'two reconnect attempts', { timeoutMs: 5000 });
    expect(
      errors.every((error) => error.message.startsWith(`Redis at 127.0.0.1:${port} is not reachable`)),
    ).toBe(true);
    const closing = Date.now();
    await connection.close();
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});

describe('RedisQueueConnection with Redis up', () => {
  test('is connected at once and closes cleanly', async () => {
    const errors: Error[] = [];
    const connection = new RedisQueueConnection({
      url: TEST_REDIS_URL,
      prefix: uniqueRedisPrefix(),
      onError: (error) => errors.push(error),
    });
    await connection.waitUntilConnected(5000);
    expect(connection.connected).toBe(true);
    await connection.close();
    expect(errors).toEqual([]);
  });
});
