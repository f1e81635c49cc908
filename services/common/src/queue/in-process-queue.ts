import { QueueClosedError } from './errors/queue-closed-error.js';
import { InProcessWorker } from './in-process-worker.js';
import { backoffDelayMs, type ResolvedJobOptions, resolveJobOptions } from './job-options.js';
import type {
  Job,
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

interface JobRecord<T> {
  id: string;
  name: string;
  /** The data as JSON, as Redis would store it: each try gets a fresh copy. */
  json: string | undefined;
  options: ResolvedJobOptions;
  state: JobState;
  attemptsMade: number;
  failedReason?: string;
  finishedAt?: number;
  timer?: NodeJS.Timeout;
  /** The try that is running (state `active`). */
  current?: Job<T>;
}

/**
 * A queue held in this process's memory, with the semantics of the BullMQ one as far as the contract
 * suite goes: id deduplication while a job is remembered (`keepFinished`), tries with backoff,
 * `UnrecoverableJobError` fails at once, per-worker concurrency, FIFO order of waiting jobs. Data is
 * copied through JSON, as Redis does. Nothing survives the process: jobs waiting or delayed at `close()`
 * are dropped (an outbox keeps its events until they are published, not until they are consumed).
 */
export class InProcessQueue<T = unknown> implements JobQueue<T> {
  private readonly jobs = new Map<string, JobRecord<T>>();
  private readonly waiting: JobRecord<T>[] = [];
  private readonly finished: Record<'completed' | 'failed', JobRecord<T>[]> = { completed: [], failed: [] };
  private readonly workers = new Set<InProcessWorker<T>>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly options: QueueOptions = {},
    private readonly keepFinished: KeepFinished,
  ) {}

  async add(name: string, data: T, options?: JobOptions): Promise<string> {
    if (this.closed) throw new QueueClosedError(this.name);
    const resolved = resolveJobOptions(options, this.options.defaultJobOptions);
    this.prune(Date.now());
    if (this.jobs.has(resolved.jobId)) return resolved.jobId;
    const record: JobRecord<T> = {
      id: resolved.jobId,
      name,
      json: data === undefined ? undefined : JSON.stringify(data),
      options: resolved,
      state: 'waiting',
      attemptsMade: 0,
    };
    this.jobs.set(record.id, record);
    if (resolved.delayMs > 0) this.delay(record, resolved.delayMs);
    else this.enqueue(record);
    return record.id;
  }

  process(handler: JobHandler<T>, options?: WorkerOptions<T>): QueueWorker {
    if (this.closed) throw new QueueClosedError(this.name);
    const worker = new InProcessWorker<T>(
      {
        name: this.name,
        take: () => this.take(),
        settle: (job, error, willRetry) => this.settle(job, error, willRetry),
        detach: (w) => this.workers.delete(w),
      },
      handler,
      options,
    );
    this.workers.add(worker);
    worker.pump();
    return worker;
  }

  async getJob(id: string): Promise<JobInfo<T> | undefined> {
    this.prune(Date.now());
    const record = this.jobs.get(id);
    if (!record) return undefined;
    const info: JobInfo<T> = {
      id: record.id,
      name: record.name,
      data: parse<T>(record.json),
      state: record.state,
      attemptsMade: record.attemptsMade,
    };
    if (record.failedReason !== undefined) info.failedReason = record.failedReason;
    return info;
  }

  async getCounts(): Promise<JobCounts> {
    this.prune(Date.now());
    const counts: JobCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
    for (const record of this.jobs.values()) counts[record.state] += 1;
    return counts;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers].map((worker) => worker.close()));
    for (const record of this.jobs.values()) clearTimeout(record.timer);
  }

  private enqueue(record: JobRecord<T>): void {
    record.state = 'waiting';
    record.timer = undefined;
    this.waiting.push(record);
    for (const worker of this.workers) worker.pump();
  }

  private delay(record: JobRecord<T>, ms: number): void {
    record.state = 'delayed';
    record.timer = setTimeout(() => this.enqueue(record), ms);
  }

  private take(): Job<T> | undefined {
    const record = this.waiting.shift();
    if (!record) return undefined;
    record.state = 'active';
    record.current = {
      id: record.id,
      name: record.name,
      data: parse<T>(record.json),
      attempt: record.attemptsMade + 1,
      attempts: record.options.attempts,
    };
    return record.current;
  }

  private settle(job: Job<T>, error?: Error, willRetry = false): void {
    const record = this.jobs.get(job.id);
    if (!record || record.current !== job) return;
    record.current = undefined;
    record.attemptsMade += 1;
    if (error) record.failedReason = error.message;
    if (error && willRetry) {
      const ms = backoffDelayMs(record.options.backoff, record.attemptsMade);
      if (ms > 0 && !this.closed) this.delay(record, ms);
      else this.enqueue(record);
      return;
    }
    const outcome = error ? 'failed' : 'completed';
    record.state = outcome;
    record.finishedAt = Date.now();
    this.finished[outcome].push(record);
    this.prune(record.finishedAt);
  }

  /** Forgets finished jobs beyond `keepFinished` (their ids can then be added again). */
  private prune(now: number): void {
    for (const list of Object.values(this.finished)) {
      while (
        list.length > 0 &&
        (list.length > this.keepFinished.count || list[0].finishedAt! <= now - this.keepFinished.ageMs)
      ) {
        const record = list.shift()!;
        if (this.jobs.get(record.id) === record) this.jobs.delete(record.id);
      }
    }
  }
}

function parse<T>(json: string | undefined): T {
  return (json === undefined ? undefined : JSON.parse(json)) as T;
}
