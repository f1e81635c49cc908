/**
 * The job-queue interface services publish and consume jobs and events through. Two implementations
 * satisfy it and pass one contract suite (queue/queue.contract.test.ts): BullMQ on Redis
 * (`RedisQueueConnection`, the cluster) and an in-process one (`InProcessQueueConnection`, the embedded
 * `mast server` without `REDIS_URL`). `createQueueConnection()` picks one from a Redis URL or its absence.
 */

/** How long to wait between tries of a failed job. */
export interface JobBackoff {
  /** `fixed`: `delayMs` before every retry; `exponential`: `delayMs * 2^(n-1)` before retry n (BullMQ's rule). */
  type: 'fixed' | 'exponential';
  /** Base delay in milliseconds (≥ 0). */
  delayMs: number;
}

/** Options of one job; unset fields fall back to the queue's defaults, then to the defaults below. */
export interface JobOptions {
  /**
   * The job's id. While the queue still holds a job with this id (waiting, delayed, active, or finished
   * and not yet removed by `keepFinished`), adding another with the same id is a no-op: this is how
   * redelivered events are absorbed. Must not be an integer string nor contain `:` (BullMQ's rule).
   * Default: a random UUID.
   */
  jobId?: string;
  /** Total tries, the first included (≥ 1). Default 1: no retry. */
  attempts?: number;
  /** Delay between tries. Default: retry at once. */
  backoff?: JobBackoff;
  /** Milliseconds to wait before the first try. Default 0. */
  delayMs?: number;
}

/** How long finished (completed or failed) jobs are remembered, hence how long their ids deduplicate. */
export interface KeepFinished {
  /** Milliseconds after finishing. Default 7 days. */
  ageMs: number;
  /** At most this many finished jobs per queue and outcome (the oldest are removed first). Default 10,000. */
  count: number;
}

/** A job as its handler sees it. */
export interface Job<T = unknown> {
  id: string;
  /** The name given to `add()` (for events: the event type). */
  name: string;
  data: T;
  /** Which try this is: 1 for the first. */
  attempt: number;
  /** The job's total allowed tries. */
  attempts: number;
}

/** Consumes one job; a rejection fails this try (retried unless it is an `UnrecoverableJobError` or the last). */
export type JobHandler<T = unknown> = (job: Job<T>) => Promise<void>;

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** What the queue knows about a job (`getJob`). */
export interface JobInfo<T = unknown> {
  id: string;
  name: string;
  data: T;
  state: JobState;
  /** Tries that have finished (succeeded or failed). */
  attemptsMade: number;
  /** The last failure's message, when it failed. */
  failedReason?: string;
}

export type JobCounts = Record<JobState, number>;

export interface WorkerOptions<T = unknown> {
  /** Handlers running at once in this worker (≥ 1). Default 1. */
  concurrency?: number;
  /**
   * Told about every failed try (for logging): `willRetry` is false when the job is now failed for good
   * (an `UnrecoverableJobError`, or its last try). Must not throw.
   */
  onFailed?: (job: Job<T>, error: Error, willRetry: boolean) => void;
  /** Told about the worker's own errors (lost connection, ...), not the handlers'. Must not throw. */
  onError?: (error: Error) => void;
  /**
   * Redis only: how long a running job's lock lasts without renewal (BullMQ's `lockDuration`, default
   * 30 s); a worker that dies holding it is noticed after about this long and its job runs again
   * elsewhere (stalled-job recovery).
   */
  lockDurationMs?: number;
}

/** A running consumer of one queue. */
export interface QueueWorker {
  /**
   * Stops taking jobs and resolves once the handlers already running have finished; with `force`, at
   * once, leaving them running (BullMQ hands their jobs out again once their locks expire). Idempotent:
   * the first call decides.
   */
  close(force?: boolean): Promise<void>;
}

/** One named queue. */
export interface JobQueue<T = unknown> {
  readonly name: string;
  /**
   * Adds a job and resolves with its id once it is stored (in Redis: durably enqueued). A known id is a
   * no-op that still resolves with the id. Rejects with `QueueClosedError` after `close()`, and with a
   * `TypeError` on an invalid id or options.
   */
  add(name: string, data: T, options?: JobOptions): Promise<string>;
  /** Starts a worker that runs `handler` on this queue's jobs. */
  process(handler: JobHandler<T>, options?: WorkerOptions<T>): QueueWorker;
  /** The job with this id, or undefined when the queue does not (or no longer) hold it. */
  getJob(id: string): Promise<JobInfo<T> | undefined>;
  /** Jobs per state (what cluster autoscaling reads as queue depth). */
  getCounts(): Promise<JobCounts>;
  /** Closes this queue's workers (waiting for their running handlers), then the queue itself. Idempotent. */
  close(): Promise<void>;
}

export interface QueueOptions {
  /** Options every job of this queue starts from (`add()`'s own options win). */
  defaultJobOptions?: Omit<JobOptions, 'jobId'>;
}

/** The queues of one process, sharing one connection (Redis) or one process (in-process). */
export interface QueueConnection {
  /** 'redis' (BullMQ) or 'in-process'. */
  readonly kind: 'redis' | 'in-process';
  /**
   * The queue with this name (letters, digits, `-`, `_`, `.`). The same name returns the same queue
   * object; its options are those of the first call.
   */
  queue<T = unknown>(name: string, options?: QueueOptions): JobQueue<T>;
  /**
   * Subscribes `subscriber` to an event topic (fan-out): from now on every event published to `topic`
   * (`publishToTopic`, the outbox relay) is also added to this subscriber's own queue, named
   * `<topic>.<subscriber>`, which is returned. Replicas of one subscriber share that queue (each event
   * handled once per subscriber); different subscribers each get every event. The subscription is
   * remembered by the connection's store (Redis: across processes and restarts; in-process: for the
   * process's life), takes effect at once for later publishes on this connection, and is idempotent.
   * Events published before the first subscription are not delivered to it. Names follow the queue-name
   * rule.
   */
  subscribe<T = unknown>(topic: string, subscriber: string, options?: QueueOptions): Promise<JobQueue<T>>;
  /** The subscribers of `topic`, sorted. */
  subscribers(topic: string): Promise<string[]>;
  /** Closes every queue and worker it made (workers first, waiting for running handlers). Idempotent. */
  close(): Promise<void>;
}
