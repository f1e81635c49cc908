/**
 * The MLflow search-filter grammar, shared by every searchable entity (runs, experiments, logged models,
 * registered models, model versions, webhooks). `parseFilter` reads a filter string into a small AST that
 * a store translates to SQL (`filterToSql` in `store/search-sql.ts`); what differs per entity (identifier
 * prefixes, attribute keys, numeric vs string values, comparators, MLflow's messages) comes in as a
 * {@link FilterEntity}. Every filter MLflow accepts parses to the same meaning as in MLflow's
 * `mlflow/utils/search_utils.py`; Mast additionally accepts `OR` and parentheses (`AND` binds tighter than
 * `OR`). `NOT` (other than in `NOT IN` / `IS NOT NULL`) stays rejected. Bad input always raises
 * `MlflowError` INVALID_PARAMETER_VALUE with MLflow's message. Pure code: no I/O.
 */
import { MlflowError } from '../errors.js';
import {
  evalStringList,
  isQuotedString,
  type Keyword,
  SearchSyntaxError,
  splitIdentifier,
  stripQuotes,
  type Token,
  tokenize,
  trimBackticks,
  unquoteKey,
} from './tokenizer.js';

export type Comparator =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'LIKE'
  | 'ILIKE'
  | 'IN'
  | 'NOT IN'
  | 'IS NULL'
  | 'IS NOT NULL';

/**
 * One `<identifier> <comparator> <value>` test on an entity whose identifier types are `T` (`'metric'`,
 * `'tag'`, `'attribute'`...). `key` is canonical (attribute aliases resolved, quotes removed). `value` is a
 * number for numeric rules, a string for string comparisons (LIKE patterns verbatim), a string list for
 * `IN` / `NOT IN` (possibly empty when the rule's `listFilter` drops every item), and `null` for
 * `IS NULL` / `IS NOT NULL`.
 */
export interface Comparison<T extends string = string> {
  type: T;
  key: string;
  comparator: Comparator;
  value: string | number | string[] | null;
}

/**
 * A filter tree. `parseFilter` returns the normal form: `and`/`or` nodes have at least two children and
 * never a child of their own kind; a lone comparison is returned as a `comparison` node.
 */
export type FilterNode<T extends string = string> =
  | { kind: 'comparison'; comparison: Comparison<T> }
  | { kind: 'and'; children: FilterNode<T>[] }
  | { kind: 'or'; children: FilterNode<T>[] };

/** Deepest parenthesis nesting accepted (guards the recursive parser's stack). */
export const MAX_FILTER_NESTING = 50;

export const NUMERIC_COMPARATORS: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
export const STRING_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
export const LIST_COMPARATORS: readonly Comparator[] = ['IN', 'NOT IN'];

// ---------------------------------------------------------------------------------------------------------
// The extension point: what an entity contributes
// ---------------------------------------------------------------------------------------------------------

/** A resolved left-hand side: `key` canonical, `writtenKey` as MLflow reports it in messages. */
export interface ResolvedIdentifier<T extends string = string> {
  type: T;
  key: string;
  writtenKey: string;
}

/** How a comparison's value is read and which comparators it allows. */
export interface ValueRule {
  kind: 'number' | 'string';
  /** Accepts a parenthesised list after IN / NOT IN. */
  lists: boolean;
  comparators: readonly Comparator[];
  /** Message for a value of the wrong kind, given the value as written. */
  wrongValue: (raw: string) => string;
  /** Message for a list where lists are not allowed (defaults to `wrongValue`). */
  noList?: string;
  /** Message for a comparator outside `comparators`, given the comparator as written. */
  wrongComparator: (comparator: string) => string;
  /** Keeps only the list items MLflow keeps (MLflow's `run_id` lists drop items that are not lowercase). */
  listFilter?: (item: string) => boolean;
  /** Accepts an unquoted number as the string it spells (logged models: MLflow's SQL store does). */
  numberAsString?: boolean;
}

/** What one searchable entity adds to the grammar; `T` is the union of its identifier types. */
export interface FilterEntity<T extends string> {
  /** Resolves an identifier as written (`tags.\`a b\``, `status`), throwing MLflow's error when unknown. */
  resolve(raw: string): ResolvedIdentifier<T>;
  /** Message when IS [NOT] NULL is used on an identifier that does not support it, or undefined if OK. */
  nullCheck(id: ResolvedIdentifier<T>): string | undefined;
  rule(id: ResolvedIdentifier<T>): ValueRule;
}

function invalid(message: string): MlflowError {
  return MlflowError.invalidParameter(message);
}

