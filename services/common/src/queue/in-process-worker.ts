import { UnrecoverableJobError } from './errors/unrecoverable-job-error.js';
import type { Job, JobHandler, QueueWorker, WorkerOptions } from './types.js';

/** What an in-process worker needs from its queue (implemented by `InProcessQueue`). */
export interface InProcessJobSource<T> {
  readonly name: string;
  /** The next waiting job, now active; undefined when none waits. */
  take(): Job<T> | undefined;
  /** Records the outcome of the try `job` was: success without `error`, else retried or failed. */
  settle(job: Job<T>, error?: Error, willRetry?: boolean): void;
  detach(worker: InProcessWorker<T>): void;
}

/** Runs an in-process queue's jobs with at most `concurrency` handlers at once (see `WorkerOptions`). */
export class InProcessWorker<T> implements QueueWorker {
  private readonly running = new Set<Promise<void>>();
  private readonly concurrency: number;
  private closed = false;
  private closing?: Promise<void>;

  constructor(
    private readonly source: InProcessJobSource<T>,
    private readonly handler: JobHandler<T>,
    private readonly options: WorkerOptions<T> = {},
  ) {
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new TypeError(`concurrency must be an integer ≥ 1, not ${options.concurrency}`);
    }
  }

  /** Starts handlers for waiting jobs while below the concurrency limit (called by the queue on news). */
  pump(): void {
    while (!this.closed && this.running.size < this.concurrency) {
      const job = this.source.take();
      if (!job) return;
      const run: Promise<void> = this.run(job).finally(() => {
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(job: Job<T>): Promise<void> {
    try {
      await this.handler(job);
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      const willRetry = !(error instanceof UnrecoverableJobError) && job.attempt < job.attempts;
      try {
        this.options.onFailed?.(job, error, willRetry);
      } catch {
        // a listener must not throw; its failure must not lose the job
      }
      this.source.settle(job, error, willRetry);
      return;
    }
    this.source.settle(job);
  }

  close(force = false): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      while (!force && this.running.size > 0) await Promise.allSettled([...this.running]);
      this.source.detach(this);
    })();
    return this.closing;
  }
}
