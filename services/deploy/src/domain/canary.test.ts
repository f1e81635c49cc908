import { describe, expect, it } from '@jest/globals';
import { canaryReplicaSplit } from './canary.js';

describe('canaryReplicaSplit', () => {
  it.each([
    [10, 10, { stable: 9, canary: 1, canaryPercent: 10 }],
    [4, 25, { stable: 3, canary: 1, canaryPercent: 25 }],
    [4, 1, { stable: 3, canary: 1, canaryPercent: 25 }],
    [1, 10, { stable: 1, canary: 1, canaryPercent: 50 }],
    [5, 50, { stable: 2, canary: 3, canaryPercent: 60 }],
    [3, 0, { stable: 3, canary: 0, canaryPercent: 0 }],
    [3, 100, { stable: 0, canary: 3, canaryPercent: 100 }],
  ])('%d replicas at %d %%', (replicas, percent, split) => {
    expect(canaryReplicaSplit(replicas, percent)).toEqual(split);
  });

  it('refuses out-of-range input', () => {
    expect(() => canaryReplicaSplit(0, 10)).toThrow('Canary replicas must be a positive integer, got 0.');
    expect(() => canaryReplicaSplit(2, 101)).toThrow(
      'Canary traffic percent must be an integer 0-100, got 101.',
    );
  });
});
