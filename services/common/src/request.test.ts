import { describe, expect, test } from '@jest/globals';
import { checkWellFormedStrings, pythonJson, RequestReader } from './request.js';

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

/** `depth` lists around `inner`: `[[[inner]]]`. */
function nested(depth: number, inner: unknown): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('a list where a scalar field is expected', () => {
  test('in a JSON body: INVALID_PARAMETER_VALUE with the list printed, never its last item', () => {
    const reader = RequestReader.of(JSON.parse('{"name": ["b", "c"], "step": ["1", "2"]}'));
    expect(() => reader.string('name')).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMETER_VALUE',
        message:
          'Invalid value ["b","c"] for parameter \'name\' supplied:  Hint: Value was of type \'list\'. ' +
          'See the API docs for more information about request parameters.',
      }),
    );
    expect(() => reader.int64('step')).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
    expect(() => reader.id('name')).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
  });

  test('in a query string (a repeated key) the last value is kept', () => {
    // Fastify's parsed query: an object without Object.prototype, as `fast-querystring` makes it.
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { name: ['b', 'c'] });
    expect(RequestReader.of(query).string('name')).toBe('c');
    expect(RequestReader.of({ name: ['b', 'c'] }, { fromQuery: true }).string('name')).toBe('c');
    expect(() => RequestReader.of(query, { fromQuery: false }).string('name')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
    );
  });
});

describe('values nested thousands deep', () => {
  test('a wrong-typed value is INVALID_PARAMETER_VALUE, printed abbreviated beyond 32 levels', () => {
    for (const depth of [3, 1000, 5000, 100_000]) {
      const reader = RequestReader.of({
        name: nested(depth, 1),
        step: nested(depth, 'x'),
        tags: [nested(depth, 1)],
      });
      for (const read of [
        () => reader.string('name'),
        () => reader.int64('step'),
        () => reader.messageList('tags'),
      ])
        expect(read).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }));
    }
    expect(pythonJson(nested(3, { b: 1, a: [] }))).toBe('[[[{"a":[],"b":1}]]]');
    const printed = pythonJson(nested(5000, 1));
    expect(printed).toBe(`${'['.repeat(32)}[...]${']'.repeat(32)}`);
    expect(pythonJson(nested(31, { a: { b: 1 } }))).toBe(`${'['.repeat(31)}{"a":{...}}${']'.repeat(31)}`);
  });
});

describe('checkWellFormedStrings (strings with an unpaired surrogate)', () => {
  const check = (text: string) => () => checkWellFormedStrings(text, JSON.parse(text));

  test('a lone high or low surrogate, in a value or a key, at any depth: INVALID_PARAMETER_VALUE naming it', () => {
    for (const [text, path] of [
      ['{"name": "a\\ud800b"}', "'name'"],
      ['{"name": "a\\udc00"}', "'name'"],
      ['{"tags": [{"key": "k", "value": "\\uDBFF"}]}', "'tags[0].value'"],
      ['{"tags": {"\\ud800": "v"}}', "'tags'"],
      ['{"\\udfff": 1}', "'request body'"],
      [`{"deep": ${'['.repeat(5000)}"\\ud800"${']'.repeat(5000)}}`, "'deep[0][0]"],
    ] as const) {
      expect(check(text)).toThrow(
        expect.objectContaining({
          code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringContaining(`for parameter ${path}`),
        }),
      );
    }
    expect(check('{"name": "a\\ud800b"}')).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('Invalid value "a\\ud800b" for parameter \'name\' supplied:'),
      }),
    );
  });

  test('surrogate pairs, escaped or not, and text merely looking like an escape pass', () => {
    for (const text of [
      '{"name": "\\ud83d\\ude00"}',
      '{"name": "😀"}',
      '{"name": "\\\\ud800"}',
      '{"a": [1, {}]}',
    ])
      expect(check(text)).not.toThrow();
  });
});

describe('RequestReader.int32', () => {
  test("protobuf's int32 range: its ends are read, one past them is INVALID_PARAMETER_VALUE naming the field", () => {
    const reader = RequestReader.of({
      low: -(2 ** 31),
      high: '2147483647',
      over: 2 ** 31,
      under: '-2147483649',
    });
    expect([reader.int32('low'), reader.int32('high'), reader.int32('absent')]).toEqual([
      -(2 ** 31),
      2 ** 31 - 1,
      undefined,
    ]);
    expect(() => reader.int32('over')).toThrow(/Invalid value 2147483648 for parameter 'over'/);
    expect(() => reader.int32('under')).toThrow(/Invalid value "-2147483649" for parameter 'under'/);
  });
});
