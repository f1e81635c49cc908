import { concatRows, type NdArray, sameRowShape, sliceRows } from './domain/tensor.js';

export type Feeds = Record<string, NdArray>;
/** Runs feeds through the model: synchronously (the native flavors) or not. */
export type RunFeeds = (feeds: Feeds) => Feeds | Promise<Feeds>;

export interface BatchingOptions {
  /** The most rows one inference call takes (a larger request runs alone). */
  maxBatchSize: number;
  /**
   * How long a request waits for others while the model is idle, in ms; 0: until the requests that
   * arrived with it are read (the end of the event loop's I/O phase), without a timer.
   */
  maxWaitMs: number;
}

interface Pending {
  feeds: Feeds;
  rows: number;
  resolve: (outputs: Feeds) => void;
  reject: (error: unknown) => void;
}

/** The rows of a request's feeds (the first dimension, the same for every feed). */
function rowsOf(feeds: Feeds): number {
  return Object.values(feeds)[0]?.shape[0] ?? 0;
}

/** Whether two requests' feeds can be stacked: the same inputs, each with the same dtype and row shape. */
function compatible(a: Feeds, b: Feeds): boolean {
  const names = Object.keys(a);
  return (
    names.length === Object.keys(b).length &&
    names.every((name) => b[name] !== undefined && sameRowShape(a[name]!, b[name]!))
  );
}

/**
 * Adaptive batching: concurrent requests are stacked along the first dimension into one inference
 * call and the outputs split back by rows. The model runs one call at a time; requests arriving
 * while it runs wait and go together in the next call, up to `maxBatchSize` rows. When the model is
 * idle, the first request waits at most `maxWaitMs` for company (none when a batch is already full).
 * A request whose feeds do not stack with the first waiting one goes in a later call. If a batched
 * call fails, or an output cannot be split by rows, each request of it runs alone, so one bad
 * request fails only itself.
 */
export class AdaptiveBatcher {
  readonly #queue: Pending[] = [];
  #running = false;
  /** Cancels the pending wait for company, when one is pending. */
  #cancelWait: (() => void) | undefined;
  /** Callers of `drain` waiting for the queue to empty and the model to be idle. */
  #idle: Array<() => void> = [];

  constructor(
    private readonly run: RunFeeds,
    private readonly options: BatchingOptions,
    /** Called with the rows of each inference call made (for the batch-size histogram). */
    private readonly onBatch: (rows: number) => void = () => {},
  ) {}

  /** Runs the feeds, batched with other requests; resolves to this request's rows of every output. */
  submit(feeds: Feeds): Promise<Feeds> {
    return new Promise<Feeds>((resolve, reject) => {
      this.#queue.push({ feeds, rows: rowsOf(feeds), resolve, reject });
      this.#schedule();
    });
  }

  #queuedRows(): number {
    return this.#queue.reduce((sum, pending) => sum + pending.rows, 0);
  }

  #schedule(): void {
    if (this.#running || this.#queue.length === 0) return;
    if (this.#queuedRows() >= this.options.maxBatchSize) {
      this.#dispatch();
      return;
    }
    if (this.#cancelWait !== undefined) return;
    if (this.options.maxWaitMs > 0) {
      const timer = setTimeout(() => this.#dispatch(), this.options.maxWaitMs);
      this.#cancelWait = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.#dispatch());
      this.#cancelWait = () => clearImmediate(immediate);
    }
  }

  /** Takes the next batch off the queue: the first request and the compatible ones after it that fit. */
  #take(): Pending[] {
    const first = this.#queue.shift()!;
    const batch = [first];
    let rows = first.rows;
    for (let index = 0; index < this.#queue.length && rows < this.options.maxBatchSize; ) {
      const candidate = this.#queue[index]!;
      if (rows + candidate.rows <= this.options.maxBatchSize && compatible(first.feeds, candidate.feeds)) {
        batch.push(candidate);
        rows += candidate.rows;
        this.#queue.splice(index, 1);
      } else index++;
    }
    return batch;
  }

  #dispatch(): void {
    this.#cancelWait?.();
    this.#cancelWait = undefined;
    if (this.#running || this.#queue.length === 0) return;
    this.#running = true;
    const batch = this.#take();
    void this.#runBatch(batch).finally(() => {
      this.#running = false;
      // Requests that queued during the call have waited already: run them now.
      if (this.#queue.length > 0) this.#dispatch();
      else for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      await this.#runAlone(batch[0]!);
      return;
    }
    const names = Object.keys(batch[0]!.feeds);
    const stacked = Object.fromEntries(
      names.map((name) => [name, concatRows(batch.map((p) => p.feeds[name]!))]),
    );
    const total = batch.reduce((sum, pending) => sum + pending.rows, 0);
    let outputs: Feeds;
    try {
      this.onBatch(total);
      outputs = await this.run(stacked);
    } catch {
      for (const pending of batch) await this.#runAlone(pending);
      return;
    }
    if (!Object.values(outputs).every((output) => output.shape[0] === total)) {
      for (const pending of batch) await this.#runAlone(pending);
      return;
    }
    let start = 0;
    for (const pending of batch) {
      const end = start + pending.rows;
      pending.resolve(
        Object.fromEntries(
          Object.entries(outputs).map(([name, output]) => [name, sliceRows(output, start, end)]),
        ),
      );
      start = end;
    }
  }

  async #runAlone(pending: Pending): Promise<void> {
    try {
      this.onBatch(pending.rows);
      pending.resolve(await this.run(pending.feeds));
    } catch (error) {
      pending.reject(error);
    }
  }

  /** Waits until every request submitted so far has been answered. */
  async drain(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }
}
