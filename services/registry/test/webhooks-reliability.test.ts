/**
 * Webhooks through a Redis outage (PostgreSQL, Redis). The process reaches Redis through a TCP forwarder
 * that the test cuts (every connection destroyed, the port closed: `ECONNREFUSED`, as a Redis that is
 * down) and restores on the same port. During the cut, 200 stage transitions and alias changes all
 * succeed (events wait in `registry.outbox`; the relay's publish waits for the reconnect). Once Redis is
 * back, all 200 events reach the webhook dispatcher (recorded in `registry.processed_events`) and the
 * receiver, once each, in order per model. Then a relay crash between publish and mark is simulated for
 * 50 events (rows marked unsent again) with a queue that no longer remembers job ids: the republished
 * events are absorbed by event id, and the receiver sees nothing new.
 */

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createQueueConnection, type QueueConnection } from '@mast/common';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import { sql } from 'kysely';
import { API, createModel, createVersion, uniqueName } from './fixtures.js';
import { WebhookReceiver } from './webhook-receiver.js';
import { startWebhooksServer, type WebhooksServer } from './webhooks-harness.js';

const redisPrefix = uniqueRedisPrefix();
const SECRET = 'reliability-secret';

/** A TCP forwarder to Redis that can be cut (connections destroyed, port closed) and restored. */
class RedisLink {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 6379), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

