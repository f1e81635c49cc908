import { describe, expect, test } from '@jest/globals';
import {
  castArray,
  concatRows,
  flattenNested,
  fromValues,
  sliceRows,
  toFlatList,
  toNested,
} from './tensor.js';

describe('tensors', () => {
  test('nested lists flatten row-major with their shape; ragged lists throw', () => {
    expect(
      flattenNested([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ).toEqual({ shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
    expect(flattenNested(7)).toEqual({ shape: [], values: [7] });
    expect(() => flattenNested([[1], [2, 3]])).toThrow(/ragged/);
    expect(() => flattenNested([[1], 2])).toThrow(/ragged/);
  });

  test('toNested inverts the flattening; int64 and bool come back as JSON numbers and booleans', () => {
    const int64 = fromValues([1, 2, 3, 4], 'int64', [2, 2]);
    expect(toNested(int64)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(toNested(fromValues([true, false], 'bool', [2]))).toEqual([true, false]);
    expect(toFlatList(fromValues([1.5, null], 'float64', [2]))).toEqual([1.5, null]);
  });

  test('rows stack and slice back exactly', () => {
    const a = fromValues([1, 2, 3, 4], 'float32', [2, 2]);
    const b = fromValues([5, 6], 'float32', [1, 2]);
    const stacked = concatRows([a, b]);
    expect(stacked.shape).toEqual([3, 2]);
    expect(toNested(sliceRows(stacked, 2, 3))).toEqual([[5, 6]]);
    expect(toNested(sliceRows(stacked, 0, 2))).toEqual(toNested(a));
    const strings = concatRows([fromValues(['a'], 'string', [1]), fromValues(['b', 'c'], 'string', [2])]);
    expect(toNested(sliceRows(strings, 1, 3))).toEqual(['b', 'c']);
  });

  test('numeric casts keep values or refuse; strings and booleans never cast', () => {
    expect(toNested(castArray(fromValues([1.5, 2], 'float64', [2]), 'float32'))).toEqual([1.5, 2]);
    expect(toNested(castArray(fromValues([3, 4], 'int64', [2]), 'float32'))).toEqual([3, 4]);
    expect(toNested(castArray(fromValues([2, 3], 'float64', [2]), 'int64'))).toEqual([2, 3]);
    expect(() => castArray(fromValues([1.5], 'float64', [1]), 'int64')).toThrow(
      /cannot convert 1.5 to int64/,
    );
    expect(() => castArray(fromValues([null], 'float64', [1]), 'int32')).toThrow(/cannot convert/);
    expect(() => castArray(fromValues([300], 'int64', [1]), 'uint8')).toThrow(/cannot convert 300 to uint8/);
    expect(() => castArray(fromValues(['1'], 'string', [1]), 'float32')).toThrow(/cannot convert/);
    expect(() => castArray(fromValues([true], 'bool', [1]), 'float32')).toThrow(/cannot convert/);
  });
});
