import { randomUUID } from 'node:crypto';
import {
  type JobQueue,
  MlflowError,
  processEventOnce,
  type QueueConnection,
  type QueueWorker,
  UnrecoverableJobError,
} from '@mast/common';
import type { MastEvent } from '@mast/proto';
import type { Kysely } from 'kysely';
import { REGISTRY_EVENTS_QUEUE } from '../service/events.js';
import { REGISTRY_SCHEMA } from '../store/migrations/index.js';
import type { WebhooksSettings } from './config.js';
import {
  deliveryBody,
  eventKey,
  examplePayload,
  notificationFor,
  validateEvents,
  type WebhookEvent,
} from './events.js';
import { DeliveryTimeoutError, PrivateAddressError, postJson, validateWebhookUrl } from './network.js';
import { SecretBox } from './secrets.js';
import { deliveryHeaders } from './signing.js';
import type { DeliveryState, WebhookRecord, WebhookStatus, WebhooksDb } from './store.js';
import * as store from './store.js';

/** The queue deliveries go through: one job per (event, webhook), id `<event id>.<webhook id>`. */
export const WEBHOOK_DELIVERIES_QUEUE = 'webhook-deliveries';
/** The dispatcher's name: its subscription to `registry-events` and its rows in `registry.processed_events`. */
export const WEBHOOK_CONSUMER = 'webhooks';

export interface DeliveryJob {
  deliveryId: string;
}

export interface WebhookInput {
  name?: string;
  description?: string;
  url?: string;
  events?: WebhookEvent[];
  secret?: string;
  status?: WebhookStatus;
}

export interface TestResult {
  success: boolean;
  response_status?: number;
  response_body?: string;
  error_message?: string;
}

export interface WebhooksDependencies {
  db: Kysely<unknown>;
  settings: WebhooksSettings;
  clock?: () => number;
  /** Told about dispatch and delivery failures (never with a secret). */
  log?: (message: string, details: Record<string, unknown>) => void;
}

/** Webhook CRUD, the test endpoint, the registry-events dispatcher and the delivery worker. */
export class WebhookService {
  readonly db: WebhooksDb;
  private readonly box: SecretBox;
  private readonly clock: () => number;
  private readonly settings: WebhooksSettings;
  private readonly log: (message: string, details: Record<string, unknown>) => void;

  constructor(deps: WebhooksDependencies) {
    this.db = deps.db as WebhooksDb;
    this.settings = deps.settings;
    this.box = new SecretBox(deps.settings.secretKey);
    this.clock = deps.clock ?? Date.now;
    this.log = deps.log ?? (() => {});
  }

  async create(input: WebhookInput): Promise<WebhookRecord> {
    const name = checkName(input.name ?? '');
    const url = validateWebhookUrl(input.url ?? '');
    const events = validateEvents(input.events ?? []);
    const now = this.clock();
    const webhook: WebhookRecord = {
      webhookId: randomUUID().replace(/-/g, ''),
      name,
      description: input.description || undefined,
      url,
      events,
      status: input.status ?? 'ACTIVE',
      secretEncrypted: input.secret ? this.box.encrypt(input.secret) : undefined,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
    };
    await store.insertWebhook(this.db, webhook);
    return webhook;
  }

  async get(webhookId: string): Promise<WebhookRecord> {
    const webhook = await store.findWebhook(this.db, webhookId);
    if (!webhook) throw MlflowError.notFound(`Webhook with ID ${webhookId} not found`);
    return webhook;
  }

  list(offset: number, limit: number): Promise<WebhookRecord[]> {
    return store.listWebhooks(this.db, offset, limit);
  }

  /** Updates the given fields (MLflow: an empty value leaves the field as it is). */
  async update(webhookId: string, input: WebhookInput): Promise<WebhookRecord> {
    const current = await this.get(webhookId);
    const updated: WebhookRecord = {
      ...current,
      name: input.name ? checkName(input.name) : current.name,
      description: input.description || current.description,
      url: input.url ? validateWebhookUrl(input.url) : current.url,
      events: input.events && input.events.length > 0 ? validateEvents(input.events) : current.events,
      status: input.status ?? current.status,
      secretEncrypted: input.secret ? this.box.encrypt(input.secret) : current.secretEncrypted,
      lastUpdatedTimestamp: this.clock(),
    };
    await store.updateWebhook(this.db, updated);
    return updated;
  }