function invalidClause(fragments: readonly string[]): MlflowError {
  return invalid(`Invalid clause(s) in filter string: ${fragments.map((f) => `'${f}'`).join(', ')}`);
}

/** Python's `repr` of a set of strings, as MLflow's messages print one: `{'a', 'b'}`. */
function setRepr(items: readonly string[]): string {
  return `{${items.map((item) => `'${item}'`).join(', ')}}`;
}

/** MLflow's error for a key outside `valid`: `Invalid attribute key 'x' specified. Valid keys are '{...}'`. */
export function unknownKeyError(kind: string, key: string, valid: readonly string[]): MlflowError {
  return invalid(`Invalid ${kind} key '${key}' specified. Valid keys are '${setRepr(valid)}'`);
}

/** MLflow's message for a comparator outside `allowed` (`SearchUtils._get_comparison`'s). */
export function invalidComparator(allowed: readonly Comparator[]): (comparator: string) => string {
  return (comparator) => `Invalid comparator '${comparator}' not one of '${setRepr(allowed)}'`;
}

/** A numeric attribute (`start_time`, `creation_time`): unquoted numbers, compared with `=, !=, <, >...`. */
export function numericAttributeRule(
  writtenKey: string,
  wrongComparator: (comparator: string) => string = invalidComparator(NUMERIC_COMPARATORS),
): ValueRule {
  return {
    kind: 'number',
    lists: false,
    comparators: NUMERIC_COMPARATORS,
    wrongValue: (raw) => `Expected numeric value type for numeric attribute: ${writtenKey}. Found ${raw}`,
    wrongComparator,
  };
}

/**
 * A key/value entry (params, tags): quoted strings compared with `=, !=, LIKE, ILIKE`, plus `IN` / `NOT IN`
 * when `lists`. `typeName` is the type as MLflow's messages name it (`parameter`, `tag`).
 */
export function keyValueRule(typeName: string, lists: boolean): ValueRule {
  const comparators = lists ? [...STRING_COMPARATORS, ...LIST_COMPARATORS] : STRING_COMPARATORS;
  return {
    kind: 'string',
    lists,
    comparators,
    wrongValue: (raw) => `Expected a quoted string value for ${typeName} (e.g. 'my-value'). Got value ${raw}`,
    wrongComparator: invalidComparator(comparators),
  };
}

