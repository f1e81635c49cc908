import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createQueueConnection, type JobOptions, type JobQueue, type QueueConnection } from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import { REGISTRY_EVENTS_QUEUE } from '../src/service/events.js';
import { API, createModel, createVersion, uniqueName } from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

const redisPrefix = uniqueRedisPrefix();
afterAll(async () => {
  await deleteRedisKeys(redisPrefix);
});

/** A Redis queue connection whose publishes fail while `down` (Redis unreachable, as the relay sees it). */
function outageableQueues(inner: QueueConnection): QueueConnection & { down: boolean } {
  const wrapper = {
    down: false,
    kind: inner.kind,
    close: () => inner.close(),
    subscribe: inner.subscribe.bind(inner),
    subscribers: async (topic: string) => {
      if (wrapper.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      return inner.subscribers(topic);
    },
    queue: <T>(name: string) => {
      const queue = inner.queue<T>(name);
      return new Proxy(queue, {
        get(target, property, receiver) {
          if (property === 'add') {
            return async (jobName: string, data: T, options?: JobOptions) => {
              if (wrapper.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
              return target.add(jobName, data, options);
            };
          }
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as JobQueue<T>;
    },
  };
  return wrapper;
}

/**
 * Redis unreachable while 200 stage transitions and alias changes are made: every API call succeeds
 * (events wait in the outbox); once Redis is back every event reaches the consumer, exactly once, in
 * order per model.
 */
describe('registry events survive a queue outage (postgres, Redis)', () => {
  let server: RegistryServer;
  let queues: ReturnType<typeof outageableQueues>;
  const received: MastEvent[] = [];
  const seen = new Set<string>();
  let duplicates = 0;

  beforeAll(async () => {
    queues = outageableQueues(createQueueConnection({ redisUrl: TEST_REDIS_URL, prefix: redisPrefix }));
    server = await startRegistryServer('postgres', { queues });
    (await queues.subscribe<MastEvent>(REGISTRY_EVENTS_QUEUE, 'test')).process(async (job) => {
      if (seen.has(job.data.event_id)) duplicates += 1;
      seen.add(job.data.event_id);
      received.push(job.data);
    });
  });
  afterAll(async () => {
    await server.close();
    await queues.close();
  });

  test('200 changes during the outage: all succeed, all delivered once, in order per model', async () => {
    const models = [uniqueName('outage'), uniqueName('outage')];
    for (const name of models) {
      await createModel(server.client, name);
      for (let i = 0; i < 3; i++) await createVersion(server.client, name);
    }
    await waitFor(() => received.length >= 8, 'setup events');
    received.length = 0;

    queues.down = true;
    const stages = ['Staging', 'Production', 'Archived', 'None'];
    const expected = new Map<string, string[]>(models.map((name) => [name, []]));
    for (let i = 0; i < 200; i++) {
      const name = models[i % 2];
      const version = String(1 + (i % 3));
      const response =
        i % 4 === 3
          ? await server.client.post(`${API}/registered-models/alias`, { name, alias: 'champion', version })
          : await server.client.post(`${API}/model-versions/transition-stage`, {
              name,
              version,
              stage: stages[i % 4],
            });
      expect(response.status).toBe(200);
      expected.get(name)!.push(i % 4 === 3 ? `alias:${version}` : `stage:${version}:${stages[i % 4]}`);
    }
    // Nothing got through while Redis was down.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(0);

    queues.down = false;
    await waitFor(() => received.length >= 200, 'events after the outage', { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(200);
    expect(duplicates).toBe(0);
    for (const name of models) {
      const ours = received
        .filter((event) => (event.payload as { name: string }).name === name)
        .map((event) => {
          const p = event.payload as { version: string; to_stage?: string };
          return event.type === 'MODEL_ALIAS_SET' ? `alias:${p.version}` : `stage:${p.version}:${p.to_stage}`;
        });
      expect(ours).toEqual(expected.get(name));
    }
  });
});
