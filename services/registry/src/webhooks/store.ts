import type { Kysely } from 'kysely';
import { eventKey, parseEventKey, type WebhookEvent } from './events.js';

/** The webhook tables of the `registry` schema (migration 0003-webhooks). */
export interface WebhooksTable {
  webhook_id: string;
  name: string;
  description: string | null;
  url: string;
  /** JSON array of `entity.action` strings. */
  events: string;
  status: string;
  secret_encrypted: string | null;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface WebhookDeliveriesTable {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  model_name: string | null;
  body: string;
  /** pending, retrying, succeeded, failed, skipped */
  state: string;
  attempts: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveryAttemptsTable {
  delivery_id: string;
  attempt: number;
  attempted_at: number;
  response_status: number | null;
  latency_ms: number;
  error: string | null;
}

export interface WebhooksDatabase {
  'registry.webhooks': WebhooksTable;
  'registry.webhook_deliveries': WebhookDeliveriesTable;
  'registry.webhook_delivery_attempts': WebhookDeliveryAttemptsTable;
}

export type WebhooksDb = Kysely<WebhooksDatabase>;

export type WebhookStatus = 'ACTIVE' | 'DISABLED';

/** A webhook as stored (the secret still encrypted). */
export interface WebhookRecord {
  webhookId: string;
  name: string;
  description?: string;
  url: string;
  events: WebhookEvent[];
  status: WebhookStatus;
  secretEncrypted?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

function toRecord(row: WebhooksTable): WebhookRecord {
  return {
    webhookId: row.webhook_id,
    name: row.name,
    description: row.description ?? undefined,
    url: row.url,
    events: (JSON.parse(row.events) as string[]).map(parseEventKey),
    status: row.status as WebhookStatus,
    secretEncrypted: row.secret_encrypted ?? undefined,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

export async function insertWebhook(db: WebhooksDb, webhook: WebhookRecord): Promise<void> {
  await db
    .insertInto('registry.webhooks')
    .values({
      webhook_id: webhook.webhookId,
      name: webhook.name,
      description: webhook.description ?? null,
      url: webhook.url,
      events: JSON.stringify(webhook.events.map(eventKey)),
      status: webhook.status,
      secret_encrypted: webhook.secretEncrypted ?? null,
      creation_timestamp: webhook.creationTimestamp,
      last_updated_timestamp: webhook.lastUpdatedTimestamp,
    })
    .execute();
}

export async function findWebhook(db: WebhooksDb, webhookId: string): Promise<WebhookRecord | undefined> {
  const row = await db
    .selectFrom('registry.webhooks')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .executeTakeFirst();
  return row && toRecord(row);
}

/** One page of webhooks, oldest first (`limit + 1` rows tell whether another page follows). */
export async function listWebhooks(db: WebhooksDb, offset: number, limit: number): Promise<WebhookRecord[]> {
  const rows = await db
    .selectFrom('registry.webhooks')
    .selectAll()
    .orderBy('creation_timestamp')
    .orderBy('webhook_id')
    .offset(offset)
    .limit(limit)
    .execute();
  return rows.map(toRecord);
}

/** Active webhooks subscribed to `event`. */
export async function activeWebhooksFor(db: WebhooksDb, event: WebhookEvent): Promise<WebhookRecord[]> {
  const rows = await db
    .selectFrom('registry.webhooks')
    .selectAll()
    .where('status', '=', 'ACTIVE')
    .where('events', 'like', `%"${eventKey(event)}"%`)
    .orderBy('creation_timestamp')
    .execute();
  return rows.map(toRecord).filter((w) => w.events.some((e) => eventKey(e) === eventKey(event)));
}

export async function updateWebhook(db: WebhooksDb, webhook: WebhookRecord): Promise<void> {
  await db
    .updateTable('registry.webhooks')
    .set({
      name: webhook.name,
      description: webhook.description ?? null,
      url: webhook.url,
      events: JSON.stringify(webhook.events.map(eventKey)),
      status: webhook.status,
      secret_encrypted: webhook.secretEncrypted ?? null,
      last_updated_timestamp: webhook.lastUpdatedTimestamp,
    })
    .where('webhook_id', '=', webhook.webhookId)
    .execute();
}

export async function deleteWebhook(db: WebhooksDb, webhookId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('registry.webhooks')
    .where('webhook_id', '=', webhookId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export type DeliveryState = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'skipped';

export interface DeliveryRecord {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  event: string;
  modelName?: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  createdAt: number;
  updatedAt: number;
}

function toDelivery(row: WebhookDeliveriesTable): DeliveryRecord {
  return {
    deliveryId: row.delivery_id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    event: row.event,
    modelName: row.model_name ?? undefined,
    body: row.body,
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Records a delivery to make; an existing (event, webhook) pair is kept as it is. */
export async function insertDelivery(db: WebhooksDb, delivery: DeliveryRecord): Promise<void> {
  await db
    .insertInto('registry.webhook_deliveries')
    .values({
      delivery_id: delivery.deliveryId,
      webhook_id: delivery.webhookId,
      event_id: delivery.eventId,
      event: delivery.event,
      model_name: delivery.modelName ?? null,
      body: delivery.body,
      state: delivery.state,
      attempts: delivery.attempts,
      created_at: delivery.createdAt,
      updated_at: delivery.updatedAt,
    })
    .onConflict((conflict) => conflict.columns(['event_id', 'webhook_id']).doNothing())
    .execute();
}

export async function deliveriesOfEvent(db: WebhooksDb, eventId: string): Promise<DeliveryRecord[]> {
  const rows = await db
    .selectFrom('registry.webhook_deliveries')
    .selectAll()
    .where('event_id', '=', eventId)
    .execute();
  return rows.map(toDelivery);
}

export async function findDelivery(db: WebhooksDb, deliveryId: string): Promise<DeliveryRecord | undefined> {
  const row = await db
    .selectFrom('registry.webhook_deliveries')
    .selectAll()
    .where('delivery_id', '=', deliveryId)
    .executeTakeFirst();
  return row && toDelivery(row);
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  attemptedAt: number;
  responseStatus?: number;
  latencyMs: number;
  error?: string;
}

/** Records one attempt and the delivery's new state, together. */
export async function recordAttempt(
  db: WebhooksDb,
  attempt: AttemptRecord,
  state: DeliveryState,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('registry.webhook_delivery_attempts')
      .values({
        delivery_id: attempt.deliveryId,
        attempt: attempt.attempt,
        attempted_at: attempt.attemptedAt,
        response_status: attempt.responseStatus ?? null,
        latency_ms: attempt.latencyMs,
        error: attempt.error ?? null,
      })
      .onConflict((conflict) =>
        conflict.columns(['delivery_id', 'attempt']).doUpdateSet({
          attempted_at: attempt.attemptedAt,
          response_status: attempt.responseStatus ?? null,
          latency_ms: attempt.latencyMs,
          error: attempt.error ?? null,
        }),
      )
      .execute();
    await tx
      .updateTable('registry.webhook_deliveries')
      .set((eb) => ({
        state,
        attempts: eb.fn<number>('greatest', [eb.ref('attempts'), eb.val(attempt.attempt)]),
        updated_at: attempt.attemptedAt,
      }))
      .where('delivery_id', '=', attempt.deliveryId)
      .execute();
  });
}

export async function setDeliveryState(
  db: WebhooksDb,
  deliveryId: string,
  state: DeliveryState,
  at: number,
): Promise<void> {
  await db
    .updateTable('registry.webhook_deliveries')
    .set({ state, updated_at: at })
    .where('delivery_id', '=', deliveryId)
    .execute();
}

export type DeliveryWithAttempts = DeliveryRecord & { attemptList: AttemptRecord[] };

/** A webhook's deliveries, newest first, each with its attempts in order. */
export async function listDeliveries(
  db: WebhooksDb,
  webhookId: string,
  offset: number,
  limit: number,
): Promise<DeliveryWithAttempts[]> {
  const rows = await db
    .selectFrom('registry.webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('delivery_id')
    .offset(offset)
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const attempts = await db
    .selectFrom('registry.webhook_delivery_attempts')
    .selectAll()
    .where(
      'delivery_id',
      'in',
      rows.map((row) => row.delivery_id),
    )
    .orderBy('attempt')
    .execute();
  return rows.map((row) => ({
    ...toDelivery(row),
    attemptList: attempts
      .filter((a) => a.delivery_id === row.delivery_id)
      .map((a) => ({
        deliveryId: a.delivery_id,
        attempt: Number(a.attempt),
        attemptedAt: Number(a.attempted_at),
        responseStatus: a.response_status ?? undefined,
        latencyMs: Number(a.latency_ms),
        error: a.error ?? undefined,
      })),
  }));
}