/** The identifiers of an entity read the way MLflow's `SearchUtils._get_identifier` reads them. */
export interface IdentifierRules<T extends string> {
  /** Entity type of each prefix, MLflow's aliases included (`metrics` → `metric`, `attr` → `attribute`). */
  types: Readonly<Record<string, T>>;
  /** The valid types as MLflow's error lists them, e.g. `['metric', 'parameter', 'tag', 'attribute']`. */
  typeNames: string;
  /** Attribute keys accepted (aliases included), in the order MLflow's error lists them. */
  attributes: readonly string[];
  /** Canonical key of each attribute alias (`created` → `start_time`). */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * Resolves `<type>.<key>` or a bare attribute key as MLflow's `SearchUtils._get_identifier` does: split
 * at the first dot, the type looked up after dropping backticks, the key unquoted (`"a b"`, `` `a b` ``);
 * bare keys are attributes, checked against `rules.attributes` and resolved through `rules.aliases`.
 * Throws MLflow's INVALID_PARAMETER_VALUE for an unknown type or attribute key.
 */
export function resolveIdentifier<T extends string>(
  raw: string,
  rules: IdentifierRules<T>,
): ResolvedIdentifier<T | 'attribute'> {
  const split = splitIdentifier(raw);
  let type: T | 'attribute' = 'attribute';
  if (split.type !== undefined) {
    const written = trimBackticks(split.type);
    if (!Object.hasOwn(rules.types, written)) {
      throw invalid(`Invalid entity type '${written}'. Valid values are ${rules.typeNames}`);
    }
    type = rules.types[written];
  }
  const key = unquoteKey(split.key);
  if (type !== 'attribute') return { type, key, writtenKey: key };
  if (!rules.attributes.includes(key)) throw unknownKeyError('attribute', key, rules.attributes);
  return { type, key: rules.aliases?.[key] ?? key, writtenKey: key };
}

// ---------------------------------------------------------------------------------------------------------
// Values and comparators
// ---------------------------------------------------------------------------------------------------------

/** The right-hand side as written: a value token, or nothing for IS [NOT] NULL. */
type RawValue = Token | null;

/** The list items of a `list` token, or an MLflow error. */
function listItems(token: Token): string[] {
  const items = evalStringList(token.text);
  if (items === 'ill-formed') {
    throw invalid(
      'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    );
  }
  if (items === 'empty') {
    throw invalid(
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    );
  }
  if (items === 'non-string') {
    throw invalid(
      `While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ${token.text}`,
    );
  }
  return items;
}

function buildComparison<T extends string>(
  entity: FilterEntity<T>,
  lhs: Token,
  written: string,
  value: RawValue,
): Comparison<T> {
  const id = entity.resolve(lhs.text);
  const comparator = written.toUpperCase();
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') {
    const problem = entity.nullCheck(id);
    if (problem) throw invalid(problem);
    return { type: id.type, key: id.key, comparator, value: null };
  }
  if (value === null) throw invalidClause([lhs.text, written]);
  const rule = entity.rule(id);
  let parsed: string | number | string[];
  if (rule.kind === 'number') {
    if (value.kind !== 'number') throw invalid(rule.wrongValue(value.text));
    parsed = Number(value.text);
  } else if (value.kind === 'list') {
    if (!rule.lists) throw invalid(rule.noList ?? rule.wrongValue(value.text));
    const items = listItems(value);
    parsed = rule.listFilter ? items.filter(rule.listFilter) : items;
  } else if (value.kind === 'string' || value.kind === 'ident') {
    if (!isQuotedString(value.text)) {
      throw invalid(
        `Parameter value is either not quoted or unidentified quote types used for string value ${value.text}. Use either single or double quotes.`,
      );
    }
    parsed = stripQuotes(value.text);
  } else if (value.kind === 'number' && rule.numberAsString) {
    parsed = value.text;
  } else {
    throw invalid(rule.wrongValue(value.text));
  }
  if (!(rule.comparators as readonly string[]).includes(comparator)) {
    throw invalid(rule.wrongComparator(written));
  }
  return { type: id.type, key: id.key, comparator: comparator as Comparator, value: parsed };
}

// ---------------------------------------------------------------------------------------------------------
// Grammar
// ---------------------------------------------------------------------------------------------------------

/**
 * Recursive-descent parser over the token list.
 *
 * - MLflow mode (no `OR`, no grouping parentheses): MLflow's rule exactly — comparisons separated by
 *   `AND`, with stray `AND`s ignored (`AND a > 1`, `a > 1 AND`, `a > 1 AND AND b < 2` are accepted, as
 *   MLflow accepts them).
 * - Extended mode (the filter uses `OR` or parentheses): `or := and (OR and)*`, `and := primary (AND
 *   primary)*`, `primary := '(' or ')' | comparison`, strictly — no empty operands.
 */
class FilterParser<T extends string> {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly entity: FilterEntity<T>,
  ) {}

