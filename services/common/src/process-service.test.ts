import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { startRedisServer, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import { freePort } from './addresses.js';
import { graphqlConfig, redisConfig } from './config-fragments.js';
import { ShutdownRegistry, StartupError } from './process.js';
import { openServicesQueue } from './process-service.js';
import { defineService } from './service-descriptor.js';

const usesQueue = defineService({
  name: 'queued',
  config: [redisConfig],
  rest: { apiPaths: [] },
  create: async () => ({}),
});
const noQueue = defineService({
  name: 'plain',
  config: [graphqlConfig],
  rest: { apiPaths: [] },
  create: async () => ({}),
});

/** The error /ready's check fails with once Redis is gone (waited for up to 5 s). */
function readinessFailure(check: () => Promise<void>): Promise<Error | undefined> {
  return waitFor(
    () =>
      check().then(
        () => undefined,
        (error: Error) => error,
      ),
    '/ready to fail',
    { timeoutMs: 5000 },
  );
}

describe('openServicesQueue', () => {
  test('Redis up: connected before the services are built, and /ready checks it', async () => {
    const shutdown = new ShutdownRegistry();
    const lines: string[] = [];
    const { queue, readinessCheck } = await openServicesQueue(
      shutdown,
      { redisUrl: TEST_REDIS_URL },
      [usesQueue],
      {
        log: (line) => lines.push(line),
      },
    );
    expect(queue().kind).toBe('redis');
    expect(shutdown.names).toEqual(['queue connection, if Redis is down', 'queue connection']);
    await expect(readinessCheck!()).resolves.toBeUndefined();
    await shutdown.closeAll();
    const failure = await readinessFailure(readinessCheck!);
    expect(failure!.message).toBe('the job queue (Redis) is unreachable');
    expect(lines).toEqual([]);
  });

  test('Redis down after start: /ready fails, and shutdown does not wait on calls pending on Redis', async () => {
    const port = await freePort();
    const redis = await startRedisServer(port);
    const shutdown = new ShutdownRegistry();
    const { queue, readinessCheck } = await openServicesQueue(
      shutdown,
      { redisUrl: `redis://127.0.0.1:${port}` },
      [usesQueue],
      { log: () => {} },
    );
    const connection = queue();
    const events = await connection.subscribe(`events-${uniqueRedisPrefix()}`, 'consumer');
    const worker = events.process(async () => {});
    // A service's own closer that waits on Redis (as the outbox relay's stop waits for its publish).
    let pending!: Promise<unknown>;
    shutdown.add('relay', async () => {
      await pending;
      await worker.close();
    });
    redis.kill('SIGKILL');
    const failure = await readinessFailure(readinessCheck!);
    expect(failure!.message).toBe('the job queue (Redis) is unreachable');
    pending = connection.subscribers('events').catch((error: Error) => error);
    const started = Date.now();
    await shutdown.closeAll();
    // A closer awaiting Redis while it is down would otherwise wait forever.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await pending).toBeInstanceOf(Error);
  });

  test('no service uses the queue, or no REDIS_URL: nothing opened, nothing checked', async () => {
    const shutdown = new ShutdownRegistry();
    const unused = await openServicesQueue(shutdown, { redisUrl: 'redis://127.0.0.1:1' }, [noQueue], {
      log: () => {},
    });
    expect(unused.readinessCheck).toBeUndefined();
    const inProcess = await openServicesQueue(shutdown, { redisUrl: undefined }, [usesQueue], {
      log: () => {},
    });
    expect(inProcess.readinessCheck).toBeUndefined();
    expect(inProcess.queue().kind).toBe('in-process');
    await shutdown.closeAll();
  });

  test('nothing listening: the port answers not-ready meanwhile, then one StartupError line', async () => {
    const [redisPort, httpPort] = [await freePort(), await freePort()];
    const shutdown = new ShutdownRegistry();
    const lines: string[] = [];
    const opening = openServicesQueue(
      shutdown,
      { redisUrl: `redis://:pw@127.0.0.1:${redisPort}` },
      [usesQueue],
      {
        log: (line) => lines.push(line),
        holdPort: { host: '127.0.0.1', port: httpPort },
        timeoutMs: 2500,
      },
    ).catch((error: Error) => error);
    const ready = await waitFor(
      () => fetch(`http://127.0.0.1:${httpPort}/ready`).catch(() => undefined),
      'the stand-in to listen',
      { timeoutMs: 2000, intervalMs: 50 },
    );
    expect(ready!.status).toBe(503);
    expect(await ready!.text()).toBe('NOT READY: waiting for Redis');
    const error = await opening;
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toBe(
      `Redis at 127.0.0.1:${redisPort} did not answer within 3 s: connect ECONNREFUSED 127.0.0.1:${redisPort}`,
    );
    // 0, 0.5, 1.5 s: a line per attempt.
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      `queue: Redis at 127.0.0.1:${redisPort} is not reachable (attempt 1: connect ECONNREFUSED 127.0.0.1:${redisPort}); retrying in 0.5 s`,
    );
    // The stand-in is gone once the wait ends.
    await expect(fetch(`http://127.0.0.1:${httpPort}/ready`)).rejects.toThrow();
    await shutdown.closeAll();
  });
});

describe('runService with REDIS_URL where nothing listens (a process)', () => {
  test('answers /ready 503, logs a bounded line per attempt, and exits at once on SIGTERM', async () => {
    const [redisPort, httpPort] = [await freePort(), await freePort()];
    // The built package, as services' main.js files run it.
    const common = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { defineService, redisConfig, runService } from ${JSON.stringify(common)};
      await runService(defineService({ name: 'queued', config: [redisConfig], rest: { apiPaths: [] },
        create: async ({ queue }) => { queue(); return {}; } }));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env,
        REDIS_URL: `redis://user:pw@127.0.0.1:${redisPort}`,
        MAST_PORT: String(httpPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ready = await waitFor(
        () => fetch(`http://127.0.0.1:${httpPort}/ready`).catch(() => undefined),
        'the process to answer',
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(ready!.status).toBe(503);
      expect(await ready!.text()).toBe('NOT READY: waiting for Redis');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      child.kill('SIGTERM');
    }
    const started = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    const lines = output.trim().split('\n');
    const attempts = lines.filter((line) => line.includes('is not reachable'));
    // Within ~2.5 s: attempts at 0, 0.5, 1.5 s (and perhaps 3.5 s), not a flood.
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(4);
    expect(output).not.toMatch(/pw@|\n\s+at /);
    expect(lines.at(-1)).toBe('queued: shutting down (SIGTERM)');
  }, 30_000);
});
