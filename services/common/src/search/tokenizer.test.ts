import { describe, expect, test } from '@jest/globals';
import { evalStringList, isPythonLower, scanQuoted, tokenize } from './tokenizer.js';

describe('tokenizer', () => {
  test('quoted tokens end where sqlparse’s backtracking regexes end them', () => {
    const regexes: Record<string, RegExp> = {
      "'": /'(?:''|\\'|[^'])*'/y,
      '"': /"(?:""|\\"|[^"])*"/y,
      '`': /`(?:``|[^`])*`/y,
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (const q of Object.keys(regexes)) {
      const alphabet = [q, q, '\\', 'a', ' '];
      for (let i = 0; i < 20_000; i++) {
        const text = q + Array.from({ length: random(14) }, () => alphabet[random(alphabet.length)]).join('');
        const regex = regexes[q];
        regex.lastIndex = 0;
        const match = regex.exec(text);
        const expected = match ? match[0].length - 1 : -1;
        if (scanQuoted(text, 0, q) !== expected) {
          throw new Error(`${JSON.stringify(text)}: expected ${expected}, got ${scanQuoted(text, 0, q)}`);
        }
      }
    }
  });

  test('token kinds', () => {
    expect(
      tokenize('metrics.`a b`>=-1.5e3 AND run_id NOT IN (\'x\', "y") OR (tags.t IS NULL)').map((t) => [
        t.kind,
        t.text,
      ]),
    ).toEqual([
      ['ident', 'metrics.`a b`'],
      ['op', '>='],
      ['number', '-1.5e3'],
      ['ident', 'AND'],
      ['ident', 'run_id'],
      ['ident', 'NOT'],
      ['ident', 'IN'],
      ['list', '(\'x\', "y")'],
      ['ident', 'OR'],
      ['lparen', '('],
      ['ident', 'tags.t'],
      ['ident', 'IS'],
      ['ident', 'NULL'],
      ['rparen', ')'],
    ]);
  });

  test('Python-literal lists', () => {
    expect(evalStringList('(\'a\', "b")')).toEqual(['a', 'b']);
    expect(evalStringList("('\\x41\\u00e9\\n\\101\\t')")).toEqual(['Aé\nA\t']);
    expect(evalStringList("('a\\qb')")).toEqual(['a\\qb']);
    expect(evalStringList("('a' \"b\" 'c',)")).toEqual(['abc']);
    expect(evalStringList('()')).toBe('empty');
    expect(evalStringList('(None,)')).toBe('non-string');
    expect(evalStringList("('a\\xZZ')")).toBe('ill-formed');
    expect(evalStringList("(r'a')")).toBe('ill-formed');
  });

  test("Python's str.islower()", () => {
    expect(isPythonLower('abc123')).toBe(true);
    expect(isPythonLower('é')).toBe(true);
    expect(isPythonLower('123')).toBe(false);
    expect(isPythonLower('')).toBe(false);
    expect(isPythonLower('aBc')).toBe(false);
  });
});
