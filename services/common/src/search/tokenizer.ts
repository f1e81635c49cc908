/**
 * Lexical layer of MLflow search strings, shared by the filter and order_by parsers of every entity: a
 * hand-written, linear-time tokenizer that reproduces how MLflow's `sqlparse`-based parser splits search
 * strings (quoting rules included), plus the helpers MLflow applies to identifiers (`_strip_quotes`,
 * `_trim_backticks` in `mlflow/utils/search_utils.py`) and a small evaluator for the Python-literal lists
 * MLflow reads with `ast.literal_eval` (`IN ('a', "b")`). Pure code: no I/O.
 */

/** Words with a grammatical role; they only count as keywords when written bare (unquoted, no dot). */
export type Keyword = 'AND' | 'OR' | 'NOT' | 'IN' | 'IS' | 'NULL' | 'LIKE' | 'ILIKE' | 'ASC' | 'DESC';

const KEYWORDS: ReadonlySet<string> = new Set<Keyword>([
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'LIKE',
  'ILIKE',
  'ASC',
  'DESC',
]);

/**
 * - `ident`: a dotted chain of segments (bare words, `"double-quoted"` or `` `backticked` `` parts), e.g.
 *   `metrics."model class"`; a single double-quoted part (`"x"`) is also an `ident`, as in sqlparse.
 * - `string`: a single-quoted literal; `number`: an unsigned or negative decimal literal.
 * - `op`: a run of comparison characters (`=`, `!=`, `>=`, `<>`, `~`...), validated later.
 * - `list`: the whole parenthesised text after `IN` / `NOT IN`, parens included.
 */
export type TokenKind =
  | 'ident'
  | 'string'
  | 'number'
  | 'op'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'list'
  | 'semicolon';

export interface Token {
  kind: TokenKind;
  /** The token exactly as written. */
  text: string;
  start: number;
  end: number;
  /** Set for a bare single-word `ident` spelling a keyword (any case). */
  keyword?: Keyword;
}

/** Thrown by the tokenizer; the parsers turn it into their own INVALID_PARAMETER_VALUE message. */
export class SearchSyntaxError extends Error {
  /** The offending text, quoted the way MLflow lists invalid clauses. */
  readonly fragment: string;

  constructor(fragment: string) {
    super(`Invalid clause(s) in filter string: '${fragment}'`);
    this.name = 'SearchSyntaxError';
    this.fragment = fragment;
  }
}

const WORD_START = /[\p{L}\p{N}\p{M}_]/u;
const WORD_CHAR = /[\p{L}\p{N}\p{M}_$#]/u;
const OP_CHAR = /[<>=!~]/;
const SPACE = /\s/u;
// No nested quantifiers: matching is linear.
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/y;

function isWordStart(c: string | undefined): boolean {
  return c !== undefined && WORD_START.test(c);
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && WORD_CHAR.test(c);
}

/**
 * Index of the quote closing the quoted token that opens at `start`, or -1. Mirrors sqlparse's
 * backtracking regexes `'(''|\\'|[^'])*'`, `"(""|\\"|[^"])*"` and `` `(``|[^`])*` ``: a doubled quote
 * (and, unless `q` is a backtick, a backslash-quote) continues the token; if the text ends first, the
 * regex backs off its last such escape, which then closes the token. Linear time (at most two passes).
 */
export function scanQuoted(s: string, start: number, q: string): number {
  const backslash = q !== '`';
  let from = start + 1;
  for (let pass = 0; pass < 2; pass++) {
    let lastEscape = -1;
    let lastWasBackslash = false;
    let j = from;
    while (j < s.length) {
      const c = s[j];
      if (c === q) {
        if (s[j + 1] !== q) return j;
        lastEscape = j;
        lastWasBackslash = false;
        j += 2;
      } else if (backslash && c === '\\' && s[j + 1] === q) {
        lastEscape = j;
        lastWasBackslash = true;
        j += 2;
      } else {
        j++;
      }
    }
    if (lastEscape < 0) return -1;
    if (!lastWasBackslash) return lastEscape;
    // The backslash is re-read as an ordinary character; the quote after it is then reachable again.
    from = lastEscape + 1;
  }
  // Unreachable: when the first pass backs off a backslash escape at p, the character at p + 2 is not a
  // quote (else that pass would have closed or recorded a later escape), so the second pass closes at p + 1.
  return -1;
}

/** One segment of an identifier chain starting at `i`; returns the index after it. */
function scanSegment(s: string, i: number): number {
  const c = s[i];
  if (c === '"' || c === '`') {
    const close = scanQuoted(s, i, c);
    if (close < 0) throw new SearchSyntaxError(s.slice(i));
    return close + 1;
  }
  let j = i;
  while (isWordChar(s[j])) j++;
  return j;
}

function scanIdentifierChain(s: string, i: number): number {
  let j = scanSegment(s, i);
  while (s[j] === '.') {
    const next = s[j + 1];
    if (next === '"' || next === '`' || isWordChar(next)) {
      j = scanSegment(s, j + 1);
    } else {
      throw new SearchSyntaxError(s.slice(i, j + 1));
    }
  }
  return j;
}

/** The balanced `( ... )` group opening at `i` (quotes respected); returns the index after it. */
function scanList(s: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j];
    if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) return j + 1;
    } else if (c === "'" || c === '"' || c === '`') {
      const close = scanQuoted(s, j, c);
      if (close < 0) throw new SearchSyntaxError(s.slice(j));
      j = close;
    }
    j++;
  }
  throw new SearchSyntaxError(s.slice(i));
}

