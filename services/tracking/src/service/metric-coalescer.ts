import type { MetricPoint } from '../domain/metric-values.js';

/** Most points one merged statement writes (its arrays stay small to bind and to lock). */
const MAX_MERGED_POINTS = 10_000;

interface Pending<T> {
  metrics: MetricPoint[];
  resolve: (outcome: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for metric-only log-batches: while a write to a run is in flight, the batches that
 * arrive for the same run wait and are then written together as one statement, each caller getting
 * that statement's outcome. Twenty clients logging to one run otherwise queue on the row locks of the
 * run's chunk summaries, one statement at a time; merged, one statement takes those
 * locks for all of them. A batch that arrives while nothing is in flight is written at once (no added
 * latency). Merging keeps every rule of a single batch (identical points are ignored, the latest value
 * per key is the greatest by (step, timestamp, value) over all points, as the metrics trigger keeps
 * it), and a batch that fails
 * (a deleted run) fails for every caller of the statement, as it would alone.
 */
export class MetricBatchCoalescer<T> {
  /** Runs with a write in flight, and the batches waiting for it. */
  private readonly waiting = new Map<string, Pending<T>[]>();

  /** @param write writes one run's points in one statement */
  constructor(private readonly write: (runId: string, metrics: MetricPoint[]) => Promise<T>) {}

  submit(runId: string, metrics: MetricPoint[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.waiting.get(runId);
      if (queue) {
        queue.push({ metrics, resolve, reject });
        return;
      }
      this.waiting.set(runId, [{ metrics, resolve, reject }]);
      void this.drain(runId);
    });
  }

  private async drain(runId: string): Promise<void> {
    const queue = this.waiting.get(runId)!;
    while (queue.length > 0) {
      const group = [queue.shift()!];
      let points = group[0]!.metrics.length;
      while (queue.length > 0 && points + queue[0]!.metrics.length <= MAX_MERGED_POINTS) {
        const next = queue.shift()!;
        points += next.metrics.length;
        group.push(next);
      }
      const merged = group.length === 1 ? group[0]!.metrics : group.flatMap((pending) => pending.metrics);
      try {
        const outcome = await this.write(runId, merged);
        for (const pending of group) pending.resolve(outcome);
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
    }
    this.waiting.delete(runId);
  }
}
