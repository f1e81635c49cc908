import { describe, expect, test } from '@jest/globals';
import { numpyRepr, numpyStr, pandasStr, pyException, pyLabels, pyNumber, pyRepr, pyStr } from './python.js';

describe("Python's text forms (as MLflow's messages print values)", () => {
  test('repr of str, numbers, None, lists and dicts', () => {
    expect(pyStr('a')).toBe("'a'");
    expect(pyStr("it's")).toBe('"it\'s"');
    expect([1, 2.5, 1e-5, Number.NaN].map((value) => pyNumber(value))).toEqual(['1', '2.5', '1e-05', 'nan']);
    expect(pyNumber(1e16, true)).toBe('1e+16');
    expect(pyNumber(3, true)).toBe('3.0');
    // -0.0 keeps its sign in Python's and numpy's text, and in pandas' (JS prints it as 0).
    expect(pyNumber(-0, true)).toBe('-0.0');
    expect(numpyStr([-0, 0], true)).toBe('[-0. 0.]');
    expect(pandasStr(['a'], [[-0, 0.5]], 2, [true])).toBe('      a\n0  -0.0\n1   0.5');
    expect(pyRepr({ a: [null, true, 'x'] })).toBe("{'a': [None, True, 'x']}");
    expect(pyLabels(['f0', 0])).toBe("['f0', 0]");
    expect(pyException('ValueError', "could not convert string to float: 'x'")).toBe(
      'ValueError("could not convert string to float: \'x\'")',
    );
  });

  test("numpy's str and repr of arrays, summarized past 1000 elements", () => {
    expect(numpyStr([[1, 2.5]], true)).toBe('[[1. 2.5]]');
    expect(numpyStr([1, 2], false)).toBe('[1 2]');
    expect(numpyRepr([0.123456789], true)).toBe('array([0.12345679])');
    expect(
      numpyStr(
        Array.from({ length: 1001 }, (_, i) => i),
        false,
      ),
    ).toBe('[0 1 2 ... 998 999 1000]');
  });

  test("pandas' str of a DataFrame: aligned columns, float decimals, the empty form", () => {
    expect(
      pandasStr(
        ['f0', 'g'],
        [
          [1, 0.25],
          ['x', 'yy'],
        ],
        2,
        [true, false],
      ),
    ).toBe('     f0   g\n0  1.00   x\n1  0.25  yy');
    expect(pandasStr(['a'], [[]], 0)).toBe('Empty DataFrame\nColumns: [a]\nIndex: []');
    const long = pandasStr(['a'], [Array.from({ length: 61 }, (_, i) => i)], 61);
    expect(long).toBe(
      '     a\n0    0\n1    1\n2    2\n3    3\n4    4\n..  ..\n56  56\n57  57\n58  58\n59  59\n60  60\n\n[61 rows x 1 columns]',
    );
  });
});
