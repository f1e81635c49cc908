import { appendEvents, type OutboxEvent } from '@mast/common';
import type { EventPayloads, MastEventType } from '@mast/proto';
import { REGISTRY_SCHEMA } from '../store/migrations/index.js';
import type { RegistryExecutor } from '../store/schema.js';

/** The queue every registry change is published to (through the `registry.outbox`). */
export const REGISTRY_EVENTS_QUEUE = 'registry-events';

/** Collects a command's events; `flush` appends them to the outbox inside the command's transaction. */
export class EventBatch {
  private readonly events: OutboxEvent[] = [];
  /** Whether the command's model is a prompt: every event added gets `is_prompt: true`. */
  prompt = false;

  add<K extends MastEventType>(type: K, payload: EventPayloads[K]): void {
    // Unset optional fields are dropped so the JSON is the proto's (unset omitted).
    const clean = Object.fromEntries(
      Object.entries({ ...payload, is_prompt: this.prompt || undefined }).filter(
        ([, v]) => v !== undefined && v !== null,
      ),
    );
    this.events.push({ queue: REGISTRY_EVENTS_QUEUE, type, payload: clean as EventPayloads[K] });
  }

  async flush(tx: RegistryExecutor): Promise<void> {
    await appendEvents(tx, REGISTRY_SCHEMA, this.events);
  }

  get size(): number {
    return this.events.length;
  }
}
