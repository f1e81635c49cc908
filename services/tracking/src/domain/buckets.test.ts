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

  test('buckets of a chunk or more are whole chunks aligned to chunk edges', () => {
    const g = bucketGeometry(300, 1_000_299, 1000);
    expect(g.base % CHUNK_STEPS).toBe(0);
    expect(g.width % CHUNK_STEPS).toBe(0);
    expect(Math.ceil((g.hi - g.base + 1) / g.width)).toBeLessThanOrEqual(1000);
  });
});
