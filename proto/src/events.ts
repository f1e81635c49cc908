import type {
  EventEnvelope,
  EventType,
  ModelAliasDeleted,
  ModelAliasSet,
  ModelVersionCreated,
  ModelVersionDeleted,
  ModelVersionStageTransitioned,
  ModelVersionTagDeleted,
  ModelVersionTagSet,
  RegisteredModelCreated,
  RegisteredModelDeleted,
  RegisteredModelRenamed,
  RegisteredModelTagDeleted,
  RegisteredModelTagSet,
} from './gen/mast/events/v1/events.js';

/** Every event type that names a payload message (all but EVENT_TYPE_UNSPECIFIED). */
export type MastEventType = Exclude<EventType, 'EVENT_TYPE_UNSPECIFIED'>;

/** Fails to compile when an event type of mast/events/v1/events.proto has no payload below. */
type Complete<T extends Record<MastEventType, object>> = T;

/** The payload message of each event type (mast/events/v1/events.proto: the message is the type in UpperCamelCase). */
export type EventPayloads = Complete<{
  REGISTERED_MODEL_CREATED: RegisteredModelCreated;
  REGISTERED_MODEL_RENAMED: RegisteredModelRenamed;
  REGISTERED_MODEL_DELETED: RegisteredModelDeleted;
  MODEL_VERSION_CREATED: ModelVersionCreated;
  MODEL_VERSION_DELETED: ModelVersionDeleted;
  MODEL_VERSION_STAGE_TRANSITIONED: ModelVersionStageTransitioned;
  MODEL_ALIAS_SET: ModelAliasSet;
  MODEL_ALIAS_DELETED: ModelAliasDeleted;
  REGISTERED_MODEL_TAG_SET: RegisteredModelTagSet;
  REGISTERED_MODEL_TAG_DELETED: RegisteredModelTagDeleted;
  MODEL_VERSION_TAG_SET: ModelVersionTagSet;
  MODEL_VERSION_TAG_DELETED: ModelVersionTagDeleted;
}>;

/**
 * An EventEnvelope as the outbox relay publishes it: every envelope field set, and `payload` typed by
 * `type`. `MastEvent` (no argument) is the union over all types, narrowed by checking `type`.
 */
export type MastEvent<K extends MastEventType = MastEventType> = {
  [T in K]: Omit<EventEnvelope, 'event_id' | 'type' | 'occurred_at' | 'source' | 'payload'> & {
    event_id: string;
    type: T;
    occurred_at: number;
    source: string;
    payload: EventPayloads[T];
  };
}[K];
