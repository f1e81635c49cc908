import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis server tests use (the machine's); each suite works under its own key prefix. */
export const TEST_REDIS_URL = process.env.MAST_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses, e.g. `mast-test-3f9a1c2b7d4e`. */
export function uniqueRedisPrefix(): string {
  return `mast-test-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `prefix:` on the test Redis; resolves with how many it deleted. */
export async function deleteRedisKeys(prefix: string, url = TEST_REDIS_URL): Promise<number> {
  const redis = new Redis(url);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit();
  }
}

/**
 * A throwaway `redis-server` (no persistence) on `port`, for tests that take Redis down: resolves once
 * it answers. Kill it with `SIGKILL`.
 */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  // Commands wait for the connection, retried every 100 ms until the server listens.
  const probe = new Redis(`redis://127.0.0.1:${port}`, {
    retryStrategy: () => 100,
    maxRetriesPerRequest: null,
  });
  probe.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.ping(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`redis-server on port ${port} did not start`)), 10_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    probe.disconnect();
  }
  return child;
}