  parse(): FilterNode<T> | undefined {
    const extended = this.tokens.some((t) => t.keyword === 'OR' || t.kind === 'lparen');
    const node = extended ? this.parseOr(0) : this.parseAndList();
    const rest = this.peek();
    if (rest !== undefined) {
      throw rest.kind === 'rparen'
        ? invalid(`Invalid clause(s) in filter string: unbalanced parenthesis at position ${rest.start}`)
        : invalidClause(this.tokens.slice(this.pos).map((t) => t.text));
    }
    return node;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private isKeyword(token: Token | undefined, keyword: Keyword): boolean {
    return token?.keyword === keyword;
  }

  /** MLflow mode: `AND`-separated comparisons, stray `AND`s tolerated. */
  private parseAndList(): FilterNode<T> | undefined {
    const children: FilterNode<T>[] = [];
    for (;;) {
      while (this.isKeyword(this.peek(), 'AND')) this.pos++;
      if (this.peek() === undefined) break;
      children.push(this.parseComparison());
      if (this.peek() === undefined) break;
      if (!this.isKeyword(this.peek(), 'AND')) break;
    }
    if (children.length === 0) return undefined;
    return children.length === 1 ? children[0] : { kind: 'and', children };
  }

  private parseOr(depth: number): FilterNode<T> {
    return this.parseJoined('or', () => this.parseAnd(depth));
  }

  private parseAnd(depth: number): FilterNode<T> {
    return this.parseJoined('and', () => this.parsePrimary(depth));
  }

  /** `operand (<kind> operand)*`, strictly. */
  private parseJoined(kind: 'and' | 'or', operand: () => FilterNode<T>): FilterNode<T> {
    const keyword = kind === 'and' ? 'AND' : 'OR';
    const children = [operand()];
    while (this.isKeyword(this.peek(), keyword)) {
      this.pos++;
      children.push(operand());
    }
    return combine(kind, children);
  }

  private parsePrimary(depth: number): FilterNode<T> {
    const token = this.peek();
    if (token?.kind !== 'lparen') return this.parseComparison();
    if (depth >= MAX_FILTER_NESTING) {
      throw invalid(
        `Invalid clause(s) in filter string: parentheses nested deeper than ${MAX_FILTER_NESTING}`,
      );
    }
    this.pos++;
    if (this.peek()?.kind === 'rparen') throw invalidClause(['()']);
    const node = this.parseOr(depth + 1);
    const close = this.peek();
    if (close?.kind !== 'rparen') {
      throw close === undefined
        ? invalid(`Invalid clause(s) in filter string: unbalanced parenthesis at position ${token.start}`)
        : invalidClause(this.clauseFrom(this.pos));
    }
    this.pos++;
    return node;
  }

  /** Texts of the tokens from `start` up to the end of that clause (next AND / OR / paren). */
  private clauseFrom(start: number): string[] {
    const texts: string[] = [];
    for (let i = start; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (
        i > start &&
        (t.keyword === 'AND' || t.keyword === 'OR' || t.kind === 'lparen' || t.kind === 'rparen')
      ) {
        break;
      }
      texts.push(t.text);
    }
    return texts.length > 0 ? texts : ['<end of filter>'];
  }

  private parseComparison(): FilterNode<T> {
    const start = this.pos;
    const fail = (): MlflowError => invalidClause(this.clauseFrom(start));
    const lhs = this.peek();
    if (lhs === undefined) throw invalidClause(this.clauseFrom(Math.max(0, start - 1)));
    const next = this.peek(1);
    if (
      (lhs.kind === 'number' || lhs.kind === 'string') &&
      (next?.kind === 'op' || next?.keyword === 'LIKE' || next?.keyword === 'ILIKE' || next?.keyword === 'IN')
    ) {
      throw invalid(`Invalid comparison clause. Expected 'Identifier' found '${lhs.text}'`);
    }
    // Every keyword but ASC / DESC (order_by words) has a role in a filter, so it cannot be an identifier.
    const keyword = lhs.keyword;
    if (lhs.kind !== 'ident' || (keyword !== undefined && keyword !== 'ASC' && keyword !== 'DESC'))
      throw fail();
    this.pos++;

    const op = this.peek();
    let comparator: string;
    let value: RawValue = null;
    if (op?.kind === 'op' || op?.keyword === 'LIKE' || op?.keyword === 'ILIKE') {
      this.pos++;
      comparator = op.text;
      const v = this.peek();
      if (
        v === undefined ||
        !(v.kind === 'string' || v.kind === 'number' || v.kind === 'ident') ||
        v.keyword
      ) {
        throw fail();
      }
      value = v;
      this.pos++;
    } else if (op?.keyword === 'IN' || (op?.keyword === 'NOT' && this.isKeyword(this.peek(1), 'IN'))) {
      comparator = op.keyword === 'IN' ? 'IN' : 'NOT IN';
      this.pos += op.keyword === 'IN' ? 1 : 2;
      const list = this.peek();
      if (list?.kind !== 'list') throw fail();
      value = list;
      this.pos++;
    } else if (op?.keyword === 'IS') {
      const negated = this.isKeyword(this.peek(1), 'NOT');
      if (!this.isKeyword(this.peek(negated ? 2 : 1), 'NULL')) throw fail();
      comparator = negated ? 'IS NOT NULL' : 'IS NULL';
      this.pos += negated ? 3 : 2;
    } else {
      throw fail();
    }
    return { kind: 'comparison', comparison: buildComparison(this.entity, lhs, comparator, value) };
  }
}

function combine<T extends string>(kind: 'and' | 'or', nodes: FilterNode<T>[]): FilterNode<T> {
  if (nodes.length === 1) return nodes[0];
  const children: FilterNode<T>[] = [];
  for (const node of nodes) {
    if (node.kind === kind) children.push(...node.children);
    else children.push(node);
  }
  return { kind, children };
}

/**
 * Parses a search filter over `entity`; undefined when the filter is absent or blank (match all). Throws
 * `MlflowError` INVALID_PARAMETER_VALUE with MLflow's message for anything it does not accept, `;`
 * included (MLflow: "Search filter contained multiple expression").
 */
export function parseFilter<T extends string>(
  filter: string | undefined,
  entity: FilterEntity<T>,
): FilterNode<T> | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  let tokens: Token[];
  try {
    tokens = tokenize(filter);
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw invalidClause([error.fragment]);
    throw error;
  }
  if (tokens.some((t) => t.kind === 'semicolon')) {
    throw invalid(`Search filter contained multiple expression '${filter}'. Provide AND-ed expression list.`);
  }
  return new FilterParser(tokens, entity).parse();
}