function keywordOf(text: string): Keyword | undefined {
  const upper = text.toUpperCase();
  return KEYWORDS.has(upper) ? (upper as Keyword) : undefined;
}

/** Splits a search string into tokens; throws {@link SearchSyntaxError} on text it cannot tokenize. */
export function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, keyword?: Keyword): void => {
    const token: Token = { kind, text: s.slice(start, end), start, end };
    if (keyword) token.keyword = keyword;
    tokens.push(token);
  };
  while (i < s.length) {
    const c = s[i];
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      const close = scanQuoted(s, i, c);
      if (close < 0) throw new SearchSyntaxError(s.slice(i));
      push('string', i, close + 1);
      i = close + 1;
      continue;
    }
    if (c === '"' || c === '`' || isWordStart(c) || c === '-' || c === '.') {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(s);
      if (number) {
        const end = i + number[0].length;
        if (!isWordChar(s[end]) && s[end] !== '.') {
          push('number', i, end);
          i = end;
          continue;
        }
        if (!isWordStart(c)) throw new SearchSyntaxError(s.slice(i, end + 1));
        // Digits followed by word characters (`0x1F`, `2nd`): a word, as sqlparse reads it.
      }
      if (c === '-' || c === '.') throw new SearchSyntaxError(c);
      const end = scanIdentifierChain(s, i);
      const text = s.slice(i, end);
      const bare = isWordStart(c) && !text.includes('.');
      push('ident', i, end, bare ? keywordOf(text) : undefined);
      i = end;
      const last = tokens[tokens.length - 1];
      if (last.keyword === 'IN') {
        let k = end;
        while (k < s.length && SPACE.test(s[k])) k++;
        if (s[k] === '(') {
          const listEnd = scanList(s, k);
          push('list', k, listEnd);
          i = listEnd;
        }
      }
      continue;
    }
    if (OP_CHAR.test(c)) {
      let j = i;
      while (j < s.length && OP_CHAR.test(s[j])) j++;
      push('op', i, j);
      i = j;
      continue;
    }
    if (c === '(') push('lparen', i, i + 1);
    else if (c === ')') push('rparen', i, i + 1);
    else if (c === ',') push('comma', i, i + 1);
    else if (c === ';') push('semicolon', i, i + 1);
    else throw new SearchSyntaxError(String.fromCodePoint(s.codePointAt(i) ?? 0));
    i++;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------
// Identifier helpers (MLflow's SearchUtils semantics, applied to the raw identifier text).
// ---------------------------------------------------------------------------------------------------------

function isQuotedWith(value: string, q: string): boolean {
  return value.length >= 2 && value.startsWith(q) && value.endsWith(q);
}

/** MLflow's `_trim_backticks`: drops one pair of enclosing backticks. */
export function trimBackticks(value: string): string {
  return isQuotedWith(value, '`') ? value.slice(1, -1) : value;
}

/** MLflow's `_strip_quotes` without the "expect quoted" check: drops one pair of enclosing `'` or `"`. */
export function stripQuotes(value: string): string {
  return isQuotedWith(value, "'") || isQuotedWith(value, '"') ? value.slice(1, -1) : value;
}

/** Whether MLflow's `_strip_quotes(value, expect_quoted_value=True)` accepts `value`. */
export function isQuotedString(value: string): boolean {
  return isQuotedWith(value, "'") || isQuotedWith(value, '"');
}

