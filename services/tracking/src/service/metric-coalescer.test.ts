import { describe, expect, test } from '@jest/globals';
import type { MetricPoint } from '../domain/metric-values.js';
import { MetricBatchCoalescer } from './metric-coalescer.js';

const point = (key: string, step: number): MetricPoint => ({ key, step, timestamp: 1, value: step });

describe('MetricBatchCoalescer', () => {
  test('batches that arrive while a write is in flight are written together, each caller answered', async () => {
    const calls: Array<{ runId: string; metrics: MetricPoint[] }> = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const coalescer = new MetricBatchCoalescer(async (runId, metrics) => {
      const call = calls.push({ runId, metrics });
      if (call === 1) await firstHeld;
      return call;
    });
    const first = coalescer.submit('r', [point('a', 0)]);
    const second = coalescer.submit('r', [point('a', 2), point('b', 1)]);
    const third = coalescer.submit('r', [point('a', 1)]);
    const otherRun = coalescer.submit('s', [point('a', 5)]);
    release();
    expect(await Promise.all([first, second, third, otherRun])).toEqual([1, 3, 3, 2]);
    expect(calls.map((call) => [call.runId, call.metrics.length])).toEqual([
      ['r', 1],
      ['s', 1],
      ['r', 3],
    ]);
    // Every merged point, in arrival order.
    expect(calls[2]!.metrics).toEqual([point('a', 2), point('b', 1), point('a', 1)]);
  });

  test('a failed merged write fails every batch in it, and later batches still run', async () => {
    let fail = true;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const coalescer = new MetricBatchCoalescer(async () => {
      await held;
      if (fail) {
        fail = false;
        throw new Error('run deleted');
      }
      return 'ok';
    });
    const first = coalescer.submit('r', [point('a', 0)]);
    const second = coalescer.submit('r', [point('a', 1)]);
    release();
    await expect(first).rejects.toThrow('run deleted');
    await expect(second).resolves.toBe('ok');
    await expect(coalescer.submit('r', [point('a', 2)])).resolves.toBe('ok');
  });
});
