import { MlflowError } from '@mast/common';
import type { MastEvent } from '@mast/proto';

/**
 * MLflow 3's webhook events (`mlflow/entities/webhook.py`): an entity and an action, upper-case proto
 * enum names on the REST wire (`{"entity":"MODEL_VERSION","action":"CREATED"}`), lower-case in delivery
 * payloads and in the `entity.action` form (`model_version.created`). Mast adds
 * `model_version_stage.transitioned`, which MLflow lacks.
 */
export const WEBHOOK_ENTITIES = [
  'REGISTERED_MODEL',
  'MODEL_VERSION',
  'MODEL_VERSION_TAG',
  'MODEL_VERSION_ALIAS',
  'PROMPT',
  'PROMPT_VERSION',
  'PROMPT_TAG',
  'PROMPT_VERSION_TAG',
  'PROMPT_ALIAS',
  // Mast's own: stage transitions (MLflow's OSS webhooks do not fire on them).
  'MODEL_VERSION_STAGE',
] as const;
export type WebhookEntity = (typeof WEBHOOK_ENTITIES)[number];

export const WEBHOOK_ACTIONS = ['CREATED', 'UPDATED', 'DELETED', 'SET', 'TRANSITIONED'] as const;
export type WebhookAction = (typeof WEBHOOK_ACTIONS)[number];

/** Which actions each entity has (MLflow's `VALID_ENTITY_ACTIONS`, plus Mast's stage transition). */
export const VALID_ENTITY_ACTIONS: Record<WebhookEntity, readonly WebhookAction[]> = {
  REGISTERED_MODEL: ['CREATED'],
  MODEL_VERSION: ['CREATED'],
  MODEL_VERSION_TAG: ['SET', 'DELETED'],
  MODEL_VERSION_ALIAS: ['CREATED', 'DELETED'],
  PROMPT: ['CREATED'],
  PROMPT_VERSION: ['CREATED'],
  PROMPT_TAG: ['SET', 'DELETED'],
  PROMPT_VERSION_TAG: ['SET', 'DELETED'],
  PROMPT_ALIAS: ['CREATED', 'DELETED'],
  MODEL_VERSION_STAGE: ['TRANSITIONED'],
};

export interface WebhookEvent {
  entity: WebhookEntity;
  action: WebhookAction;
}

/** `model_version.created`: the payload's (and the Python client's) spelling of an event. */
export function eventKey(event: WebhookEvent): string {
  return `${event.entity.toLowerCase()}.${event.action.toLowerCase()}`;
}

/** The inverse of `eventKey` (for stored events). */
export function parseEventKey(key: string): WebhookEvent {
  const [entity, action] = key.split('.');
  return { entity: entity.toUpperCase() as WebhookEntity, action: action.toUpperCase() as WebhookAction };
}

/**
 * Checks an entity/action pair as MLflow does: an unknown pair is INVALID_PARAMETER_VALUE with MLflow's
 * message ("Invalid action 'x' for entity 'y'. Valid actions are: [...]", lower-case values).
 */
export function validateEvent(entity: string, action: string): WebhookEvent {
  const known = (WEBHOOK_ENTITIES as readonly string[]).includes(entity);
  const valid = known ? VALID_ENTITY_ACTIONS[entity as WebhookEntity] : [];
  if (!valid.includes(action as WebhookAction)) {
    const list = [...valid]
      .map((a) => `'${a.toLowerCase()}'`)
      .sort()
      .join(', ');
    throw MlflowError.invalidParameter(
      `Invalid action '${action.toLowerCase()}' for entity '${entity.toLowerCase()}'. Valid actions are: [${list}]`,
    );
  }
  return { entity: entity as WebhookEntity, action: action as WebhookAction };
}

/** A list of events: non-empty (MLflow: "Webhook events cannot be empty"), duplicates dropped. */
export function validateEvents(events: WebhookEvent[]): WebhookEvent[] {
  if (events.length === 0) throw MlflowError.invalidParameter('Webhook events cannot be empty');
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = eventKey(event);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The `data` of a delivery: MLflow's payload fields for the event (`mlflow/webhooks/types.py`). */
export type WebhookData = Record<string, unknown>;

/** What a registry event becomes for webhooks: its MLflow event and payload data. */
export interface WebhookNotification {
  event: WebhookEvent;
  /** The model the event is about. */
  model?: string;
  data: WebhookData;
}

type TagList = Array<{ key?: string; value?: string }> | undefined;

function tagObject(tags: TagList): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.key ?? '', tag.value ?? '']));
}

/** MLflow keeps a prompt version's text in this tag. */
export const PROMPT_TEXT_TAG = 'mlflow.prompt.text';

/**
 * Maps a registry event to its webhook notification, or undefined for changes MLflow's webhooks do not
 * report (renames, deletions of models and versions, registered-model tags). Prompts (`is_prompt`) map to
 * MLflow's prompt events; a prompt version's `template` is its `mlflow.prompt.text` tag.
 */
