import { describe, expect, test } from '@jest/globals';
import { latestPerKey, supersedes } from './metric-values.js';

const point = (step: number, timestamp: number, value: number) => ({ key: 'k', step, timestamp, value });

describe('latest metric value', () => {
  test('orders by step, then timestamp, then value, NaN highest', () => {
    expect(supersedes(point(2, 0, 0), point(1, 9, 9))).toBe(true);
    expect(supersedes(point(1, 2, 0), point(1, 1, 9))).toBe(true);
    expect(supersedes(point(1, 1, 2), point(1, 1, 1))).toBe(true);
    expect(supersedes(point(1, 1, Number.NaN), point(1, 1, 1))).toBe(true);
    expect(supersedes(point(1, 1, 1), point(1, 1, Number.NaN))).toBe(false);
  });

  test('one point per key', () => {
    const latest = latestPerKey([
      point(1, 1, 1),
      { ...point(0, 5, 5), key: 'j' },
      point(3, 0, 0),
      point(2, 9, 9),
    ]);
    expect(latest).toEqual([point(3, 0, 0), { ...point(0, 5, 5), key: 'j' }]);
  });
});