describe('webhooks through a Redis outage (postgres, Redis)', () => {
  const link = new RedisLink(new URL(TEST_REDIS_URL));
  const receiver = new WebhookReceiver();
  let queues: QueueConnection;
  let server: WebhooksServer;

  beforeAll(async () => {
    await link.open();
    await receiver.start();
    queues = createQueueConnection({
      redisUrl: `redis://127.0.0.1:${link.port}`,
      prefix: redisPrefix,
      // Finished jobs are forgotten at once: redelivered events reach the dispatcher, which must absorb them.
      keepFinished: { count: 0 },
    });
    server = await startWebhooksServer('postgres', { queues, settings: { concurrency: 1 } });
  });
  afterAll(async () => {
    await server?.close();
    await queues?.close();
    await receiver.stop();
    await link.cut().catch(() => {});
    await deleteRedisKeys(redisPrefix);
  });

  it('200 changes while Redis is down: all succeed; afterwards each reaches the receiver once, in order per model', async () => {
    const db = server.database.db;
    const models = [uniqueName('outage'), uniqueName('outage')];
    for (const name of models) {
      await createModel(server.client, name);
      for (let v = 0; v < 3; v++) await createVersion(server.client, name);
    }
    receiver.secrets.set('/hook', SECRET);
    const hook = await server.client.post(`${API}/webhooks`, {
      name: 'outage',
      url: `${receiver.url}/hook`,
      secret: SECRET,
      events: [
        { entity: 'MODEL_VERSION_STAGE', action: 'TRANSITIONED' },
        { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
      ],
    });
    expect(hook.status).toBe(200);
    // Setup events published and consumed before the cut.
    await waitFor(
      async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from registry.outbox where sent_at is null`.execute(
              db,
            )
          ).rows[0].n,
        ) === 0,
      'setup events published',
    );

    await link.cut();
    const stages = ['Staging', 'Production', 'Archived', 'None'];
    const stageOf = new Map<string, string>();
    const aliasOf = new Map<string, string>();
    const expected = new Map<string, string[]>(models.map((name) => [name, []]));
    for (let i = 0; i < 200; i++) {
      const name = models[i % 2];
      const k = Math.floor(i / 2);
      if (k % 2 === 0) {
        const version = String(1 + ((k / 2) % 3));
        const key = `${name}/${version}`;
        const from = stageOf.get(key) ?? 'None';
        const to = stages[(stages.indexOf(from) + 1) % stages.length];
        const response = await server.client.post(`${API}/model-versions/transition-stage`, {
          name,
          version,
          stage: to,
          archive_existing_versions: false,
        });
        expect(response.status).toBe(200);
        stageOf.set(key, to);
        expected.get(name)!.push(`model_version_stage.transitioned ${version} ${from}->${to}`);
      } else {
        const alias = `a${k % 3}`;
        const key = `${name}@${alias}`;
        const previous = aliasOf.get(key);
        const version = String(previous === undefined ? 1 : (Number(previous) % 3) + 1);
        const response = await server.client.post(`${API}/registered-models/alias`, { name, alias, version });
        expect(response.status).toBe(200);
        aliasOf.set(key, version);
        expected.get(name)!.push(`model_version_alias.created ${alias} ${version}`);
      }
    }
    const pending = await sql<{
      n: string;
    }>`select count(*) as n from registry.outbox where sent_at is null`.execute(db);
    expect(Number(pending.rows[0].n)).toBe(200);
    expect(receiver.at('/hook')).toHaveLength(0);

    await link.open();
    await waitFor(() => receiver.at('/hook').length >= 200, '200 deliveries after Redis is back', {
      timeoutMs: 90_000,
    });

    /** The 200 deliveries, once each, in order per model; `total` deliveries and dispatched events in all. */
    const check = async (total: number) => {
      expect(receiver.at('/hook')).toHaveLength(total);
      const got = receiver.at('/hook').slice(0, 200);
      expect(got.every((delivery) => delivery.signatureValid === true)).toBe(true);
      expect(new Set(got.map((delivery) => delivery.headers['x-mlflow-delivery-id'])).size).toBe(200);
      for (const name of models) {
        const seen = got
          .filter((delivery) => delivery.body.data.name === name)
          .map((delivery) => {
            const { data } = delivery.body;
            return delivery.body.entity === 'model_version_stage'
              ? `model_version_stage.transitioned ${data.version} ${data.from}->${data.to}`
              : `model_version_alias.created ${data.alias} ${data.version}`;
          });
        expect(seen).toEqual(expected.get(name));
      }
      const processed = await sql<{ n: string }>`
        select count(*) as n from registry.processed_events p join registry.outbox o on o.event_id = p.event_id
        where p.consumer = 'webhooks' and o.type in ('MODEL_VERSION_STAGE_TRANSITIONED', 'MODEL_ALIAS_SET')`.execute(
        db,
      );
      expect(Number(processed.rows[0].n)).toBe(total);
    };
    await check(200);

    // A relay that died between publishing and marking 50 events: they are published again.
    const dispatched: string[] = [];
    const service = server.webhooks.service;
    const dispatch = service.dispatch.bind(service);
    service.dispatch = (event, deliveries) => {
      dispatched.push(event.event_id);
      return dispatch(event, deliveries);
    };
    const republished = await sql`
      update registry.outbox set sent_at = null
      where seq in (select seq from registry.outbox where type in ('MODEL_VERSION_STAGE_TRANSITIONED', 'MODEL_ALIAS_SET') order by seq desc limit 50)`.execute(
      db,
    );
    expect(Number(republished.numAffectedRows)).toBe(50);
    server.relay.wake();
    await waitFor(
      async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from registry.outbox where sent_at is null`.execute(
              db,
            )
          ).rows[0].n,
        ) === 0,
      'redelivered events published',
      { timeoutMs: 30_000 },
    );
    // Give the dispatcher time to see the copies, then check nothing changed.
    const sentinel = await server.client.post(`${API}/model-versions/transition-stage`, {
      name: models[0],
      version: '1',
      stage: stageOf.get(`${models[0]}/1`) === 'Staging' ? 'Production' : 'Staging',
      archive_existing_versions: false,
    });
    expect(sentinel.status).toBe(200);
    await waitFor(() => receiver.at('/hook').length >= 201, 'sentinel delivered', { timeoutMs: 30_000 });
    // The 50 copies reached the dispatcher (the queue had forgotten their ids) and were absorbed by
    // event id: only the sentinel is new.
    expect(dispatched).toHaveLength(51);
    await check(201);
  }, 180_000);
});
