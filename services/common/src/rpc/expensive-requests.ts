import { MlflowError } from '../errors.js';

export interface ExpensiveRequestLimits {
  /** Expensive requests served at once (per process); cheap ones are never held back. */
  concurrency: number;
  /** Expensive requests that may wait for a slot; beyond, 429 `REQUEST_LIMIT_EXCEEDED` at once. */
  queueSize: number;
}

/**
 * Defaults sized for a 2-core machine and a 20-connection pool: searches cannot take every connection,
 * and two of them already keep both cores busy. Measured with the tracking benchmark (20 clients of
 * 1,000-run SearchRuns and a 21st calling `runs/get`, two pairs of runs on a shared machine): 2 instead
 * of 4 cut `runs/get`'s p99 2.3–3.1× (fewer busy PostgreSQL backends ahead of its queries) for about
 * the same search throughput.
 */
export const DEFAULT_EXPENSIVE_REQUEST_LIMITS: ExpensiveRequestLimits = { concurrency: 2, queueSize: 64 };

/** The request's client went away before its answer: nobody is left to answer. */
export function clientGone(): MlflowError {
  return new MlflowError('CANCELLED', 'The client closed the connection before the response.');
}

/**
 * Admission control for expensive reads (searches, metric histories, bulk reads, artifact listings):
 * at most `concurrency` run at once, at most `queueSize` wait in arrival order, and the rest are
 * refused at once with MLflow's 429 `REQUEST_LIMIT_EXCEEDED` instead of timing out in a queue. A
 * waiting request whose client goes away leaves the queue. Cheap calls (get, log, create) do not pass
 * through it, so they keep their latency while searches pile up.
 */
export class ExpensiveRequestLimiter {
  private active = 0;
  private readonly waiting: Array<{ start: () => void; onAbort: () => void }> = [];

  constructor(readonly limits: ExpensiveRequestLimits = DEFAULT_EXPENSIVE_REQUEST_LIMITS) {}

  /** Requests running and waiting now (for metrics and tests). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /**
   * Whether a request running under the limiter is the only expensive one (none other runs or waits):
   * then it may spread its work over several connections to use idle cores; otherwise the cores are
   * busy with the others, and spreading only adds busy backends that cheap calls wait behind.
   */
  get alone(): boolean {
    return this.active <= 1 && this.waiting.length === 0;
  }

  /**
   * Takes a slot, waiting for one if need be, and returns the function that gives it back (calling it
   * again does nothing), so that work outliving its handler (a streamed answer) keeps its slot. Throws
   * 429 `REQUEST_LIMIT_EXCEEDED` when the queue is full, and `CANCELLED` when `signal` aborts first.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw clientGone();
    if (this.active >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.queueSize) {
        throw new MlflowError(
          'REQUEST_LIMIT_EXCEEDED',
          `Too many expensive requests in progress (${this.active} running, ${this.waiting.length} waiting); retry later.`,
        );
      }
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal?.removeEventListener('abort', entry.onAbort);
            resolve();
          },
          onAbort: () => {
            const at = this.waiting.indexOf(entry);
            if (at >= 0) this.waiting.splice(at, 1);
            reject(clientGone());
          },
        };
        signal?.addEventListener('abort', entry.onAbort, { once: true });
        this.waiting.push(entry);
      });
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` stays as it is.
      if (next) next.start();
      else this.active--;
    };
  }
}
