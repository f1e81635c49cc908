import { describe, expect, test } from '@jest/globals';
import { CHUNK_SHIFT } from '../store/migrations/0002-metric-chunks.js';
import { bucketGeometry, CHUNK_STEPS } from './buckets.js';

describe('bucketGeometry', () => {
  test('matches the chunk size the summaries table is partitioned by', () => {
    expect(CHUNK_STEPS).toBe(2 ** CHUNK_SHIFT);
  });

  test('narrow buckets start at the first step', () => {
    expect(bucketGeometry(10, 109, 50)).toEqual({ lo: 10, hi: 109, base: 10, width: 2 });
  });

  test('chunksOnly: buckets a chunk wide at least, though maxPoints would allow narrower', () => {
    expect(bucketGeometry(10, 10_009, 1000, { chunksOnly: true })).toEqual({
      lo: 10,
      hi: 10_009,
      base: 0,
      width: CHUNK_STEPS,
    });
    expect(bucketGeometry(10, 1_000_009, 1000, { chunksOnly: true })).toEqual(
      bucketGeometry(10, 1_000_009, 1000),
    );
  });

  test('buckets of a chunk or more are whole chunks aligned to chunk edges', () => {
    const g = bucketGeometry(300, 1_000_299, 1000);
    expect(g.base % CHUNK_STEPS).toBe(0);
    expect(g.width % CHUNK_STEPS).toBe(0);
    expect(Math.ceil((g.hi - g.base + 1) / g.width)).toBeLessThanOrEqual(1000);
  });
});