  async delete(webhookId: string): Promise<void> {
    if (!(await store.deleteWebhook(this.db, webhookId))) {
      throw MlflowError.notFound(`Webhook with ID ${webhookId} not found`);
    }
  }

  /**
   * MLflow's test: sends the example payload of `event` (default: the webhook's first event), signed like
   * a delivery, synchronously, and reports the answer. Nothing is recorded.
   */
  async test(webhookId: string, event: WebhookEvent | undefined): Promise<TestResult> {
    const webhook = await this.get(webhookId);
    const chosen = event ?? webhook.events[0];
    const body = deliveryBody(chosen, examplePayload(chosen), this.clock());
    try {
      const secret = webhook.secretEncrypted ? this.box.decrypt(webhook.secretEncrypted) : undefined;
      const response = await this.post(webhook.url, randomUUID(), body, secret);
      return {
        success: response.status < 400,
        response_status: response.status,
        response_body: response.body,
      };
    } catch (thrown) {
      return { success: false, error_message: `Failed to test webhook: ${errorText(thrown)}` };
    }
  }

  async deliveries(webhookId: string, offset: number, limit: number) {
    await this.get(webhookId);
    return store.listDeliveries(this.db, webhookId, offset, limit);
  }

  private secretOf(webhook: WebhookRecord): string | undefined {
    if (!webhook.secretEncrypted) return undefined;
    try {
      return this.box.decrypt(webhook.secretEncrypted);
    } catch (thrown) {
      throw new SecretError((thrown as Error).message);
    }
  }

  private post(url: string, deliveryId: string, body: string, secret: string | undefined) {
    const timestamp = String(Math.floor(this.clock() / 1000));
    return postJson(url, body, {
      headers: deliveryHeaders(deliveryId, timestamp, body, secret),
      timeoutMs: this.settings.timeoutMs,
      maxResponseBytes: this.settings.maxResponseBytes,
      allowPrivateNetworks: this.settings.allowPrivateNetworks,
    });
  }

  /**
   * Consumes one registry event: records a delivery for every active webhook subscribed to it, at most
   * once per event id (`processEventOnce`, so a redelivered event adds nothing), then enqueues a job per
   * delivery (job id `<event id>.<webhook id>`: the queue drops copies). Enqueueing runs for duplicates
   * too, so deliveries recorded by a try whose enqueue failed are enqueued by the retry.
   */
  async dispatch(event: MastEvent, deliveries: JobQueue<DeliveryJob>): Promise<number> {
    const notification = notificationFor(event);
    if (!notification) return 0;
    await processEventOnce(
      this.db as unknown as Kysely<unknown>,
      REGISTRY_SCHEMA,
      WEBHOOK_CONSUMER,
      event.event_id,
      async (tx) => {
        const hooks = await store.activeWebhooksFor(tx as unknown as WebhooksDb, notification.event);
        const body = deliveryBody(notification.event, notification.data, event.occurred_at);
        const now = this.clock();
        for (const hook of hooks) {
          await store.insertDelivery(tx as unknown as WebhooksDb, {
            deliveryId: randomUUID(),
            webhookId: hook.webhookId,
            eventId: event.event_id,
            event: eventKey(notification.event),
            modelName: notification.model,
            body,
            state: 'pending',
            attempts: 0,
            createdAt: now,
            updatedAt: now,
          });
        }
      },
    );
    const rows = await store.deliveriesOfEvent(this.db, event.event_id);
    for (const row of rows) {
      if (row.state !== 'pending' && row.state !== 'retrying') continue;
      await deliveries.add(
        row.event,
        { deliveryId: row.deliveryId },
        {
          jobId: `${row.eventId}.${row.webhookId}`,
          attempts: this.settings.maxAttempts,
          backoff: { type: 'exponential', delayMs: this.settings.retryDelayMs },
        },
      );
    }
    return rows.length;
  }

