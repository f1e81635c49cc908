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
