import { randomUUID } from 'node:crypto';
import type { JobBackoff, JobOptions, KeepFinished } from './types.js';

/** Job options with every default filled in. */
export interface ResolvedJobOptions {
  jobId: string;
  attempts: number;
  backoff?: JobBackoff;
  delayMs: number;
}

/** Finished jobs are remembered 7 days, at most 10,000 per queue and outcome. */
export const DEFAULT_KEEP_FINISHED: KeepFinished = { ageMs: 7 * 24 * 3600 * 1000, count: 10_000 };

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws a TypeError unless `name` is a valid queue name (it becomes part of Redis keys). */
export function checkQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) throw new TypeError(`Invalid queue name ${JSON.stringify(name)}`);
}

/** The queue of one subscriber of an event topic (see `QueueConnection.subscribe`). */
export function subscriptionQueueName(topic: string, subscriber: string): string {
  checkQueueName(topic);
  checkQueueName(subscriber);
  return `${topic}.${subscriber}`;
}

/**
 * Merges a job's options over its queue's defaults and checks them, with BullMQ's rules so both
 * implementations accept the same jobs: a custom id is non-empty, not an integer string, has no `:`.
 */
export function resolveJobOptions(
  options: JobOptions | undefined,
  defaults: Omit<JobOptions, 'jobId'> | undefined,
): ResolvedJobOptions {
  const merged = { ...defaults, ...options };
  const jobId = merged.jobId ?? randomUUID();
  if (jobId === '' || `${Number.parseInt(jobId, 10)}` === jobId || jobId.includes(':')) {
    throw new TypeError(`Invalid job id ${JSON.stringify(jobId)}: empty, an integer, or contains ':'`);
  }
  const attempts = merged.attempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new TypeError(`attempts must be ≥ 1, not ${attempts}`);
  const delayMs = merged.delayMs ?? 0;
  if (!(delayMs >= 0)) throw new TypeError(`delayMs must be ≥ 0, not ${delayMs}`);
  if (merged.backoff && !(merged.backoff.delayMs >= 0)) {
    throw new TypeError(`backoff.delayMs must be ≥ 0, not ${merged.backoff.delayMs}`);
  }
  return { jobId, attempts, backoff: merged.backoff, delayMs };
}

/** Milliseconds before retry number `retry` (1 for the first retry), as BullMQ computes it. */
export function backoffDelayMs(backoff: JobBackoff | undefined, retry: number): number {
  if (!backoff) return 0;
  return backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** (retry - 1);
}
