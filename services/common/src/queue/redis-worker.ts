import { type Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { UnrecoverableJobError } from './errors/unrecoverable-job-error.js';
import { isRedisConnectionError } from './redis-errors.js';
import type { Job, JobHandler, QueueWorker, WorkerOptions } from './types.js';

/**
 * A BullMQ worker running `handler` on one queue (see `WorkerOptions`). Handler errors are BullMQ's to
 * retry, except `UnrecoverableJobError`, rethrown as BullMQ's `UnrecoverableError` so that BullMQ
 * fails the job without retrying it.
 */
export class RedisQueueWorker<T> implements QueueWorker {
  private readonly worker: Worker;
  private closing?: Promise<void>;

  constructor(
    queueName: string,
    connection: Redis,
    prefix: string,
    handler: JobHandler<T>,
    options: WorkerOptions<T> = {},
    onError: (error: Error) => void = () => {},
  ) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new TypeError(`concurrency must be an integer ≥ 1, not ${options.concurrency}`);
    }
    this.worker = new Worker(queueName, (bullJob: BullJob) => run(bullJob, handler, options), {
      connection,
      prefix,
      concurrency,
      ...(options.lockDurationMs === undefined
        ? {}
        : { lockDuration: options.lockDurationMs, stalledInterval: options.lockDurationMs }),
    });
    // Redis being unreachable is reported once per attempt by the connection, not by every worker.
    const report = options.onError ?? onError;
    this.worker.on('error', (error) => {
      if (!isRedisConnectionError(error)) report(error);
    });
  }

  /** Resolves once the worker has connected to Redis (tests wait for it; jobs wait in Redis meanwhile). */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  close(force = false): Promise<void> {
    this.closing ??= this.worker.close(force);
    return this.closing;
  }
}

async function run<T>(bullJob: BullJob, handler: JobHandler<T>, options: WorkerOptions<T>): Promise<void> {
  const job: Job<T> = {
    id: bullJob.id!,
    name: bullJob.name,
    data: bullJob.data as T,
    attempt: bullJob.attemptsMade + 1,
    attempts: bullJob.opts.attempts ?? 1,
  };
  try {
    await handler(job);
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const unrecoverable = error instanceof UnrecoverableJobError || error instanceof UnrecoverableError;
    try {
      options.onFailed?.(job, error, !unrecoverable && job.attempt < job.attempts);
    } catch {
      // a listener must not throw; its failure must not change the job's outcome
    }
    if (error instanceof UnrecoverableJobError) {
      throw Object.assign(new UnrecoverableError(error.message), { cause: error });
    }
    throw error;
  }
}
