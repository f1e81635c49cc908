/**
 * The transactional outbox on a real PostgreSQL (and PGlite): appends follow their transaction, the
 * relay publishes with the event id as job id, a relay killed between publish and mark redelivers and
 * consumers absorb it, and concurrent relays never publish a row twice.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MastEvent } from '@mast/proto';
import {
  BACKENDS,
  type Backend,
  deleteRedisKeys,
  openTestDatabase,
  TEST_REDIS_URL,
  uniqueRedisPrefix,
  waitFor,
} from '@mast/test-support';
import { type Kysely, sql } from 'kysely';
import {
  appendEvent,
  appendEvents,
  createQueueConnection,
  type Database,
  type JobOptions,
  type JobQueue,
  migrateToLatest,
  OutboxRelay,
  outboxMigration,
  processEventOnce,
  processedEventsMigration,
  type QueueConnection,
} from '../index.js';

const SCHEMA = 'registry';
const QUEUE = 'registry-events';
/** The test's subscriber of the topic (the relay publishes to subscribers' queues only). */
const CONSUMER = 'consumer';
const redisPrefix = uniqueRedisPrefix();

afterAll(async () => {
  await deleteRedisKeys(redisPrefix);
});

async function openMigrated(backend: Backend): Promise<Database<any>> {
  const database = await openTestDatabase<any>(backend);
  await migrateToLatest(database.db, {
    schema: SCHEMA,
    migrations: {
      '0001-models': {
        up: async (db) => {
          await sql`create table registry.models (name text primary key)`.execute(db);
          await sql`create table registry.effects (event_id uuid not null, name text not null)`.execute(db);
        },
      },
      '0002-outbox': outboxMigration(SCHEMA),
      '0003-processed-events': processedEventsMigration(SCHEMA),
    },
  });
  return database;
}

/** Creates a model and appends its event in one transaction; resolves with the event id. */
async function createModel(db: Kysely<any>, name: string): Promise<string> {
  return db.transaction().execute(async (tx) => {
    await tx.insertInto('registry.models').values({ name }).execute();
    return appendEvent(tx, SCHEMA, {
      queue: QUEUE,
      type: 'REGISTERED_MODEL_CREATED',
      payload: { name, actor: 'alice' },
    });
  });
}

async function outboxRows(db: Kysely<any>) {
  return db
    .selectFrom('registry.outbox')
    .select(['event_id', 'type', 'sent_at', 'attempts'])
    .orderBy('seq')
    .execute();
}

/** A consumer that applies each event once through processEventOnce, counting deliveries. */
function consume(db: Kysely<any>, queue: JobQueue<MastEvent>) {
  const deliveries: string[] = [];
  const applied: string[] = [];
  queue.process(
    async (job) => {
      deliveries.push(job.id);
      const ran = await processEventOnce(db, SCHEMA, 'test-consumer', job.data.event_id, async (tx) => {
        const name = (job.data.payload as { name?: string }).name ?? '';
        await tx.insertInto('registry.effects').values({ event_id: job.data.event_id, name }).execute();
      });
      if (ran) applied.push(job.id);
    },
    { concurrency: 4 },
  );
  return { deliveries, applied };
}

