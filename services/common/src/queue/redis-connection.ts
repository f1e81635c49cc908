import { Redis } from 'ioredis';
import { redactSecrets } from '../secrets.js';
import { QueueClosedError } from './errors/queue-closed-error.js';
import { checkQueueName, DEFAULT_KEEP_FINISHED, subscriptionQueueName } from './job-options.js';
import { isRedisAuthError, isRedisConnectionError } from './redis-errors.js';
import { RedisJobQueue } from './redis-queue.js';
import type { JobQueue, KeepFinished, QueueConnection, QueueOptions } from './types.js';

export interface RedisQueueConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every Redis key (BullMQ's `prefix`). Default `mast`. Tests use a unique one per run. */
  prefix?: string;
  /** How long finished jobs (and so their ids) are kept in Redis. Default `DEFAULT_KEEP_FINISHED`. */
  keepFinished?: Partial<KeepFinished>;
  /**
   * Told about queue and worker errors, and once per reconnect attempt while Redis is unreachable (one
   * line: where, why, when the next attempt is; attempts back off from 0.5 s to 10 s).
   */
  onError?: (error: Error) => void;
}

/** The wait before reconnect attempt `attempt` (from 1): 0.5 s doubling to 10 s, as the database's. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 10_000);
}

/**
 * BullMQ queues on one Redis connection (each worker adds its own blocking connection). The connection
 * has `maxRetriesPerRequest: null`, as BullMQ workers require: commands wait for a reconnect instead of
 * failing. While Redis is unreachable it reconnects with backoff (`reconnectDelayMs`) and reports each
 * attempt once through `onError`.
 */
export class RedisQueueConnection implements QueueConnection {
  readonly kind = 'redis';
  readonly prefix: string;
  private readonly redis: Redis;
  private readonly queues = new Map<string, RedisJobQueue<unknown>>();
  private readonly keepFinished: KeepFinished;
  private readonly onError: (error: Error) => void;
  private closing?: Promise<void>;
  /** `host:port` of the server, for messages (never the password). */
  readonly location: string;
  /** Failed connection attempts since the connection was last ready. */
  private failedAttempts = 0;
  private lastError?: Error;

  constructor(options: RedisQueueConnectionOptions) {
    this.prefix = options.prefix ?? 'mast';
    this.keepFinished = { ...DEFAULT_KEEP_FINISHED, ...options.keepFinished };
    this.onError = options.onError ?? (() => {});
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy: reconnectDelayMs });
    this.location = `${this.redis.options.host}:${this.redis.options.port}`;
    this.redis.on('error', (error: Error) => {
      if (isRedisConnectionError(error)) this.lastError = error;
      else this.onError(error);
    });
    this.redis.on('reconnecting', (delayMs: number) => {
      this.failedAttempts++;
      const reason = this.lastError?.message ?? 'the connection closed';
      this.onError(
        new Error(
          `Redis at ${this.location} is not reachable (attempt ${this.failedAttempts}: ${redactSecrets(reason)}); retrying in ${delayMs / 1000} s`,
        ),
      );
    });
    this.redis.on('ready', () => {
      this.failedAttempts = 0;
      this.lastError = undefined;
    });
  }

  /** Whether the connection to Redis is up now (readiness). */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Resolves once Redis answers; rejects when `timeoutMs` passes first, or at once when Redis refuses
   * this client (authentication), with a one-line message naming the server. `onRetry` is called after
   * each failed attempt.
   */
  waitUntilConnected(timeoutMs: number, onRetry: () => void = () => {}): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        this.redis.off('error', onError);
        this.redis.off('end', onEnd);
        this.redis.off('reconnecting', onRetry);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onReady = () => done();
      const onError = (error: Error) => {
        if (isRedisAuthError(error))
          done(
            new Error(`Redis at ${this.location} refused the connection: ${redactSecrets(error.message)}`),
          );
      };
      const onEnd = () => done(new Error(`the connection to Redis at ${this.location} was closed`));
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `Redis at ${this.location} did not answer within ${Math.round(timeoutMs / 1000)} s${this.lastError ? `: ${redactSecrets(this.lastError.message)}` : ''}`,
            ),
          ),
        timeoutMs,
      );
      this.redis.on('ready', onReady);
      this.redis.on('error', onError);
      this.redis.on('end', onEnd);
      this.redis.on('reconnecting', onRetry);
    });
  }

  queue<T = unknown>(name: string, options: QueueOptions = {}): JobQueue<T> {
    if (this.closing) throw new QueueClosedError(name);
    checkQueueName(name);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new RedisJobQueue<unknown>(
        name,
        this.redis,
        this.prefix,
        options,
        this.keepFinished,
        this.onError,
      );
      this.queues.set(name, queue);
    }
    return queue as unknown as JobQueue<T>;
  }

  async subscribe<T = unknown>(
    topic: string,
    subscriber: string,
    options?: QueueOptions,
  ): Promise<JobQueue<T>> {
    const queue = this.queue<T>(subscriptionQueueName(topic, subscriber), options);
    await this.redis.sadd(this.topicKey(topic), subscriber);
    return queue;
  }

  async subscribers(topic: string): Promise<string[]> {
    checkQueueName(topic);
    return (await this.redis.smembers(this.topicKey(topic))).sort();
  }

  /** The Redis set of a topic's subscribers; `::` since no queue name is empty, no BullMQ key looks like it. */
  private topicKey(topic: string): string {
    return `${this.prefix}::topic:${topic}:subscribers`;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // While Redis is unreachable nothing can be flushed: drop the connection now, so that pending
      // commands fail and shutdown does not wait for a reconnect that may never come.
      const reachable = this.connected;
      if (!reachable) dropConnection(this.redis);
      await Promise.all([...this.queues.values()].map((queue) => queue.close(!reachable)));
      if (reachable) await this.redis.quit();
    })();
    return this.closing;
  }
}

/**
 * Disconnects at once, failing the commands queued meanwhile. ioredis's `disconnect()` alone, while it
 * waits to reconnect, leaves them pending forever (no close event follows): fail them as its own
 * close does.
 */
function dropConnection(redis: Redis): void {
  const waiting = redis.status === 'reconnecting';
  redis.disconnect();
  if (!waiting) return;
  const internals = redis as unknown as { setStatus(status: string): void; flushQueue(error: Error): void };
  internals.setStatus('end');
  internals.flushQueue(new Error('Connection is closed.'));
}
