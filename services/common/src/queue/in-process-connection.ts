import { QueueClosedError } from './errors/queue-closed-error.js';
import { InProcessQueue } from './in-process-queue.js';
import { checkQueueName, DEFAULT_KEEP_FINISHED, subscriptionQueueName } from './job-options.js';
import type { JobQueue, KeepFinished, QueueConnection, QueueOptions } from './types.js';

export interface InProcessQueueConnectionOptions {
  /** How long finished jobs (and so their ids) are remembered. Default `DEFAULT_KEEP_FINISHED`. */
  keepFinished?: Partial<KeepFinished>;
}

/**
 * Queues in this process's memory, for the embedded `mast server` (no `REDIS_URL`). Jobs do not survive
 * the process; see `InProcessQueue`.
 */
export class InProcessQueueConnection implements QueueConnection {
  readonly kind = 'in-process';
  private readonly queues = new Map<string, InProcessQueue<unknown>>();
  private readonly keepFinished: KeepFinished;
  private readonly topicSubscribers = new Map<string, Set<string>>();
  private closed = false;

  constructor(options: InProcessQueueConnectionOptions = {}) {
    this.keepFinished = { ...DEFAULT_KEEP_FINISHED, ...options.keepFinished };
  }

  queue<T = unknown>(name: string, options?: QueueOptions): JobQueue<T> {
    if (this.closed) throw new QueueClosedError(name);
    checkQueueName(name);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new InProcessQueue<unknown>(name, options, this.keepFinished);
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
    let subscribers = this.topicSubscribers.get(topic);
    if (!subscribers) {
      subscribers = new Set();
      this.topicSubscribers.set(topic, subscribers);
    }
    subscribers.add(subscriber);
    return queue;
  }

  async subscribers(topic: string): Promise<string[]> {
    return [...(this.topicSubscribers.get(topic) ?? [])].sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
  }
}
