import {
  decodePageToken,
  encodePageToken,
  invalidParameter,
  MlflowError,
  type RequestReader,
  readMaxResults,
  requireJsonContentType,
  rpc,
  toWireJson,
} from '@mast/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateEvent, type WebhookEvent } from './events.js';
import type { WebhookInput, WebhookService } from './service.js';
import type { AttemptRecord, DeliveryRecord, WebhookRecord, WebhookStatus } from './store.js';

const WEBHOOKS = '/mlflow/webhooks';
/** Mast's delivery log (MLflow keeps none). */
const DELIVERIES = '/mast/webhooks/deliveries';
const LIST_DEFAULT = 100;
const LIST_MAX = 1000;

/** A webhook as MLflow's proto JSON has it: the secret never appears. */
export function toWireWebhook(webhook: WebhookRecord) {
  return {
    webhook_id: webhook.webhookId,
    name: webhook.name,
    description: webhook.description,
    url: webhook.url,
    events: webhook.events.map((event) => ({ entity: event.entity, action: event.action })),
    status: webhook.status,
    creation_timestamp: webhook.creationTimestamp,
    last_updated_timestamp: webhook.lastUpdatedTimestamp,
  };
}

export function toWireDelivery(delivery: DeliveryRecord & { attemptList: AttemptRecord[] }) {
  return {
    delivery_id: delivery.deliveryId,
    webhook_id: delivery.webhookId,
    event_id: delivery.eventId,
    event: delivery.event,
    model_name: delivery.modelName,
    state: delivery.state.toUpperCase(),
    creation_timestamp: delivery.createdAt,
    last_updated_timestamp: delivery.updatedAt,
    attempts: delivery.attemptList.map((attempt) => ({
      attempt: attempt.attempt,
      timestamp: attempt.attemptedAt,
      response_status: attempt.responseStatus,
      latency_ms: attempt.latencyMs,
      error_message: attempt.error,
    })),
  };
}

/** One event: `{"entity": "MODEL_VERSION", "action": "CREATED"}` (enum names or numbers), or `model_version.created`. */
function readEvent(item: unknown, path: string): WebhookEvent {
  if (typeof item === 'string' && item.includes('.')) {
    const [entity, action] = item.split('.');
    return validateEvent(entity.toUpperCase(), action.toUpperCase());
  }
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw MlflowError.invalidParameter(
      `Invalid value ${JSON.stringify(item)} for parameter '${path}' supplied.`,
    );
  }
  const { entity, action } = item as { entity?: unknown; action?: unknown };
  return validateEvent(enumName(entity, ENTITY_NUMBERS), enumName(action, ACTION_NUMBERS));
}

// MLflow's proto enum numbers (webhooks.proto), for clients that send numbers.
const ENTITY_NUMBERS = [
  'ENTITY_UNSPECIFIED',
  'REGISTERED_MODEL',
  'MODEL_VERSION',
  'MODEL_VERSION_TAG',
  'MODEL_VERSION_ALIAS',
  'PROMPT',
  'PROMPT_VERSION',
  'PROMPT_TAG',
  'PROMPT_VERSION_TAG',
  'PROMPT_ALIAS',
];
const ACTION_NUMBERS = ['ACTION_UNSPECIFIED', 'CREATED', 'UPDATED', 'DELETED', 'SET'];

function enumName(value: unknown, numbers: string[]): string {
  if (typeof value === 'number') return numbers[value] ?? String(value);
  if (typeof value === 'string') return value.toUpperCase();
  return String(value);
}

function readEvents(request: FastifyRequest, required: boolean): WebhookEvent[] | undefined {
  const source = (request.body ?? request.query ?? {}) as Record<string, unknown>;
  const value = source.events;
  if (value === undefined || value === null) {
    if (required) {
      throw MlflowError.invalidParameter(
        "Missing value for required parameter 'events'. See the API docs for more information about request parameters.",
      );
    }
    return undefined;
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => readEvent(item, `events[${i}]`));
}

function readInput(reader: RequestReader, request: FastifyRequest, create: boolean): WebhookInput {
  return {
    name: create ? reader.string('name', { required: true }) : reader.string('name'),
    url: create ? reader.string('url', { required: true }) : reader.string('url'),
    description: reader.string('description'),
    secret: reader.string('secret'),
    status: readStatus(reader),
    events: readEvents(request, create),
  };
}

/** `ACTIVE` or `DISABLED` (or their proto numbers); anything else is refused, as MLflow's parser does. */
function readStatus(reader: RequestReader): WebhookStatus | undefined {
  if (!reader.has('status')) return undefined;
  const status = reader.enumValue('status', ['ACTIVE', 'DISABLED'] as const);
  if (status === undefined) {
    throw invalidParameter(
      reader.path('status'),
      reader.string('status'),
      'Valid values are ACTIVE, DISABLED.',
    );
  }
  return status;
}

function webhookIdOf(request: FastifyRequest): string {
  return (request.params as { webhook_id: string }).webhook_id;
}

/** MLflow 3's webhook API (`WebhookService`) and Mast's delivery log, in their own scope. */
export async function registerWebhookRoutes(app: FastifyInstance, service: WebhookService): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireJsonContentType);
    scope.setReplySerializer(toWireJson);

    rpc(scope, 'POST', WEBHOOKS, async (reader, request) => ({
      webhook: toWireWebhook(await service.create(readInput(reader, request, true))),
    }));

    rpc(scope, 'GET', WEBHOOKS, async (reader) => {
      const limit = readMaxResults(reader, 'max_results', LIST_DEFAULT, LIST_MAX);
      const offset = decodePageToken(reader.string('page_token'));
      const page = await service.list(offset, limit + 1);
      return {
        webhooks: page.slice(0, limit).map(toWireWebhook),
        next_page_token: page.length > limit ? encodePageToken(offset + limit) : undefined,
      };
    });

    rpc(scope, 'GET', `${WEBHOOKS}/:webhook_id`, async (_reader, request) => ({
      webhook: toWireWebhook(await service.get(webhookIdOf(request))),
    }));

    rpc(scope, 'PATCH', `${WEBHOOKS}/:webhook_id`, async (reader, request) => ({
      webhook: toWireWebhook(await service.update(webhookIdOf(request), readInput(reader, request, false))),
    }));

    rpc(scope, 'DELETE', `${WEBHOOKS}/:webhook_id`, async (_reader, request) => {
      await service.delete(webhookIdOf(request));
      return {};
    });

    rpc(scope, 'POST', `${WEBHOOKS}/:webhook_id/test`, async (reader, request) => {
      const event = reader.has('event')
        ? readEvent((request.body as { event: unknown }).event, 'event')
        : undefined;
      return { result: await service.test(webhookIdOf(request), event) };
    });

    rpc(
      scope,
      'GET',
      DELIVERIES,
      async (reader) => {
        const webhookId = reader.string('webhook_id', { required: true });
        const limit = readMaxResults(reader, 'max_results', LIST_DEFAULT, LIST_MAX);
        const offset = decodePageToken(reader.string('page_token'));
        const page = await service.deliveries(webhookId, offset, limit + 1);
        return {
          deliveries: page.slice(0, limit).map(toWireDelivery),
          next_page_token: page.length > limit ? encodePageToken(offset + limit) : undefined,
        };
      },
      { expensive: true },
    );
  });
}
