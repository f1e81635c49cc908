import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueClosedError } from './errors/queue-closed-error.js';
import { resolveJobOptions } from './job-options.js';
import { isRedisConnectionError } from './redis-errors.js';
import { RedisQueueWorker } from './redis-worker.js';
import type {
  JobCounts,
  JobHandler,
  JobInfo,
  JobOptions,
  JobQueue,
  JobState,
  KeepFinished,
  QueueOptions,
  QueueWorker,
  WorkerOptions,
} from './types.js';

/** A BullMQ queue on Redis; see `JobQueue`. Jobs are kept in Redis under `<prefix>:<name>:*`. */
export class RedisJobQueue<T = unknown> implements JobQueue<T> {
  private readonly queue: Queue;
  private readonly workers = new Set<RedisQueueWorker<T>>();
  private closed = false;
  private closing?: Promise<void>;

  constructor(
    readonly name: string,
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly options: QueueOptions,
    keepFinished: KeepFinished,
    private readonly onError: (error: Error) => void,
  ) {
    // BullMQ reads a count of 0 as "no limit": keeping none is `true` (remove at once).
    const keep =
      keepFinished.count === 0 || keepFinished.ageMs <= 0
        ? true
        : { age: Math.ceil(keepFinished.ageMs / 1000), count: keepFinished.count };
    this.queue = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: keep, removeOnFail: keep },
    });
    this.queue.on('error', (error) => {
      if (!isRedisConnectionError(error)) onError(error);
    });
  }

  async add(name: string, data: T, options?: JobOptions): Promise<string> {
    if (this.closed) throw new QueueClosedError(this.name);
    const resolved = resolveJobOptions(options, this.options.defaultJobOptions);
    const job = await this.queue.add(name, data, {
      jobId: resolved.jobId,
      attempts: resolved.attempts,
      delay: resolved.delayMs,
      ...(resolved.backoff && { backoff: { type: resolved.backoff.type, delay: resolved.backoff.delayMs } }),
    });
    return job.id!;
  }

  process(handler: JobHandler<T>, options?: WorkerOptions<T>): QueueWorker {
    if (this.closed) throw new QueueClosedError(this.name);
    const worker = new RedisQueueWorker<T>(
      this.name,
      this.connection,
      this.prefix,
      handler,
      options,
      this.onError,
    );
    this.workers.add(worker);
    return worker;
  }

  async getJob(id: string): Promise<JobInfo<T> | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    const state = toState(await job.getState());
    if (!state) return undefined;
    const info: JobInfo<T> = {
      id,
      name: job.name,
      data: job.data as T,
      state,
      attemptsMade: job.attemptsMade,
    };
    if (job.failedReason) info.failedReason = job.failedReason;
    return info;
  }

  async getCounts(): Promise<JobCounts> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'prioritized',
      'waiting-children',
      'delayed',
      'active',
      'completed',
      'failed',
    );
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts['waiting-children'] ?? 0),
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
    };
  }

  /** `force`: do not wait for running handlers (Redis is unreachable: they could not finish their jobs). */
  close(force = false): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await Promise.all([...this.workers].map((worker) => worker.close(force)));
      await this.queue.close();
    })();
    return this.closing;
  }
}

function toState(state: string): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      return undefined;
  }
}
