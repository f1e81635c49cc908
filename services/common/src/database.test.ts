import { describe, expect, test } from '@jest/globals';
import { TEST_POSTGRES_URL } from '@mast/test-support';
import { openDatabase, waitForDatabase } from './database.js';
import { StartupError } from './process.js';

describe('waitForDatabase', () => {
  test('sslmode=require against a server without TLS: one line, no retries', async () => {
    // The test server runs without TLS (`ssl = off`), as a server an operator forgot to configure.
    const url = new URL(TEST_POSTGRES_URL);
    url.password = 's3cret';
    url.searchParams.set('sslmode', 'require');
    const database = await openDatabase({ uri: url.toString(), poolSize: 1 });
    const retries: unknown[] = [];
    try {
      const error = await waitForDatabase(database, {
        timeoutMs: 30_000,
        onRetry: (_attempt, _delay, cause) => retries.push(cause),
      }).catch((thrown: unknown) => thrown);
      expect(retries).toEqual([]);
      expect(error).toBeInstanceOf(StartupError);
      const message = (error as Error).message;
      expect(message).toMatch(
        /^the database postgresql:\/\/postgres@127\.0\.0\.1:5432\/test refused the connection: the server does not support SSL \(use sslmode=disable or prefer, or enable TLS on the server\)/,
      );
      expect(message).not.toMatch(/s3cret|\n/);
    } finally {
      await database.close();
    }
  });
});
