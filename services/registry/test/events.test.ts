import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createQueueConnection, type QueueConnection } from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { BACKENDS, deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import { sql } from 'kysely';
import { REGISTRY_EVENTS_QUEUE } from '../src/service/events.js';
import { API, createModel, createVersion, del, uniqueName } from './fixtures.js';
import { type RegistryServer, startRegistryServer } from './harness.js';

const redisPrefix = uniqueRedisPrefix();
afterAll(async () => {
  await deleteRedisKeys(redisPrefix);
});

const CASES = [
  ...BACKENDS.map((backend) => [backend, 'in-process'] as const),
  ['postgres', 'redis'] as const,
];

describe.each(CASES)('registry events (%s, %s queue)', (backend, queueKind) => {
  let server: RegistryServer;
  let queues: QueueConnection;
  const received: MastEvent[] = [];
  const deliveries = new Map<string, number>();

  beforeAll(async () => {
    queues = createQueueConnection(
      queueKind === 'redis' ? { redisUrl: TEST_REDIS_URL, prefix: redisPrefix } : {},
    );
    server = await startRegistryServer(backend, { queues });
    (await queues.subscribe<MastEvent>(REGISTRY_EVENTS_QUEUE, 'test')).process(async (job) => {
      deliveries.set(job.data.event_id, (deliveries.get(job.data.event_id) ?? 0) + 1);
      received.push(job.data);
    });
  });
  afterAll(async () => {
    await server.close();
    await queues.close();
  });

  const eventsOf = (name: string) =>
    received.filter((event) => {
      const payload = event.payload as { name?: string; old_name?: string; new_name?: string };
      return payload.name === name || payload.old_name === name || payload.new_name === name;
    });

  test('every change is published once, in order per model, with its payload', async () => {
    const http = server.client;
    const name = uniqueName();
    await createModel(http, name, { tags: [{ key: 'team', value: 'risk' }], description: 'd' });
    await createVersion(http, name, { run_id: 'run-1' });
    await createVersion(http, name);
    await http.post(`${API}/registered-models/set-tag`, { name, key: 'k', value: 'v' });
    await del(http, `${API}/registered-models/delete-tag`, { name, key: 'k' });
    await del(http, `${API}/registered-models/delete-tag`, { name, key: 'never-set' });
    await http.post(`${API}/model-versions/set-tag`, { name, version: '1', key: 'vk', value: 'vv' });
    await del(http, `${API}/model-versions/delete-tag`, { name, version: '1', key: 'vk' });
    await http.post(`${API}/model-versions/transition-stage`, { name, version: '1', stage: 'production' });
    await http.post(`${API}/model-versions/transition-stage`, {
      name,
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    await http.post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '1' });
    await http.post(`${API}/registered-models/alias`, { name, alias: 'champion', version: '2' });
    await del(http, `${API}/registered-models/alias`, { name, alias: 'champion' });
    await http.post(`${API}/registered-models/alias`, { name, alias: 'gone', version: '2' });
    await del(http, `${API}/model-versions/delete`, { name, version: '2' });
    const renamed = uniqueName('renamed');
    await http.post(`${API}/registered-models/rename`, { name, new_name: renamed });
    await del(http, `${API}/registered-models/delete`, { name: renamed });
    // A failed command publishes nothing.
    await http.post(`${API}/model-versions/transition-stage`, {
      name: renamed,
      version: '1',
      stage: 'Staging',
    });

    const expected: Array<[string, Record<string, unknown>]> = [
      ['REGISTERED_MODEL_CREATED', { name, description: 'd', tags: [{ key: 'team', value: 'risk' }] }],
      ['MODEL_VERSION_CREATED', { name, version: '1', run_id: 'run-1', source: expect.any(String) }],
      ['MODEL_VERSION_CREATED', { name, version: '2', source: expect.any(String) }],
      ['REGISTERED_MODEL_TAG_SET', { name, key: 'k', value: 'v' }],
      ['REGISTERED_MODEL_TAG_DELETED', { name, key: 'k' }],
      ['MODEL_VERSION_TAG_SET', { name, version: '1', key: 'vk', value: 'vv' }],
      ['MODEL_VERSION_TAG_DELETED', { name, version: '1', key: 'vk' }],
      [
        'MODEL_VERSION_STAGE_TRANSITIONED',
        { name, version: '1', from_stage: 'None', to_stage: 'Production', archive_existing_versions: false },
      ],
      [
        'MODEL_VERSION_STAGE_TRANSITIONED',
        {
          name,
          version: '1',
          from_stage: 'Production',
          to_stage: 'Archived',
          archive_existing_versions: false,
          archived_by_version: '2',
        },
      ],
      [
        'MODEL_VERSION_STAGE_TRANSITIONED',
        { name, version: '2', from_stage: 'None', to_stage: 'Production', archive_existing_versions: true },
      ],
      ['MODEL_ALIAS_SET', { name, alias: 'champion', version: '1' }],
      ['MODEL_ALIAS_SET', { name, alias: 'champion', version: '2', previous_version: '1' }],
      ['MODEL_ALIAS_DELETED', { name, alias: 'champion', version: '2' }],
      ['MODEL_ALIAS_SET', { name, alias: 'gone', version: '2' }],
      ['MODEL_ALIAS_DELETED', { name, alias: 'gone', version: '2' }],
      ['MODEL_VERSION_DELETED', { name, version: '2', stage: 'Production' }],
      ['REGISTERED_MODEL_RENAMED', { old_name: name, new_name: renamed }],
      ['REGISTERED_MODEL_DELETED', { name: renamed }],
    ];
    await waitFor(() => eventsOf(name).length + eventsOf(renamed).length >= expected.length + 1, 'events', {
      timeoutMs: 15_000,
    });
    // Renamed/deleted events match both filters once: collect in arrival order without duplicates.
    const ours = received.filter(
      (event) => eventsOf(name).includes(event) || eventsOf(renamed).includes(event),
    );
    expect(ours.map((event) => [event.type, event.payload])).toEqual(expected);
    for (const event of ours) {
      expect(event).toEqual({
        event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: expect.any(String),
        occurred_at: expect.any(Number),
        source: 'registry',
        payload: expect.any(Object),
      });
      expect(deliveries.get(event.event_id)).toBe(1);
    }
    // Every outbox row was marked sent.
    const unsent = await sql<{
      n: string;
    }>`select count(*) as n from registry.outbox where sent_at is null`.execute(server.database.db);
    expect(Number(unsent.rows[0].n)).toBe(0);
  });

  test('changes of prompts carry is_prompt, so webhooks can map them to prompt events', async () => {
    const name = uniqueName('prompt');
    const promptTag = [{ key: 'mlflow.prompt.is_prompt', value: 'true' }];
    await createModel(server.client, name, { tags: promptTag });
    await server.client.post(`${API}/model-versions/create`, { name, source: 'dummy', tags: promptTag });
    await server.client.post(`${API}/registered-models/alias`, { name, alias: 'prod', version: '1' });
    await waitFor(() => eventsOf(name).length >= 3, 'prompt events');
    expect(
      eventsOf(name).map((event) => [event.type, (event.payload as { is_prompt?: boolean }).is_prompt]),
    ).toEqual([
      ['REGISTERED_MODEL_CREATED', true],
      ['MODEL_VERSION_CREATED', true],
      ['MODEL_ALIAS_SET', true],
    ]);
  });

  test('events are appended in the transaction of the change: a rolled-back change leaves none', async () => {
    const before = await sql<{ n: string }>`select count(*) as n from registry.outbox`.execute(
      server.database.db,
    );
    const name = uniqueName();
    await createModel(server.client, name);
    // Duplicate create fails on the unique index after its event was added in the same transaction.
    const duplicate = await server.client.post(`${API}/registered-models/create`, { name });
    expect(duplicate.status).toBe(400);
    const after = await sql<{ n: string }>`select count(*) as n from registry.outbox`.execute(
      server.database.db,
    );
    expect(Number(after.rows[0].n) - Number(before.rows[0].n)).toBe(1);
  });
});