export function notificationFor(event: MastEvent): WebhookNotification | undefined {
  const prompt = (event.payload as { is_prompt?: boolean }).is_prompt === true;
  const e = (entity: WebhookEntity, action: WebhookAction) => ({ entity, action });
  switch (event.type) {
    case 'REGISTERED_MODEL_CREATED': {
      const p = event.payload;
      return {
        event: e(prompt ? 'PROMPT' : 'REGISTERED_MODEL', 'CREATED'),
        model: p.name,
        data: { name: p.name, tags: tagObject(p.tags), description: p.description ?? null },
      };
    }
    case 'MODEL_VERSION_CREATED': {
      const p = event.payload;
      if (prompt) {
        const tags = tagObject(p.tags);
        return {
          event: e('PROMPT_VERSION', 'CREATED'),
          model: p.name,
          data: {
            name: p.name,
            version: p.version,
            template: tags[PROMPT_TEXT_TAG] ?? '',
            tags,
            description: p.description ?? null,
          },
        };
      }
      return {
        event: e('MODEL_VERSION', 'CREATED'),
        model: p.name,
        data: {
          name: p.name,
          version: p.version,
          source: p.source,
          run_id: p.run_id ?? null,
          tags: tagObject(p.tags),
          description: p.description ?? null,
        },
      };
    }
    case 'MODEL_VERSION_TAG_SET': {
      const p = event.payload;
      return {
        event: e(prompt ? 'PROMPT_VERSION_TAG' : 'MODEL_VERSION_TAG', 'SET'),
        model: p.name,
        data: { name: p.name, version: p.version, key: p.key, value: p.value },
      };
    }
    case 'MODEL_VERSION_TAG_DELETED': {
      const p = event.payload;
      return {
        event: e(prompt ? 'PROMPT_VERSION_TAG' : 'MODEL_VERSION_TAG', 'DELETED'),
        model: p.name,
        data: { name: p.name, version: p.version, key: p.key },
      };
    }
    case 'REGISTERED_MODEL_TAG_SET': {
      // MLflow fires no event for registered-model tags, only for prompt tags.
      if (!prompt) return undefined;
      const p = event.payload;
      return {
        event: e('PROMPT_TAG', 'SET'),
        model: p.name,
        data: { name: p.name, key: p.key, value: p.value },
      };
    }
    case 'REGISTERED_MODEL_TAG_DELETED': {
      if (!prompt) return undefined;
      const p = event.payload;
      return { event: e('PROMPT_TAG', 'DELETED'), model: p.name, data: { name: p.name, key: p.key } };
    }
    case 'MODEL_ALIAS_SET': {
      const p = event.payload;
      return {
        event: e(prompt ? 'PROMPT_ALIAS' : 'MODEL_VERSION_ALIAS', 'CREATED'),
        model: p.name,
        data: { name: p.name, alias: p.alias, version: p.version },
      };
    }
    case 'MODEL_ALIAS_DELETED': {
      const p = event.payload;
      return {
        event: e(prompt ? 'PROMPT_ALIAS' : 'MODEL_VERSION_ALIAS', 'DELETED'),
        model: p.name,
        data: { name: p.name, alias: p.alias },
      };
    }
    case 'MODEL_VERSION_STAGE_TRANSITIONED': {
      const p = event.payload;
      return {
        event: e('MODEL_VERSION_STAGE', 'TRANSITIONED'),
        model: p.name,
        data: { name: p.name, version: p.version, from: p.from_stage, to: p.to_stage },
      };
    }
    default:
      return undefined;
  }
}

/** MLflow's example payloads (`get_example_payload_for_event`), sent by the test endpoint. */
export function examplePayload(event: WebhookEvent): WebhookData {
  const model = 'example_model';
  const prompt = 'example_prompt';
  switch (`${event.entity}.${event.action}`) {
    case 'REGISTERED_MODEL.CREATED':
      return {
        name: model,
        tags: { example_key: 'example_value' },
        description: 'An example registered model',
      };
    case 'MODEL_VERSION.CREATED':
      return {
        name: model,
        version: '1',
        source: 'models:/123',
        run_id: 'abcd1234abcd5678',
        tags: { example_key: 'example_value' },
        description: 'An example model version',
      };
    case 'MODEL_VERSION_TAG.SET':
      return { name: model, version: '1', key: 'example_key', value: 'example_value' };
    case 'MODEL_VERSION_TAG.DELETED':
      return { name: model, version: '1', key: 'example_key' };
    case 'MODEL_VERSION_ALIAS.CREATED':
      return { name: model, alias: 'example_alias', version: '1' };
    case 'MODEL_VERSION_ALIAS.DELETED':
      return { name: model, alias: 'example_alias' };
    case 'PROMPT.CREATED':
      return { name: prompt, tags: { example_key: 'example_value' }, description: 'An example prompt' };
    case 'PROMPT_VERSION.CREATED':
      return {
        name: prompt,
        version: '1',
        template: 'Hello {{name}}!',
        tags: { example_key: 'example_value' },
        description: 'An example prompt version',
      };
    case 'PROMPT_TAG.SET':
      return { name: prompt, key: 'example_key', value: 'example_value' };
    case 'PROMPT_TAG.DELETED':
      return { name: prompt, key: 'example_key' };
    case 'PROMPT_VERSION_TAG.SET':
      return { name: prompt, version: '1', key: 'example_key', value: 'example_value' };
    case 'PROMPT_VERSION_TAG.DELETED':
      return { name: prompt, version: '1', key: 'example_key' };
    case 'PROMPT_ALIAS.CREATED':
      return { name: prompt, alias: 'example_alias', version: '1' };
    case 'PROMPT_ALIAS.DELETED':
      return { name: prompt, alias: 'example_alias' };
    default:
      return { name: model, version: '1', from: 'Staging', to: 'Production' };
  }
}

/** MLflow's payload timestamp: Python's `datetime.now(timezone.utc).isoformat()` (microseconds, `+00:00`). */
export function payloadTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/**
 * The delivery body, serialized once (the exact string that is signed): MLflow's envelope with
 * lower-case `entity` and `action`, the event time, and the data.
 */
export function deliveryBody(event: WebhookEvent, data: WebhookData, occurredAtMs: number): string {
  return JSON.stringify({
    entity: event.entity.toLowerCase(),
    action: event.action.toLowerCase(),
    timestamp: payloadTimestamp(occurredAtMs),
    data,
  });
}
