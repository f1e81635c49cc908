import { Redis } from 'ioredis';
import { QueueClosedError } from './errors/queue-closed-error.js';
import { checkQueueName, DEFAULT_KEEP_FINISHED, subscriptionQueueName } from './job-options.js';
import { RedisJobQueue } from './redis-queue.js';
import type { JobQueue, KeepFinished, QueueConnection, QueueOptions } from './types.js';

export interface RedisQueueConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of every Redis key (BullMQ's `prefix`). Default `mast`. Tests use a unique one per run. */
  prefix?: string;
  /** How long finished jobs (and so their ids) are kept in Redis. Default `DEFAULT_KEEP_FINISHED`. */
  keepFinished?: Partial<KeepFinished>;
  /** Told about connection and worker errors (Redis unreachable, ...); ioredis keeps reconnecting. */
  onError?: (error: Error) => void;
}

/**
 * BullMQ queues on one Redis connection (each worker adds its own blocking connection). The connection
 * has `maxRetriesPerRequest: null`, as BullMQ workers require: commands wait for a reconnect instead of
 * failing.
 */
export class RedisQueueConnection implements QueueConnection {
  readonly kind = 'redis';
  readonly prefix: string;
  private readonly redis: Redis;
  private readonly queues = new Map<string, RedisJobQueue<unknown>>();
  private readonly keepFinished: KeepFinished;
  private readonly onError: (error: Error) => void;
  private closing?: Promise<void>;

  constructor(options: RedisQueueConnectionOptions) {
    this.prefix = options.prefix ?? 'mast';
    this.keepFinished = { ...DEFAULT_KEEP_FINISHED, ...options.keepFinished };
    this.onError = options.onError ?? (() => {});
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.redis.on('error', this.onError);
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
      await Promise.all([...this.queues.values()].map((queue) => queue.close()));
      await this.redis.quit();
    })();
    return this.closing;
  }
}
