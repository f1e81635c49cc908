import { describe, expect, test } from '@jest/globals';
import { AdaptiveBatcher, type Feeds } from './batching.js';
import { fromValues, toNested } from './domain/tensor.js';

/** A stand-in model: y = 2x row by row, recording the rows of each call; fails on a negative input. */
function doubler(delayMs = 5) {
  const calls: number[] = [];
  const run = async (feeds: Feeds): Promise<Feeds> => {
    const x = feeds.x!;
    calls.push(x.shape[0]!);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const values = Array.from(x.data as Float32Array);
    if (values.some((value) => value < 0)) throw new Error('negative input');
    return {
      y: fromValues(
        values.map((value) => value * 2),
        'float32',
        x.shape,
      ),
    };
  };
  return { calls, run };
}

const rows = (...values: number[][]): Feeds => ({
  x: fromValues(values.flat(), 'float32', [values.length, values[0]!.length]),
});

describe('AdaptiveBatcher', () => {
  test('concurrent requests run as one call and each gets its own rows back', async () => {
    const model = doubler();
    const batcher = new AdaptiveBatcher(model.run, { maxBatchSize: 16, maxWaitMs: 5 });
    const results = await Promise.all([
      batcher.submit(rows([1, 1])),
      batcher.submit(rows([2, 2], [3, 3])),
      batcher.submit(rows([4, 4])),
    ]);
    expect(model.calls).toEqual([4]);
    expect(results.map((result) => toNested(result.y!))).toEqual([
      [[2, 2]],
      [
        [4, 4],
        [6, 6],
      ],
      [[8, 8]],
    ]);
  });

  test('no call takes more than maxBatchSize rows; later requests wait for the next call', async () => {
    const model = doubler();
    const batcher = new AdaptiveBatcher(model.run, { maxBatchSize: 3, maxWaitMs: 5 });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((value) => batcher.submit(rows([value]))));
    expect(model.calls.every((count) => count <= 3)).toBe(true);
    expect(model.calls.reduce((sum, count) => sum + count, 0)).toBe(7);
  });

  test('feeds of different row shapes are not stacked together', async () => {
    const model = doubler();
    const batcher = new AdaptiveBatcher(model.run, { maxBatchSize: 16, maxWaitMs: 5 });
    const [narrow, wide] = await Promise.all([batcher.submit(rows([1])), batcher.submit(rows([1, 2]))]);
    expect(model.calls).toEqual([1, 1]);
    expect(toNested(narrow!.y!)).toEqual([[2]]);
    expect(toNested(wide!.y!)).toEqual([[2, 4]]);
  });

  test('a failing batch is retried request by request: only the bad request fails', async () => {
    const model = doubler();
    const batcher = new AdaptiveBatcher(model.run, { maxBatchSize: 16, maxWaitMs: 5 });
    const results = await Promise.allSettled([
      batcher.submit(rows([1])),
      batcher.submit(rows([-1])),
      batcher.submit(rows([3])),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(toNested((results[2] as PromiseFulfilledResult<Feeds>).value.y!)).toEqual([[6]]);
  });

  test('observes the rows of every call; drain waits for requests in flight', async () => {
    const observed: number[] = [];
    const model = doubler(20);
    const batcher = new AdaptiveBatcher(model.run, { maxBatchSize: 8, maxWaitMs: 1 }, (count) =>
      observed.push(count),
    );
    let answered = 0;
    for (let i = 0; i < 4; i++) void batcher.submit(rows([i])).then(() => answered++);
    await batcher.drain();
    expect(answered).toBe(4);
    expect(observed.reduce((sum, count) => sum + count, 0)).toBe(4);
  });
});
