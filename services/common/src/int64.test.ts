import { describe, expect, test } from '@jest/globals';
import { parseInt8 } from './database.js';
import { RequestReader, toInt64 } from './request.js';
import { parseRequestJson, toWireJson } from './wire.js';

describe('int64 values', () => {
  test('request bodies read integers beyond 2^53 exactly, everything else as before', () => {
    expect(parseRequestJson('{"a":9223372036854775807,"b":-9223372036854775808,"c":1,"d":1.5}')).toEqual({
      a: 9223372036854775807n,
      b: -9223372036854775808n,
      c: 1,
      d: 1.5,
    });
    // Digits inside strings, fractions and exponents are left alone; safe integers stay numbers.
    expect(
      parseRequestJson('{"s":"12345678901234567890","f":12345678901234568.0,"e":1e30,"n":9007199254740991}'),
    ).toEqual({ s: '12345678901234567890', f: 12345678901234568, e: 1e30, n: 9007199254740991 });
    expect(parseRequestJson('{"a":NaN,"b":12345678901234567890}')).toEqual({
      a: 'NaN',
      b: 12345678901234567890n,
    });
    expect(parseRequestJson(JSON.stringify('{"a":9223372036854775807}'))).toEqual({
      a: 9223372036854775807n,
    });
  });

  test('the reader takes int64 fields exactly and refuses what int64 cannot hold', () => {
    const read = (value: unknown) => RequestReader.of({ v: value }).int64('v');
    expect(read(5)).toBe(5);
    expect(read('-3')).toBe(-3);
    expect(read('9223372036854775807')).toBe(9223372036854775807n);
    expect(read(-9223372036854775808n)).toBe(-9223372036854775808n);
    expect(read(1e18)).toBe(1000000000000000000n);
    for (const bad of ['9223372036854775808', 9223372036854775808n, 1.5, 'x', 1e19, true]) {
      expect(() => read(bad)).toThrow(/Invalid value .* for parameter 'v'/);
    }
    // Safe integers never become bigints, whatever their spelling.
    expect(toInt64('9007199254740991')).toBe(9007199254740991);
    expect(toInt64(9007199254740992n)).toBe(9007199254740992n);
  });

  test('int8 columns read as numbers when exact, else bigints; responses write bigints as integers', () => {
    expect(parseInt8('42')).toBe(42);
    expect(parseInt8('-9007199254740991')).toBe(-9007199254740991);
    expect(parseInt8('9007199254740993')).toBe(9007199254740993n);
    expect(toWireJson({ step: 9223372036854775807n, value: Number.NaN, s: 'x' })).toBe(
      '{"step":9223372036854775807,"value":"NaN","s":"x"}',
    );
    expect(toWireJson({ a: [1, -9223372036854775808n] })).toBe('{"a":[1,-9223372036854775808]}');
  });

  test('unknown enum names are ignored, unknown numbers refused', () => {
    const read = (value: unknown) => RequestReader.of({ v: value }).enumValue('v', ['A', 'B'] as const);
    expect(read('B')).toBe('B');
    expect(read(1)).toBe('A');
    expect(read('2')).toBe('B');
    expect(read('C')).toBeUndefined();
    for (const bad of [3, '0', 1.5, {}]) expect(() => read(bad)).toThrow(/Valid values are A, B/);
  });
});
