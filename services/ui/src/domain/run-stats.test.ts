import { describe, expect, test } from '@jest/globals';
import { boxGroups, boxStats, NO_GROUP, paramImportance, pearson, quantile } from './run-stats.js';

const run = (values: Record<string, number | string>) => ({ values: new Map(Object.entries(values)) });

describe('box statistics', () => {
  test('quartiles interpolate between order statistics (numpy.percentile default)', () => {
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([7], 0.75)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  test('whiskers stop at the furthest values within 1.5 IQR; the rest are outliers', () => {
    const stats = boxStats([10, 1, 2, 3, 4, 5, -20]);
    expect(stats).toEqual({
      count: 7,
      min: -20,
      q1: 1.5,
      median: 3,
      q3: 4.5,
      max: 10,
      lowWhisker: 1,
      highWhisker: 5,
      outliers: [-20, 10],
    });
    expect(() => boxStats([])).toThrow(RangeError);
  });

  test('groups by a param value: numeric labels in number order, runs without the key last', () => {
    const runs = [
      run({ 'p:batch': '64', 'm:loss': 0.5 }),
      run({ 'p:batch': '8', 'm:loss': 0.25 }),
      run({ 'p:batch': '8', 'm:loss': 0.75 }),
      run({ 'p:batch': '64', 'm:loss': 'NaN' }),
      run({ 'm:loss': 1 }),
      run({ 'p:batch': '16' }),
    ];
    const groups = boxGroups(runs, 'm:loss', 'p:batch');
    expect(groups.map((g) => [g.group, g.stats.count, g.stats.median])).toEqual([
      ['8', 2, 0.5],
      ['64', 1, 0.5],
      [NO_GROUP, 1, 1],
    ]);
    expect(boxGroups(runs, 'm:loss').map((g) => [g.group, g.stats.count])).toEqual([['', 4]]);
    expect(
      boxGroups(
        [run({ 'p:opt': 'sgd', 'p:lr': '1' }), run({ 'p:opt': 'adam', 'p:lr': '3' })],
        'p:lr',
        'p:opt',
      ).map((g) => g.group),
    ).toEqual(['adam', 'sgd']);
  });
});

describe('parameter importance', () => {
  test('pearson is ±1 on lines, undefined without variance or pairs', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [6, 4, 2])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(pearson([1], [1])).toBeUndefined();
  });

  test('numeric params sorted by |r|; categorical, constant and too-rare params left out', () => {
    const runs = [1, 2, 3, 4].map((i) =>
      run({
        'p:lr': String(i),
        'p:dropout': String([1, 3, 2, 4][i - 1]),
        'p:decay': String(-i),
        'p:optimizer': 'adam',
        'p:seed': '7',
        'm:loss': i * 10,
        ...(i <= 2 ? { 'p:rare': String(i) } : {}),
      }),
    );
    runs.push(run({ 'p:lr': '5' })); // no metric: not counted
    expect(paramImportance(runs, 'm:loss')).toEqual([
      { key: 'p:decay', correlation: expect.closeTo(-1, 12), runs: 4 },
      { key: 'p:lr', correlation: expect.closeTo(1, 12), runs: 4 },
      { key: 'p:dropout', correlation: expect.closeTo(0.8, 12), runs: 4 },
    ]);
    // A param with a non-numeric value anywhere is categorical.
    runs.push(run({ 'p:lr': 'auto', 'm:loss': 3 }));
    expect(paramImportance(runs, 'm:loss').map((p) => p.key)).toEqual(['p:decay', 'p:dropout']);
  });
});