/** MLflow's `identifier.split(".", 1)` on the raw identifier text (quotes are not special here). */
export function splitIdentifier(raw: string): { type: string | undefined; key: string } {
  const dot = raw.indexOf('.');
  return dot < 0 ? { type: undefined, key: raw } : { type: raw.slice(0, dot), key: raw.slice(dot + 1) };
}

/** MLflow's key cleanup: `_trim_backticks(_strip_quotes(key))`. */
export function unquoteKey(key: string): string {
  return trimBackticks(stripQuotes(key));
}

// ---------------------------------------------------------------------------------------------------------
// Python-literal lists: `('a', "b",)` as `ast.literal_eval` reads them.
// ---------------------------------------------------------------------------------------------------------

/** Why {@link evalStringList} rejected a list. */
export type ListProblem = 'ill-formed' | 'empty' | 'non-string';

type PyValue = { kind: 'str'; value: string } | { kind: 'tuple'; items: PyValue[] } | { kind: 'other' };

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class ListSyntax extends Error {}

/** A tiny recursive-descent reader for the tuple-of-strings subset of Python literals. */
class PyLiteralReader {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  read(): PyValue {
    const value = this.expr();
    this.skipSpace();
    if (this.pos !== this.text.length) throw new ListSyntax();
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && SPACE.test(this.text[this.pos])) this.pos++;
  }

  private expr(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '(') return this.group();
    if (c === "'" || c === '"') {
      let value = '';
      while (this.text[this.pos] === "'" || this.text[this.pos] === '"') {
        value += this.stringLiteral();
        this.skipSpace();
      }
      return { kind: 'str', value };
    }
    const start = this.pos;
    while (this.pos < this.text.length && !/[\s(),'"]/.test(this.text[this.pos])) this.pos++;
    if (this.pos === start) throw new ListSyntax();
    return { kind: 'other' };
  }

  private group(): PyValue {
    if (++this.depth > 32) throw new ListSyntax();
    this.pos++; // (
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ')') break;
      items.push(this.expr());
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        sawComma = true;
        this.pos++;
      } else if (this.text[this.pos] !== ')') {
        throw new ListSyntax();
      }
    }
    this.pos++; // )
    this.depth--;
    return items.length === 1 && !sawComma ? items[0] : { kind: 'tuple', items };
  }

  /** A single- or double-quoted Python string with its escapes applied (no prefixes, no raw strings). */
  private stringLiteral(): string {
    const q = this.text[this.pos++];
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) throw new ListSyntax();
      const c = this.text[this.pos++];
      if (c === q) return out;
      if (c === '\n' || c === '\r') throw new ListSyntax();
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.escape();
    }
  }

  private escape(): string {
    const e = this.text[this.pos++];
    if (e === undefined) throw new ListSyntax();
    if (e === '\n') return '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    if (/[0-7]/.test(e)) {
      let digits = e;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) digits += this.text[this.pos++];
      return String.fromCodePoint(Number.parseInt(digits, 8));
    }
    const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) throw new ListSyntax();
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw new ListSyntax();
      this.pos += hexLength;
      return String.fromCodePoint(code);
    }
    if (e === 'N') throw new ListSyntax(); // \N{NAME}: not supported
    return `\\${e}`; // unknown escapes keep their backslash, as in Python
  }
}

/**
 * Reads the text of a parenthesised list (`('a', "b")`) the way MLflow does with `ast.literal_eval`:
 * Python string escapes apply, adjacent literals concatenate, a trailing comma is allowed, and a lone
 * string counts as a one-element list. Returns the strings, or the reason the list is unacceptable.
 */
export function evalStringList(text: string): string[] | ListProblem {
  let value: PyValue;
  try {
    value = new PyLiteralReader(text).read();
  } catch (error) {
    if (error instanceof ListSyntax) return 'ill-formed';
    throw error;
  }
  const items = value.kind === 'tuple' ? value.items : [value];
  if (items.length === 0) return 'empty';
  const strings: string[] = [];
  for (const item of items) {
    if (item.kind !== 'str') return 'non-string';
    strings.push(item.value);
  }
  return strings;
}

/** Python's `str.islower()`: at least one cased character and no upper- or title-case one. */
export function isPythonLower(value: string): boolean {
  let cased = false;
  for (const c of value) {
    if (c !== c.toLowerCase()) return false;
    if (c !== c.toUpperCase()) cased = true;
  }
  return cased;
}