  /**
   * One delivery attempt: POSTs the stored body with MLflow's headers (same delivery id on every try; a
   * fresh timestamp and signature per try so receivers' freshness checks pass), records the attempt, and
   * throws to have the queue retry after a timeout, a connection error, 429 or 5xx. Any other answer,
   * and a refused private address, end the delivery (`UnrecoverableJobError` for failures).
   */
  async deliver(deliveryId: string, attempt: number, attempts: number): Promise<void> {
    const delivery = await store.findDelivery(this.db, deliveryId);
    if (!delivery || delivery.state === 'succeeded' || delivery.state === 'failed') return;
    const webhook = await store.findWebhook(this.db, delivery.webhookId);
    if (webhook?.status !== 'ACTIVE') {
      if (webhook) await store.setDeliveryState(this.db, deliveryId, 'skipped', this.clock());
      return;
    }
    const started = this.clock();
    const last = attempt >= attempts;
    let state: DeliveryState;
    let status: number | undefined;
    let error: string | undefined;
    let retry = false;
    try {
      const secret = this.secretOf(webhook);
      const response = await this.post(webhook.url, delivery.deliveryId, delivery.body, secret);
      status = response.status;
      if (status >= 200 && status < 300) state = 'succeeded';
      else {
        retry = status === 429 || status >= 500;
        error = `HTTP ${status}`;
        state = retry && !last ? 'retrying' : 'failed';
      }
    } catch (thrown) {
      error = errorText(thrown);
      retry = !(thrown instanceof PrivateAddressError) && !(thrown instanceof SecretError);
      state = retry && !last ? 'retrying' : 'failed';
      if (thrown instanceof DeliveryTimeoutError) retry = true;
    }
    await store.recordAttempt(
      this.db,
      {
        deliveryId,
        attempt,
        attemptedAt: started,
        responseStatus: status,
        latencyMs: Math.max(0, this.clock() - started),
        error,
      },
      state,
    );
    if (state === 'succeeded') return;
    this.log('webhook delivery attempt failed', {
      webhookId: webhook.webhookId,
      deliveryId,
      attempt,
      status,
      error,
      willRetry: state === 'retrying',
    });
    if (retry) throw new Error(`webhook delivery failed: ${error}`);
    throw new UnrecoverableJobError(`webhook delivery failed: ${error}`);
  }

  /**
   * Starts the dispatcher (subscriber `webhooks` of the `registry-events` topic) and the delivery worker
   * on `queues`. Closing the returned workers stops both (running handlers finish first).
   */
  async start(queues: QueueConnection): Promise<QueueWorker[]> {
    const deliveries = queues.queue<DeliveryJob>(WEBHOOK_DELIVERIES_QUEUE);
    const onError = (error: Error) => this.log('webhook queue error', { error: error.message });
    const events = await queues.subscribe<MastEvent>(REGISTRY_EVENTS_QUEUE, WEBHOOK_CONSUMER);
    const dispatcher = events.process(
      async (job) => {
        await this.dispatch(job.data, deliveries);
      },
      {
        concurrency: 1,
        onError,
        onFailed: (job, error, willRetry) =>
          this.log('webhook dispatch failed', { eventId: job.id, error: error.message, willRetry }),
      },
    );
    const worker = deliveries.process(
      async (job) => {
        await this.deliver(job.data.deliveryId, job.attempt, job.attempts);
      },
      { concurrency: this.settings.concurrency, onError },
    );
    return [dispatcher, worker];
  }
}

class SecretError extends Error {
  override name = 'SecretError';
}

function checkName(name: string): string {
  if (name.trim() === '') throw MlflowError.invalidParameter('Webhook name cannot be empty');
  return name;
}

function errorText(thrown: unknown): string {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: string }).code;
    return code && !thrown.message.includes(code)
      ? `${thrown.name}: ${code} ${thrown.message}`
      : `${thrown.name}: ${thrown.message}`;
  }
  return String(thrown);
}
