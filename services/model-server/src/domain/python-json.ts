import { MAX_NESTING, nestedTooDeep } from './errors.js';

/**
 * Python's `json.loads`, for the request bodies `JSON.parse` refuses: Python also reads the literals
 * `NaN`, `Infinity` and `-Infinity` (what Python clients send for missing or infinite values), and
 * names a malformed document's first fault as `JSONDecodeError` does ("Expecting value: line 1 column 1
 * (char 0)"), which MLflow's scoring server quotes in its 400 (`_decode_json_input`).
 */

export class PythonJsonError extends Error {
  override name = 'JSONDecodeError';
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses as Python's `json.loads` does; throws PythonJsonError with Python's message otherwise, and
 * `nestedTooDeep` (400) for lists or objects nested more than MAX_NESTING deep (where Python fails
 * with a RecursionError), before the recursion here would overflow.
 */
export function pythonJsonLoads(text: string): unknown {
  let at = 0;
  let depth = 0;
  const nested = <T>(read: () => T): T => {
    if (++depth > MAX_NESTING) throw nestedTooDeep();
    const result = read();
    depth--;
    return result;
  };
  const fail = (message: string, position: number): never => {
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    throw new PythonJsonError(`${message}: line ${line} column ${column} (char ${position})`);
  };
  const skip = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const literal = (word: string, value: unknown): unknown | undefined => {
    if (!text.startsWith(word, at)) return undefined;
    at += word.length;
    return value;
  };
  const string = (): string => {
    const start = at;
    at++;
    let out = '';
    for (;;) {
      if (at >= text.length) fail('Unterminated string starting at', start);
      const char = text[at]!;
      if (char === '"') {
        at++;
        return out;
      }
      if (char < ' ') fail('Invalid control character at', at);
      if (char !== '\\') {
        out += char;
        at++;
        continue;
      }
      const escaped = text[at + 1];
      if (escaped === undefined) fail('Unterminated string starting at', start);
      if (escaped === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape', at + 1);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        at += 6;
        continue;
      }
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (!(escaped! in simple)) fail('Invalid \\escape', at);
      out += simple[escaped!]!;
      at += 2;
    }
  };
  const value = (): unknown => {
    const char = text[at];
    if (char === '"') return string();
    if (char === '{') return nested(object);
    if (char === '[') return nested(array);
    for (const [word, result] of [
      ['null', null],
      ['true', true],
      ['false', false],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ] as const) {
      const found = literal(word, result);
      if (found !== undefined) return found;
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (match === null) return fail('Expecting value', at);
    at = NUMBER.lastIndex;
    return Number(match[0]);
  };
  const object = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    at++;
    skip();
    if (text[at] === '}') {
      at++;
      return out;
    }
    for (;;) {
      if (text[at] !== '"') fail('Expecting property name enclosed in double quotes', at);
      const key = string();
      skip();
      if (text[at] !== ':') fail("Expecting ':' delimiter", at);
      at++;
      skip();
      // Defined, not assigned: a `__proto__` key is a key, as in Python's dict and JSON.parse.
      Object.defineProperty(out, key, {
        value: value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      skip();
      if (text[at] === '}') {
        at++;
        return out;
      }
      if (text[at] !== ',') fail("Expecting ',' delimiter", at);
      at++;
      skip();
    }
  };
  const array = (): unknown[] => {
    const out: unknown[] = [];
    at++;
    skip();
    if (text[at] === ']') {
      at++;
      return out;
    }
    for (;;) {
      out.push(value());
      skip();
      if (text[at] === ']') {
        at++;
        return out;
      }
      if (text[at] !== ',') fail("Expecting ',' delimiter", at);
      at++;
      skip();
    }
  };
  skip();
  const result = value();
  skip();
  if (at !== text.length) fail('Extra data', at);
  return result;
}
