/**
 * The job-queue contract: the in-process implementation and BullMQ on a real Redis pass the same tests.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { deleteRedisKeys, gate, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import {
  createQueueConnection,
  type Job,
  publishToTopic,
  QueueClosedError,
  type QueueConnection,
  UnrecoverableJobError,
} from '../index.js';

const prefix = uniqueRedisPrefix();

const IMPLEMENTATIONS: Array<[string, (options?: { keepFinishedCount?: number }) => QueueConnection]> = [
  [
    'in-process',
    (options) =>
      createQueueConnection({
        ...(options?.keepFinishedCount !== undefined && {
          keepFinished: { count: options.keepFinishedCount },
        }),
      }),
  ],
  [
    'redis',
    (options) =>
      createQueueConnection({
        redisUrl: TEST_REDIS_URL,
        prefix,
        ...(options?.keepFinishedCount !== undefined && {
          keepFinished: { count: options.keepFinishedCount },
        }),
      }),
  ],
];

afterAll(async () => {
  await deleteRedisKeys(prefix);
});

/** A queue name no other test uses. */
function queueName(): string {
  return `q-${randomUUID()}`;
}

describe.each(IMPLEMENTATIONS)('job queue contract: %s', (kind, open) => {
  it('is the implementation asked for', async () => {
    const connection = open();
    expect(connection.kind).toBe(kind);
    await connection.close();
  });

  it('delivers each added job to a worker, with its name and data', async () => {
    const connection = open();
    try {
      const queue = connection.queue<{ n: number; at: string }>(queueName());
      const seen: Job<{ n: number; at: string }>[] = [];
      queue.process(async (job) => {
        seen.push(job);
      });
      const ids: string[] = [];
      for (let n = 0; n < 3; n += 1)
        ids.push(await queue.add(`job-${n}`, { n, at: '2026-01-01T00:00:00.000Z' }));
      await waitFor(() => seen.length === 3, '3 jobs handled');
      expect(seen.map((job) => [job.id, job.name, job.data.n, job.attempt])).toEqual(
        expect.arrayContaining([
          [ids[0], 'job-0', 0, 1],
          [ids[1], 'job-1', 1, 1],
          [ids[2], 'job-2', 2, 1],
        ]),
      );
      expect(seen[0].data.at).toBe('2026-01-01T00:00:00.000Z');
      await waitFor(async () => (await queue.getJob(ids[2]))?.state === 'completed', 'job completed');
      expect(await queue.getJob(ids[0])).toMatchObject({ id: ids[0], name: 'job-0', state: 'completed' });
      expect(await queue.getJob('no-such-job')).toBeUndefined();
      expect((await queue.getCounts()).completed).toBe(3);
    } finally {
      await connection.close();
    }
  });

  it('ignores a job whose id it already holds, waiting or finished', async () => {
    const connection = open();
    try {
      const queue = connection.queue<string>(queueName());
      const id = `event-${randomUUID()}`;
      expect(await queue.add('first', 'one', { jobId: id })).toBe(id);
      expect(await queue.add('second', 'two', { jobId: id })).toBe(id);
      const seen: string[] = [];
      queue.process(async (job) => {
        seen.push(`${job.name}:${job.data}`);
      });
      await waitFor(() => seen.length === 1, 'first job handled');
      await waitFor(async () => (await queue.getJob(id))?.state === 'completed', 'job completed');
      // Once finished it is still remembered: a redelivery is a no-op. The sentinel, added after it,
      // is handled after it would have been (one worker, concurrency 1, FIFO).
      await queue.add('third', 'three', { jobId: id });
      await queue.add('sentinel', 'end');
      await waitFor(() => seen.includes('sentinel:end'), 'sentinel handled');
      expect(seen).toEqual(['first:one', 'sentinel:end']);
      expect((await queue.getCounts()).completed).toBe(2);
    } finally {
      await connection.close();
    }
  });

  it('forgets finished jobs beyond keepFinished, so their ids can be added again', async () => {
    const connection = open({ keepFinishedCount: 1 });
    try {
      const queue = connection.queue<string>(queueName());
      const seen: string[] = [];
      queue.process(async (job) => {
        seen.push(job.data);
      });
      await queue.add('a', 'a1', { jobId: 'job-a' });
      await waitFor(async () => (await queue.getJob('job-a'))?.state === 'completed', 'a completed');
      await queue.add('b', 'b1', { jobId: 'job-b' });
      await waitFor(async () => (await queue.getJob('job-b'))?.state === 'completed', 'b completed');
      expect(await queue.getJob('job-a')).toBeUndefined();
      await queue.add('a', 'a2', { jobId: 'job-a' });
      await waitFor(() => seen.includes('a2'), 'a handled again');
      expect(seen).toEqual(['a1', 'b1', 'a2']);
    } finally {
      await connection.close();
    }
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const connection = open();
    try {
      const queue = connection.queue<string>(queueName(), {
        defaultJobOptions: { attempts: 3, backoff: { type: 'fixed', delayMs: 20 } },
      });
      const tries: Array<[number, number, number]> = [];
      const failures: Array<[string, boolean]> = [];
      queue.process(
        async (job) => {
          tries.push([job.attempt, job.attempts, Date.now()]);
          if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        },
        { onFailed: (_job, error, willRetry) => failures.push([error.message, willRetry]) },
      );
      const id = await queue.add('flaky', 'x');
      await waitFor(async () => (await queue.getJob(id))?.state === 'completed', 'job completed');
      expect(tries.map(([attempt, attempts]) => [attempt, attempts])).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
      expect(tries[1][2] - tries[0][2]).toBeGreaterThanOrEqual(15);
      expect(failures).toEqual([
        ['flaky 1', true],
        ['flaky 2', true],
      ]);
      expect(await queue.getJob(id)).toMatchObject({ state: 'completed', attemptsMade: 3 });
    } finally {
      await connection.close();
    }
  });

  it('fails a job after its last try', async () => {
    const connection = open();
    try {
      const queue = connection.queue<string>(queueName());
      let tries = 0;
      queue.process(async () => {
        tries += 1;
        throw new Error('always');
      });
      const id = await queue.add('doomed', 'x', { attempts: 2 });
      await waitFor(async () => (await queue.getJob(id))?.state === 'failed', 'job failed');
      expect(tries).toBe(2);
      expect(await queue.getJob(id)).toMatchObject({
        state: 'failed',
        attemptsMade: 2,
        failedReason: 'always',
      });
    } finally {
      await connection.close();
    }
  });

  it('fails a job at once on an UnrecoverableJobError, whatever tries remain', async () => {
    const connection = open();
    try {
      const queue = connection.queue<string>(queueName());
      const tries: number[] = [];
      const failures: Array<[string, boolean]> = [];
      queue.process(
        async (job) => {
          tries.push(job.attempt);
          throw new UnrecoverableJobError('no such model');
        },
        { onFailed: (_job, error, willRetry) => failures.push([error.message, willRetry]) },
      );
      const id = await queue.add('bad', 'x', { attempts: 5, backoff: { type: 'fixed', delayMs: 1 } });
      await waitFor(async () => (await queue.getJob(id))?.state === 'failed', 'job failed');
      expect(tries).toEqual([1]);
      expect(failures).toEqual([['no such model', false]]);
      expect(await queue.getJob(id)).toMatchObject({ state: 'failed', failedReason: 'no such model' });
    } finally {
      await connection.close();
    }
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const connection = open();
    try {
      const queue = connection.queue<number>(queueName());
      let running = 0;
      let maxRunning = 0;
      let done = 0;
      const release = gate();
      for (let n = 0; n < 8; n += 1) await queue.add('slow', n);
      queue.process(
        async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await release.promise;
          running -= 1;
          done += 1;
        },
        { concurrency: 3 },
      );
      await waitFor(() => running === 3, '3 handlers running');
      const counts = await queue.getCounts();
      expect(counts.active).toBe(3);
      expect(counts.waiting).toBe(5);
      release.open();
      await waitFor(() => done === 8, 'all jobs done');
      expect(maxRunning).toBe(3);
    } finally {
      await connection.close();
    }
  });

  /** A queue on `connection` whose one job's handler has started and runs until `release.open()`. */
  async function startLongJob(connection: QueueConnection) {
    const queue = connection.queue<string>(queueName());
    const events: string[] = [];
    const release = gate();
    const worker = queue.process(async () => {
      events.push('started');
      await release.promise;
      events.push('handler finished');
    });
    await queue.add('long', 'x');
    await waitFor(() => events.includes('started'), 'handler started');
    return { queue, worker, events, release };
  }

  it('close() waits for running handlers, and the queue then refuses jobs', async () => {
    const connection = open();
    const { queue, worker, events, release } = await startLongJob(connection);
    const closed = worker.close().then(() => events.push('worker closed'));
    const connectionClosed = connection.close().then(() => events.push('connection closed'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['started']);
    release.open();
    await Promise.all([closed, connectionClosed]);
    expect(events.slice(0, 2)).toEqual(['started', 'handler finished']);
    expect(events).toHaveLength(4);
    await expect(queue.add('late', 'y')).rejects.toBeInstanceOf(QueueClosedError);
    expect(() => connection.queue('another')).toThrow(QueueClosedError);
  });

  it('close(true) resolves without waiting for running handlers', async () => {
    const connection = open();
    const { worker, events, release } = await startLongJob(connection);
    await worker.close(true);
    expect(events).toEqual(['started']);
    release.open();
    await connection.close();
  });

  it('rejects job ids BullMQ cannot store', async () => {
    const connection = open();
    try {
      const queue = connection.queue<string>(queueName());
      await expect(queue.add('x', 'x', { jobId: '42' })).rejects.toBeInstanceOf(TypeError);
      await expect(queue.add('x', 'x', { jobId: 'a:b' })).rejects.toBeInstanceOf(TypeError);
      expect(() => connection.queue('bad name:with colon')).toThrow(TypeError);
    } finally {
      await connection.close();
    }
  });

  it('fans a topic out: each subscriber gets every event once on its own queue, replicas share it', async () => {
    const connection = open();
    try {
      const topic = queueName();
      expect(await connection.subscribers(topic)).toEqual([]);
      // nobody listens yet: the event goes nowhere, and later subscribers never see it
      expect(await publishToTopic(connection, topic, 'early', { n: 0 })).toBe(0);
      const webhooks = await connection.subscribe<{ n: number }>(topic, 'webhooks');
      const deploy = await connection.subscribe<{ n: number }>(topic, 'deploy');
      expect(await connection.subscribe(topic, 'deploy')).toBe(deploy);
      expect(await connection.subscribers(topic)).toEqual(['deploy', 'webhooks']);
      expect(deploy.name).toBe(`${topic}.deploy`);
      const seen = { webhooks: [] as number[], deploy: [] as number[] };
      webhooks.process(async (job) => {
        seen.webhooks.push(job.data.n);
      });
      for (let replica = 0; replica < 2; replica += 1) {
        deploy.process(async (job) => {
          seen.deploy.push(job.data.n);
        });
      }
      for (let n = 1; n <= 5; n += 1) {
        expect(await publishToTopic(connection, topic, 'event', { n }, { jobId: `event-${n}` })).toBe(2);
      }
      // a republished event (the relay after a crash) is absorbed by each subscriber's queue
      await publishToTopic(connection, topic, 'event', { n: 5 }, { jobId: 'event-5' });
      await waitFor(() => seen.webhooks.length === 5 && seen.deploy.length === 5, 'both subscribers served');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen.webhooks.sort()).toEqual([1, 2, 3, 4, 5]);
      expect(seen.deploy.sort()).toEqual([1, 2, 3, 4, 5]);
      await expect(connection.subscribe(topic, 'bad:name')).rejects.toBeInstanceOf(TypeError);
    } finally {
      await connection.close();
    }
  });
});

describe('topic subscriptions on Redis', () => {
  it('are remembered across connections (processes) and restarts', async () => {
    const topic = queueName();
    const first = createQueueConnection({ redisUrl: TEST_REDIS_URL, prefix });
    await first.subscribe(topic, 'deploy');
    await first.close();
    const second = createQueueConnection({ redisUrl: TEST_REDIS_URL, prefix });
    try {
      expect(await second.subscribers(topic)).toEqual(['deploy']);
      const queue = second.queue<string>(`${topic}.deploy`);
      expect(await publishToTopic(second, topic, 'event', 'x', { jobId: 'e-1' })).toBe(1);
      expect(await queue.getJob('e-1')).toMatchObject({ name: 'event', data: 'x' });
    } finally {
      await second.close();
    }
  });
});
