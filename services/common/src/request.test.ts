import { describe, expect, test } from '@jest/globals';
import { RequestReader } from './request.js';

describe('RequestReader.stringMap (map<string, string> fields)', () => {
  test('a JSON object of strings; absent or null is empty', () => {
    const reader = RequestReader.of({ tags: { a: '1', 'b c': '' }, none: null });
    expect(reader.stringMap('tags')).toEqual({ a: '1', 'b c': '' });
    expect(reader.stringMap('none')).toEqual({});
    expect(reader.stringMap('missing')).toEqual({});
    // A `__proto__` tag key is kept as a key (JSON.parse makes it an own property; so must the copy).
    const proto = RequestReader.of(JSON.parse('{"tags": {"__proto__": "x"}}')).stringMap('tags');
    expect(Object.entries(proto)).toEqual([['__proto__', 'x']]);
  });

  test('anything else is INVALID_PARAMETER_VALUE naming the field', () => {
    const reader = RequestReader.of({ list: ['a'], text: 'a', number: { k: 1 }, nul: { k: 'a\u0000' } });
    for (const [field, path] of [
      ['list', "'list'"],
      ['text', "'text'"],
      ['number', "'number.k'"],
      ['nul', "'nul.k'"],
    ]) {
      expect(() => reader.stringMap(field!)).toThrow(
        expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(path!) }),
      );
    }
  });
});
