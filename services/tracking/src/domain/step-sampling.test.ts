import { describe, expect, test } from '@jest/globals';
import { sampleSteps } from './step-sampling.js';

describe('sampleSteps (MLflow get-history-bulk-interval)', () => {
  test('every step when there are few', () => {
    expect(sampleSteps(new Map([['a', [3, 1, 2]]]), undefined, undefined, 10)).toEqual([1, 2, 3]);
  });

  test('evenly spaced steps plus the last step and each run’s first and last', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    const b = [5, 57];
    const steps = sampleSteps(
      new Map([
        ['a', a],
        ['b', b],
      ]),
      undefined,
      undefined,
      10,
    );
    expect(steps).toEqual([0, 5, 10, 20, 30, 40, 50, 57, 60, 70, 80, 90, 99]);
  });

  test('only steps within [start, end]', () => {
    const steps = sampleSteps(new Map([['a', [0, 10, 20, 30]]]), 10, 20, 10);
    expect(steps).toEqual([10, 20]);
  });

  test('a long series does not overflow the call stack', () => {
    const long = Array.from({ length: 300_000 }, (_, i) => i);
    expect(sampleSteps(new Map([['a', long]]), undefined, undefined, 320)).toHaveLength(321);
  });
});
