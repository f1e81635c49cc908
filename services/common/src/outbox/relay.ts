import type { MastEvent, MastEventType } from '@mast/proto';
import { type Kysely, sql } from 'kysely';
import { publishToTopic } from '../queue/topics.js';
import type { JobOptions, QueueConnection } from '../queue/types.js';
import type { OutboxDatabase } from './tables.js';

export interface OutboxRelayOptions<DB> {
  /** The service's database (the relay opens its own transactions on it). */
  db: Kysely<DB>;
  /** The schema whose `outbox` table it relays, e.g. `registry`. */
  schema: string;
  /** Where events are published: each to the subscribers of its row's `queue`, a topic (`publishToTopic`). */
  queues: QueueConnection;
  /** The envelopes' `source`. Default: `schema`. */
  source?: string;
  /** Rows claimed per transaction (≥ 1). Default 100. */
  batchSize?: number;
  /** Milliseconds between polls when idle; `wake()` cuts a wait short. Default 1000. */
  pollIntervalMs?: number;
  /**
   * Options of the published jobs (how consumers' failures are retried); the job id is always the event
   * id. Default: 10 tries, exponential backoff from 1 s.
   */
  jobOptions?: Omit<JobOptions, 'jobId'>;
  /** Sent rows older than this many milliseconds are deleted (checked hourly); 0 keeps them. Default 7 days. */
  keepSentMs?: number;
  /** Told about failed polls and publishes (the relay retries them); must not throw. */
  onError?: (error: Error) => void;
  /**
   * Test hook: called after a batch is published and before it is marked sent, inside the claim
   * transaction. Throwing rolls the claim back, as a relay killed at that point would: the batch stays
   * unsent and is published again by the next claim.
   */
  beforeMark?: (events: MastEvent[]) => void | Promise<void>;
}

const PURGE_EVERY_MS = 3600_000;

/**
 * Publishes a schema's outbox rows to their topics' subscribers (each subscriber's own queue, see
 * `QueueConnection.subscribe`), at least once each, in `seq` order per batch.
 * Each batch: claim up to `batchSize` unsent rows with `SELECT ... FOR UPDATE SKIP LOCKED` (so relays
 * in several processes share the work and never publish the same row at the same time), publish each
 * as a job whose id is the event id, mark them sent, commit. A crash before the commit leaves the rows
 * unsent: they are published again (same job id, so the queue drops the copy while it remembers the
 * job; consumers use `processEventOnce` for the rest). A publish failure stops the batch (later events
 * wait, keeping their order), counts the try on the row and is retried at the next poll.
 *
 * `start()` polls until `stop()`; register `stop()` with the process lifecycle before closing the
 * queue connection and the database.
 */
export class OutboxRelay<DB = unknown> {
  private readonly db: Kysely<OutboxDatabase>;
  private readonly schema: string;
  private readonly source: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly jobOptions: Omit<JobOptions, 'jobId'>;
  private readonly keepSentMs: number;
  private loop?: Promise<void>;
  private stopped = true;
  private woken = false;
  private wakeUp?: () => void;
  private lastPurge = 0;
  private pollCount = 0;

  constructor(private readonly options: OutboxRelayOptions<DB>) {
    this.db = options.db as unknown as Kysely<OutboxDatabase>;
    this.schema = options.schema;
    this.source = options.source ?? options.schema;
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.jobOptions = options.jobOptions ?? { attempts: 10, backoff: { type: 'exponential', delayMs: 1000 } };
    this.keepSentMs = options.keepSentMs ?? 7 * 24 * 3600_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new TypeError(`batchSize must be an integer ≥ 1, not ${options.batchSize}`);
    }
  }

  /** Polls `start()` has made so far, failed ones included (for monitoring and tests). */
  get polls(): number {
    return this.pollCount;
  }

  /** Starts polling (idempotent). */
  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Polls now instead of at the next interval: call it after committing a transaction that appended events. */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  /** Stops polling; resolves once the batch in progress (if any) has committed or rolled back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Claims, publishes and marks one batch; resolves with how many events it published. Rejects when the
   * claim or the mark fails (nothing is marked then). `start()` calls it in a loop; tests call it directly.
   */
  async relayOnce(): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await tx
        .withSchema(this.schema)
        .selectFrom('outbox')
        .select(['seq', 'event_id', 'queue', 'type', 'payload', 'created_at'])
        .where('sent_at', 'is', null)
        .orderBy('seq')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      const published: MastEvent[] = [];
      const publishedSeqs: number[] = [];
      for (const row of rows) {
        const event = {
          event_id: row.event_id,
          type: row.type as MastEventType,
          occurred_at: row.created_at.getTime(),
          source: this.source,
          payload: row.payload,
        } as MastEvent;
        try {
          await publishToTopic(this.options.queues, row.queue, row.type, event, {
            ...this.jobOptions,
            jobId: row.event_id,
          });
        } catch (thrown) {
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          this.report(error);
          await tx
            .withSchema(this.schema)
            .updateTable('outbox')
            .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error.message }))
            .where('seq', '=', row.seq)
            .execute();
          break;
        }
        published.push(event);
        publishedSeqs.push(row.seq);
      }
      if (published.length === 0) return 0;
      await this.options.beforeMark?.(published);
      await tx
        .withSchema(this.schema)
        .updateTable('outbox')
        .set((eb) => ({ sent_at: sql<Date>`now()`, attempts: eb('attempts', '+', 1), last_error: null }))
        .where('seq', 'in', publishedSeqs)
        .execute();
      return published.length;
    });
  }

  /** Deletes rows sent more than `keepSentMs` ago; resolves with how many. */
  async purgeSent(): Promise<number> {
    if (this.keepSentMs <= 0) return 0;
    const result = await this.db
      .withSchema(this.schema)
      .deleteFrom('outbox')
      .where('sent_at', '<', new Date(Date.now() - this.keepSentMs))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let published = 0;
      try {
        published = await this.relayOnce();
        if (this.keepSentMs > 0 && Date.now() - this.lastPurge >= PURGE_EVERY_MS) {
          this.lastPurge = Date.now();
          await this.purgeSent();
        }
      } catch (thrown) {
        this.report(thrown instanceof Error ? thrown : new Error(String(thrown)));
      }
      this.pollCount += 1;
      if (this.stopped) break;
      if (published < this.batchSize) await this.idle();
    }
  }

  /** Waits `pollIntervalMs`, or less when woken. */
  private idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.wakeUp = done;
    });
  }

  private report(error: Error): void {
    try {
      this.options.onError?.(error);
    } catch {
      // a listener must not throw
    }
  }
}