async function effectCount(db: Kysely<any>, eventId: string): Promise<number> {
  const row = await db
    .selectFrom('registry.effects')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('event_id', '=', eventId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(BACKENDS)('outbox on %s', (backend) => {
  let database: Database<any>;
  let db: Kysely<any>;

  beforeAll(async () => {
    database = await openMigrated(backend);
    db = database.db;
  });

  afterAll(async () => {
    await database?.close();
  });

  it('publishes an event appended in a committed transaction, never one from a rolled-back one', async () => {
    await db.deleteFrom('registry.outbox').execute();
    const queues = createQueueConnection();
    try {
      const received: MastEvent[] = [];
      (await queues.subscribe<MastEvent>(QUEUE, CONSUMER)).process(async (job) => {
        expect(job.id).toBe(job.data.event_id);
        expect(job.name).toBe(job.data.type);
        received.push(job.data);
      });
      const before = Date.now();
      const committed = await createModel(db, 'committed-model');
      await expect(
        db.transaction().execute(async (tx) => {
          await tx.insertInto('registry.models').values({ name: 'rolled-back-model' }).execute();
          await appendEvent(tx, SCHEMA, {
            queue: QUEUE,
            type: 'REGISTERED_MODEL_CREATED',
            payload: { name: 'rolled-back-model' },
          });
          throw new Error('the change fails');
        }),
      ).rejects.toThrow('the change fails');

      const relay = new OutboxRelay({ db, schema: SCHEMA, queues });
      expect(await relay.relayOnce()).toBe(1);
      expect(await relay.relayOnce()).toBe(0);
      await waitFor(() => received.length === 1, 'event consumed');
      expect(received[0]).toEqual({
        event_id: committed,
        type: 'REGISTERED_MODEL_CREATED',
        occurred_at: expect.any(Number),
        source: 'registry',
        payload: { name: 'committed-model', actor: 'alice' },
      });
      expect(Math.abs(received[0].occurred_at - before)).toBeLessThan(60_000);
      const rows = await outboxRows(db);
      expect(rows).toEqual([
        { event_id: committed, type: 'REGISTERED_MODEL_CREATED', sent_at: expect.any(Date), attempts: 1 },
      ]);
    } finally {
      await queues.close();
    }
  });

  it('a failed publish stops the batch and counts the try; the next poll publishes in order', async () => {
    await db.deleteFrom('registry.outbox').execute();
    const queues = createQueueConnection();
    await queues.subscribe(QUEUE, CONSUMER);
    let failNext = true;
    const flaky: QueueConnection = {
      kind: queues.kind,
      close: async () => {},
      subscribe: (topic, subscriber, options) => queues.subscribe(topic, subscriber, options),
      subscribers: (topic) => queues.subscribers(topic),
      queue: <T>(name: string) => {
        const inner = queues.queue<T>(name);
        return {
          name,
          add: async (jobName: string, data: T, options?: JobOptions) => {
            if (failNext) {
              failNext = false;
              throw new Error('redis down');
            }
            return inner.add(jobName, data, options);
          },
        } as unknown as JobQueue<T>;
      },
    };
    try {
      const first = await createModel(db, 'flaky-1');
      const second = await createModel(db, 'flaky-2');
      const errors: string[] = [];
      const relay = new OutboxRelay({
        db,
        schema: SCHEMA,
        queues: flaky,
        onError: (e) => errors.push(e.message),
      });
      expect(await relay.relayOnce()).toBe(0);
      expect(errors).toEqual(['redis down']);
      const failed = await db
        .selectFrom('registry.outbox')
        .select(['event_id', 'sent_at', 'attempts', 'last_error'])
        .orderBy('seq')
        .execute();
      expect(failed).toEqual([
        { event_id: first, sent_at: null, attempts: 1, last_error: 'redis down' },
        { event_id: second, sent_at: null, attempts: 0, last_error: null },
      ]);
      expect(await (await queues.subscribe(QUEUE, CONSUMER)).getJob(second)).toBeUndefined();
      expect(await relay.relayOnce()).toBe(2);
      const sent = await db
        .selectFrom('registry.outbox')
        .select(['event_id', 'sent_at', 'attempts', 'last_error'])
        .orderBy('seq')
        .execute();
      expect(sent).toEqual([
        { event_id: first, sent_at: expect.any(Date), attempts: 2, last_error: null },
        { event_id: second, sent_at: expect.any(Date), attempts: 1, last_error: null },
      ]);
      expect((await (await queues.subscribe(QUEUE, CONSUMER)).getCounts()).waiting).toBe(2);
    } finally {
      await queues.close();
    }
  });

  it('refuses to append outside a transaction, or to a queue name the queue refuses', async () => {
    await db.deleteFrom('registry.outbox').execute();
    await expect(
      appendEvent(db, SCHEMA, { queue: QUEUE, type: 'REGISTERED_MODEL_DELETED', payload: { name: 'x' } }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(
      db.transaction().execute((tx) =>
        appendEvent(tx, SCHEMA, {
          queue: 'bad:queue',
          type: 'REGISTERED_MODEL_DELETED',
          payload: { name: 'x' },
        }),
      ),
    ).rejects.toBeInstanceOf(TypeError);
    expect(await outboxRows(db)).toEqual([]);
  });

  it('publishes promptly on wake(), well before the next poll', async () => {
    await db.deleteFrom('registry.outbox').execute();
    const queues = createQueueConnection();
    const relay = new OutboxRelay({ db, schema: SCHEMA, queues, pollIntervalMs: 60_000 });
    try {
      const received: string[] = [];
      (await queues.subscribe<MastEvent>(QUEUE, CONSUMER)).process(async (job) => {
        received.push(job.id);
      });
      relay.start();
      // After its first (empty) poll the relay waits out its 60 s interval...
      await waitFor(() => relay.polls === 1, 'first poll');
      const id = await createModel(db, 'woken-model');
      relay.wake();
      // ...which wake() cuts short: one more poll publishes the event.
      await waitFor(() => received.includes(id), 'event published after wake()', { timeoutMs: 5000 });
      await waitFor(() => relay.polls === 2, 'the woken poll to finish');
      expect(relay.polls).toBe(2);
    } finally {
      await relay.stop();
      await queues.close();
    }
  });

  describe.each(['in-process', 'redis'] as const)(
    'killed between publish and mark, queue %s',
    (queueKind) => {
      function openQueues(keepFinishedCount?: number): QueueConnection {
        return createQueueConnection({
          ...(queueKind === 'redis' && { redisUrl: TEST_REDIS_URL, prefix: redisPrefix }),
          ...(keepFinishedCount !== undefined && { keepFinished: { count: keepFinishedCount } }),
        });
      }

      async function killedThenRedelivered(queues: QueueConnection, queue: string) {
        await db.deleteFrom('registry.outbox').execute();
        const eventId = await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('registry.models')
            .values({ name: `model-${queue}` })
            .execute();
          return appendEvent(tx, SCHEMA, {
            queue,
            type: 'MODEL_VERSION_STAGE_TRANSITIONED',
            payload: { name: `model-${queue}`, version: '3', from_stage: 'Staging', to_stage: 'Production' },
          });
        });
        const consumer = consume(db, await queues.subscribe<MastEvent>(queue, CONSUMER));
        const killed = new OutboxRelay({
          db,
          schema: SCHEMA,
          queues,
          beforeMark: () => {
            throw new Error('relay killed');
          },
        });
        await expect(killed.relayOnce()).rejects.toThrow('relay killed');
        await waitFor(() => consumer.applied.length === 1, 'first delivery applied');
        expect((await outboxRows(db)).map((row) => [row.event_id, row.sent_at, row.attempts])).toEqual([
          [eventId, null, 0],
        ]);

        const successor = new OutboxRelay({ db, schema: SCHEMA, queues });
        expect(await successor.relayOnce()).toBe(1);
        expect((await outboxRows(db))[0]).toMatchObject({ event_id: eventId, sent_at: expect.any(Date) });
        return { eventId, consumer };
      }

      it('the queue drops the second copy while it remembers the job id', async () => {
        const queues = openQueues();
        try {
          const queue = `events-${queueKind}-kept`;
          const { eventId, consumer } = await killedThenRedelivered(queues, queue);
          const job = await (await queues.subscribe(queue, CONSUMER)).getJob(eventId);
          expect(job?.state).toBe('completed');
          // A sentinel job added after the redelivery is consumed after it would have been.
          await (await queues.subscribe(queue, CONSUMER)).add('sentinel', {
            event_id: '00000000-0000-4000-8000-000000000000',
            type: 'REGISTERED_MODEL_DELETED',
            occurred_at: Date.now(),
            source: 'test',
            payload: { name: 'sentinel' },
          });
          await waitFor(() => consumer.deliveries.length === 2, 'sentinel consumed');
          expect(consumer.deliveries.filter((id) => id === eventId)).toHaveLength(1);
          expect(await effectCount(db, eventId)).toBe(1);
        } finally {
          await queues.close();
        }
      });

      it('once the queue has forgotten the job, processEventOnce absorbs the redelivery', async () => {
        const queues = openQueues(0);
        try {
          const { eventId, consumer } = await killedThenRedelivered(queues, `events-${queueKind}-forgotten`);
          await waitFor(() => consumer.deliveries.length === 2, 'redelivery consumed');
          expect(consumer.deliveries).toEqual([eventId, eventId]);
          expect(consumer.applied).toEqual([eventId]);
          expect(await effectCount(db, eventId)).toBe(1);
        } finally {
          await queues.close();
        }
      });
    },
  );
});

describe('outbox on postgres: relays running at once', () => {
  let database: Database<any>;

  beforeAll(async () => {
    database = await openMigrated('postgres');
  });

  afterAll(async () => {
    await database?.close();
  });

  it('never publish the same row, and share the work', async () => {
    const db = database.db;
    const events = Array.from({ length: 200 }, (_, n) => ({
      queue: QUEUE,
      type: 'MODEL_VERSION_CREATED' as const,
      payload: { name: 'busy-model', version: String(n + 1) },
    }));
    const ids = await db.transaction().execute((tx) => appendEvents(tx, SCHEMA, events));
    const queues = createQueueConnection();
    const consumer = consume(db, await queues.subscribe<MastEvent>(QUEUE, CONSUMER));

    // Each relay publishes through a wrapper that counts its adds and notes when its batches overlap
    // the other relay's: with plain FOR UPDATE they would wait for each other instead.
    const added = new Map<string, number>();
    const inBatch = [false, false];
    let overlapped = false;
    const perRelay = [0, 0];
    function wrap(index: number): QueueConnection {
      return {
        kind: queues.kind,
        close: async () => {},
        subscribe: (topic, subscriber, options) => queues.subscribe(topic, subscriber, options),
        subscribers: (topic) => queues.subscribers(topic),
        queue: <T>(name: string) => {
          const inner = queues.queue<T>(name);
          return {
            ...inner,
            name,
            add: async (jobName: string, data: T, options?: JobOptions) => {
              inBatch[index] = true;
              if (inBatch[1 - index]) overlapped = true;
              added.set(options!.jobId!, (added.get(options!.jobId!) ?? 0) + 1);
              perRelay[index] += 1;
              await new Promise((resolve) => setTimeout(resolve, 1));
              return inner.add(jobName, data, options);
            },
          } as JobQueue<T>;
        },
      };
    }
    const relays = [0, 1].map(
      (index) =>
        new OutboxRelay({
          db,
          schema: SCHEMA,
          queues: wrap(index),
          batchSize: 10,
          pollIntervalMs: 20,
          beforeMark: () => {
            inBatch[index] = false;
          },
        }),
    );
    try {
      for (const relay of relays) relay.start();
      await waitFor(
        async () =>
          Number(
            (
              await db
                .selectFrom('registry.outbox')
                .select((eb) => eb.fn.countAll().as('n'))
                .where('sent_at', 'is', null)
                .executeTakeFirstOrThrow()
            ).n,
          ) === 0,
        'every row sent',
        { timeoutMs: 30_000 },
      );
      await waitFor(() => consumer.applied.length === 200, 'every event applied', { timeoutMs: 30_000 });
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
      await queues.close();
    }
    expect([...added.keys()].sort()).toEqual([...ids].sort());
    expect([...added.values()].every((count) => count === 1)).toBe(true);
    expect(consumer.deliveries).toHaveLength(200);
    expect(new Set(consumer.applied).size).toBe(200);
    expect(perRelay[0]).toBeGreaterThan(0);
    expect(perRelay[1]).toBeGreaterThan(0);
    expect(overlapped).toBe(true);
  });
});
