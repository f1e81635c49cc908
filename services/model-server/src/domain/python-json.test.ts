import { describe, expect, test } from '@jest/globals';
import { PythonJsonError, pythonJsonLoads } from './python-json.js';

describe("pythonJsonLoads (Python's json.loads)", () => {
  test('reads what JSON.parse reads, and NaN, Infinity, -Infinity', () => {
    expect(pythonJsonLoads(' {"a": [1, -2.5e3, "x\\n", true, null], "b": {}} ')).toEqual({
      a: [1, -2500, 'x\n', true, null],
      b: {},
    });
    const special = pythonJsonLoads('[NaN, Infinity, -Infinity]') as number[];
    expect(special[0]).toBeNaN();
    expect(special.slice(1)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  test('a `__proto__` key is an own key, as in a Python dict, not the prototype', () => {
    const decoded = pythonJsonLoads('{"__proto__": {"a": 1}, "b": NaN}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__', 'b']);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ a: 1 });
  });

  test.each([
    ['this is,,,, not valid json', 'Expecting value: line 1 column 1 (char 0)'],
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['{"a": ', 'Expecting value: line 1 column 7 (char 6)'],
    ['{a: 1}', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ['[1 2]', "Expecting ',' delimiter: line 1 column 4 (char 3)"],
    ['{}\n{}', 'Extra data: line 2 column 1 (char 3)'],
    ['"abc', 'Unterminated string starting at: line 1 column 1 (char 0)'],
  ])('%j: %s', (text, message) => {
    expect(() => pythonJsonLoads(text)).toThrow(PythonJsonError);
    expect(() => pythonJsonLoads(text)).toThrow(message);
  });
});
