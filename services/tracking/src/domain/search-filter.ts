/**
 * Parsers for MLflow search filters (spec §5.1, §5.3, §1.5) producing a small AST that the storage layer
 * translates to SQL. Every filter MLflow accepts parses to the same meaning; Mast additionally accepts
 * `OR` and parentheses (`AND` binds tighter than `OR`). `NOT` (other than in `NOT IN` / `IS NOT NULL`)
 * stays rejected. Bad input always raises `MlflowError` INVALID_PARAMETER_VALUE. Pure code: no I/O.
 */
import { MlflowError } from '@mast/common';
import {
  evalStringList,
  isPythonLower,
  isQuotedString,
  type Keyword,
  SearchSyntaxError,
  splitIdentifier,
  stripQuotes,
  type Token,
  tokenize,
  trimBackticks,
  unquoteKey,
} from './search-tokenizer.js';

export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

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
 * One `<identifier> <comparator> <value>` test. `key` is canonical (attribute aliases resolved, quotes
 * removed). `value` is a number for metrics and numeric attributes, a string for string comparisons
 * (LIKE patterns verbatim), a string list for `IN` / `NOT IN` (possibly empty: see `run_id`), and
 * `null` for `IS NULL` / `IS NOT NULL`.
 */
export interface Comparison {
  type: EntityType;
  key: string;
  comparator: Comparator;
  value: string | number | string[] | null;
}

/**
 * A filter tree. Parsers return the normal form: `and`/`or` nodes have at least two children and never
 * a child of their own kind; a lone comparison is returned as a `comparison` node.
 */
export type FilterNode =
  | { kind: 'comparison'; comparison: Comparison }
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] };

/** Deepest parenthesis nesting accepted (guards the recursive parser's stack). */
export const MAX_FILTER_NESTING = 50;

const NUMERIC_COMPARATORS: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const LIST_COMPARATORS: readonly Comparator[] = ['IN', 'NOT IN'];

function setRepr(items: readonly string[]): string {
  return `{${items.map((item) => `'${item}'`).join(', ')}}`;
}

function invalid(message: string): MlflowError {
  return MlflowError.invalidParameter(message);
}

function invalidClause(fragments: readonly string[]): MlflowError {
  return invalid(`Invalid clause(s) in filter string: ${fragments.map((f) => `'${f}'`).join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------------------

/** A resolved left-hand side: `key` canonical, `writtenKey` as MLflow reports it in messages. */
export interface ResolvedIdentifier {
  type: EntityType;
  key: string;
  writtenKey: string;
}

const RUN_ENTITY_TYPES: Readonly<Record<string, EntityType>> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'param',
  parameters: 'param',
  param: 'param',
  params: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** MLflow's names for the entity types, as its messages print them. */
const MLFLOW_TYPE_NAME: Readonly<Record<EntityType, string>> = {
  metric: 'metric',
  param: 'parameter',
  tag: 'tag',
  attribute: 'attribute',
  dataset: 'dataset',
};

const RUN_STRING_ATTRIBUTES = ['run_id', 'run_name', 'user_id', 'status', 'artifact_uri'] as const;
const RUN_ATTRIBUTE_ALIASES: Readonly<Record<string, string>> = {
  'run name': 'run_name',
  'Run name': 'run_name',
  'Run Name': 'run_name',
  created: 'start_time',
  Created: 'start_time',
};
const RUN_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set(['start_time', 'end_time', 'created', 'Created']);
/** Attribute keys valid in run filters (MLflow's VALID_SEARCH_ATTRIBUTE_KEYS, aliases included). */
const RUN_FILTER_ATTRIBUTES: readonly string[] = [
  ...RUN_STRING_ATTRIBUTES,
  'start_time',
  'end_time',
  ...Object.keys(RUN_ATTRIBUTE_ALIASES),
].sort();
/** Attribute keys valid in run order_by (MLflow's VALID_ORDER_BY_ATTRIBUTE_KEYS). */
const RUN_ORDER_BY_ATTRIBUTES: readonly string[] = [
  ...RUN_STRING_ATTRIBUTES,
  'start_time',
  'end_time',
  'created',
  'Created',
].sort();
const DATASET_KEYS: readonly string[] = ['context', 'digest', 'name'];

function runEntityType(raw: string, valid: Readonly<Record<string, EntityType>>, names: string): EntityType {
  const written = trimBackticks(raw);
  const type = Object.hasOwn(valid, written) ? valid[written] : undefined;
  if (type === undefined) throw invalid(`Invalid entity type '${written}'. Valid values are ${names}`);
  return type;
}

/**
 * Resolves a run identifier as MLflow's `SearchUtils._get_identifier` does: split at the first dot, type
 * aliases (backticks allowed), key unquoted; bare keys are attributes. Attribute aliases are resolved.
 */
export function resolveRunIdentifier(raw: string, purpose: 'filter' | 'order_by'): ResolvedIdentifier {
  const split = splitIdentifier(raw);
  const type =
    split.type === undefined
      ? 'attribute'
      : runEntityType(split.type, RUN_ENTITY_TYPES, "['metric', 'parameter', 'tag', 'attribute', 'dataset']");
  const key = unquoteKey(split.key);
  if (type === 'attribute') {
    const valid = purpose === 'filter' ? RUN_FILTER_ATTRIBUTES : RUN_ORDER_BY_ATTRIBUTES;
    if (!valid.includes(key)) {
      throw invalid(`Invalid attribute key '${key}' specified. Valid keys are '${setRepr(valid)}'`);
    }
    return { type, key: RUN_ATTRIBUTE_ALIASES[key] ?? key, writtenKey: key };
  }
  if (type === 'dataset' && !DATASET_KEYS.includes(key)) {
    throw invalid(`Invalid dataset key '${key}' specified. Valid keys are '${setRepr(DATASET_KEYS)}'`);
  }
  return { type, key, writtenKey: key };
}

const EXPERIMENT_FILTER_ATTRIBUTES: readonly string[] = ['creation_time', 'last_update_time', 'name'];
const EXPERIMENT_ORDER_BY_ATTRIBUTES: readonly string[] = [
  'creation_time',
  'experiment_id',
  'last_update_time',
  'name',
];
const EXPERIMENT_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set(['creation_time', 'last_update_time']);

/**
 * Resolves an experiment identifier as MLflow's `SearchExperimentsUtils._get_identifier` does: bare
 * keys are attributes; the only prefixes are exactly `attribute`, `tag` and `tags`.
 */
export function resolveExperimentIdentifier(raw: string, purpose: 'filter' | 'order_by'): ResolvedIdentifier {
  const split = splitIdentifier(raw);
  let type: EntityType = 'attribute';
  if (split.type !== undefined) {
    if (split.type !== 'attribute' && split.type !== 'tag' && split.type !== 'tags') {
      throw invalid(
        `Invalid entity type '${split.type}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    }
    type = split.type === 'attribute' ? 'attribute' : 'tag';
  }
  const key = unquoteKey(split.key);
  const valid = purpose === 'filter' ? EXPERIMENT_FILTER_ATTRIBUTES : EXPERIMENT_ORDER_BY_ATTRIBUTES;
  if (type === 'attribute' && !valid.includes(key)) {
    throw invalid(`Invalid attribute key '${key}' specified. Valid keys are '${setRepr(valid)}'`);
  }
  return { type, key, writtenKey: key };
}

const LOGGED_MODEL_ENTITY_TYPES: Readonly<Record<string, EntityType>> = Object.fromEntries(
  Object.entries(RUN_ENTITY_TYPES).filter(([, type]) => type !== 'dataset'),
);
const LOGGED_MODEL_ATTRIBUTE_ALIASES: Readonly<Record<string, string>> = {
  creation_time: 'creation_timestamp',
  last_updated_time: 'last_updated_timestamp',
};
const LOGGED_MODEL_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set([
  'creation_timestamp',
  'creation_time',
  'last_updated_timestamp',
  'last_updated_time',
]);
const LOGGED_MODEL_ATTRIBUTES: readonly string[] = [
  'name',
  'model_id',
  'model_type',
  'status',
  'source_run_id',
  ...LOGGED_MODEL_NUMERIC_ATTRIBUTES,
].sort();

/** Resolves a logged-model identifier: run-style prefixes (no datasets), §1.5 attributes. */
export function resolveLoggedModelIdentifier(raw: string): ResolvedIdentifier {
  const split = splitIdentifier(raw);
  const type =
    split.type === undefined
      ? 'attribute'
      : runEntityType(split.type, LOGGED_MODEL_ENTITY_TYPES, "['metric', 'parameter', 'tag', 'attribute']");
  const key = unquoteKey(split.key);
  if (type === 'attribute') {
    if (!LOGGED_MODEL_ATTRIBUTES.includes(key)) {
      throw invalid(
        `Invalid attribute key '${key}' specified. Valid keys are '${setRepr(LOGGED_MODEL_ATTRIBUTES)}'`,
      );
    }
    return { type, key: LOGGED_MODEL_ATTRIBUTE_ALIASES[key] ?? key, writtenKey: key };
  }
  return { type, key, writtenKey: key };
}

// ---------------------------------------------------------------------------------------------------------
// Values and comparators, per domain
// ---------------------------------------------------------------------------------------------------------

/** The right-hand side as written: a value token, or nothing for IS [NOT] NULL. */
type RawValue = Token | null;

/** How a comparison's value is read and which comparators it allows. */
interface ValueRule {
  kind: 'number' | 'string';
  /** Accepts a parenthesised list after IN / NOT IN. */
  lists: boolean;
  comparators: readonly Comparator[];
  /** Message for a value of the wrong kind. */
  wrongValue: (raw: string) => string;
  /** Message for a list where lists are not allowed (defaults to `wrongValue`). */
  noList?: string;
  /** Message for a comparator outside `comparators`. */
  wrongComparator: (comparator: string) => string;
  /** Keeps only list items MLflow keeps (`run_id` drops items that are not lowercase). */
  listFilter?: (item: string) => boolean;
  /** Accepts an unquoted number as the string it spells (logged models: MLflow's SQL store does). */
  numberAsString?: boolean;
}

interface FilterDomain {
  resolve(raw: string): ResolvedIdentifier;
  /** Message when IS [NOT] NULL is used on an identifier that does not support it, or undefined if OK. */
  nullCheck(id: ResolvedIdentifier): string | undefined;
  rule(id: ResolvedIdentifier): ValueRule;
}

function mlflowComparatorError(allowed: readonly Comparator[]) {
  return (comparator: string): string =>
    `Invalid comparator '${comparator}' not one of '${setRepr(allowed)}'`;
}

const METRIC_RULE: ValueRule = {
  kind: 'number',
  lists: false,
  comparators: NUMERIC_COMPARATORS,
  wrongValue: (raw) => `Expected numeric value type for metric. Found ${raw}`,
  wrongComparator: mlflowComparatorError(NUMERIC_COMPARATORS),
};

function keyValueRule(id: ResolvedIdentifier, lists: boolean): ValueRule {
  const comparators = lists ? [...STRING_COMPARATORS, ...LIST_COMPARATORS] : STRING_COMPARATORS;
  return {
    kind: 'string',
    lists,
    comparators,
    wrongValue: (raw) =>
      `Expected a quoted string value for ${MLFLOW_TYPE_NAME[id.type]} (e.g. 'my-value'). Got value ${raw}`,
    wrongComparator: mlflowComparatorError(comparators),
  };
}

function numericAttributeRule(id: ResolvedIdentifier, wrongComparator?: (c: string) => string): ValueRule {
  return {
    kind: 'number',
    lists: false,
    comparators: NUMERIC_COMPARATORS,
    wrongValue: (raw) => `Expected numeric value type for numeric attribute: ${id.writtenKey}. Found ${raw}`,
    wrongComparator: wrongComparator ?? mlflowComparatorError(NUMERIC_COMPARATORS),
  };
}

const RUN_ID_ONLY_LISTS =
  "Only the 'run_id' attribute supports comparison with a list of quoted string values.";

const RUN_DOMAIN: FilterDomain = {
  resolve: (raw) => resolveRunIdentifier(raw, 'filter'),
  nullCheck: (id) =>
    id.type === 'tag' || id.type === 'param'
      ? undefined
      : `IS NULL / IS NOT NULL is only supported for tags and params, not for '${MLFLOW_TYPE_NAME[id.type]}' '${id.writtenKey}'`,
  rule(id) {
    switch (id.type) {
      case 'metric':
        return METRIC_RULE;
      case 'param':
      case 'tag':
        return keyValueRule(id, false);
      case 'dataset': {
        const comparators = [...STRING_COMPARATORS, ...LIST_COMPARATORS];
        return {
          kind: 'string',
          lists: true,
          comparators,
          wrongValue: (raw) => `Expected a quoted string value for dataset attributes. Got value ${raw}`,
          wrongComparator: mlflowComparatorError(comparators),
        };
      }
      case 'attribute': {
        if (RUN_NUMERIC_ATTRIBUTES.has(id.writtenKey)) return numericAttributeRule(id);
        const isRunId = id.key === 'run_id';
        const comparators = isRunId ? [...STRING_COMPARATORS, ...LIST_COMPARATORS] : STRING_COMPARATORS;
        return {
          kind: 'string',
          lists: isRunId,
          comparators,
          wrongValue: (raw) => `Expected a quoted string value for attributes. Got value ${raw}`,
          noList: RUN_ID_ONLY_LISTS,
          wrongComparator: mlflowComparatorError(comparators),
          listFilter: isRunId ? isPythonLower : undefined,
        };
      }
    }
  },
};

const EXPERIMENT_DOMAIN: FilterDomain = {
  resolve: (raw) => resolveExperimentIdentifier(raw, 'filter'),
  nullCheck: (id) =>
    id.type === 'tag'
      ? undefined
      : `IS NULL / IS NOT NULL is only supported for tags, not for attribute '${id.writtenKey}'`,
  rule(id) {
    if (id.type === 'tag') {
      return { ...keyValueRule(id, false), wrongComparator: (c) => `Invalid comparator for tag: ${c}` };
    }
    if (EXPERIMENT_NUMERIC_ATTRIBUTES.has(id.key)) {
      return numericAttributeRule(id, (c) => `Invalid comparator for numeric attribute: ${c}`);
    }
    return {
      kind: 'string',
      lists: false,
      comparators: STRING_COMPARATORS,
      wrongValue: (raw) => `Expected a quoted string value for attributes. Got value ${raw}`,
      noList: RUN_ID_ONLY_LISTS,
      wrongComparator: (c) => `Invalid comparator for string attribute: ${c}`,
    };
  },
};

const LOGGED_MODEL_DOMAIN: FilterDomain = {
  resolve: resolveLoggedModelIdentifier,
  nullCheck: RUN_DOMAIN.nullCheck,
  rule(id) {
    if (id.type === 'metric') return METRIC_RULE;
    if (id.type === 'attribute' && LOGGED_MODEL_NUMERIC_ATTRIBUTES.has(id.key))
      return numericAttributeRule(id);
    const base =
      id.type === 'attribute'
        ? {
            ...keyValueRule(id, true),
            wrongValue: (raw: string) => `Expected a quoted string value for attributes. Got value ${raw}`,
          }
        : keyValueRule(id, true);
    return { ...base, numberAsString: true };
  },
};

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

function buildComparison(domain: FilterDomain, lhs: Token, written: string, value: RawValue): Comparison {
  const id = domain.resolve(lhs.text);
  const comparator = written.toUpperCase();
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') {
    const problem = domain.nullCheck(id);
    if (problem) throw invalid(problem);
    return { type: id.type, key: id.key, comparator, value: null };
  }
  if (value === null) throw invalidClause([lhs.text, written]);
  const rule = domain.rule(id);
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

const CLAUSE_KEYWORDS: ReadonlySet<Keyword | undefined> = new Set<Keyword>([
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'LIKE',
  'ILIKE',
]);

/**
 * Recursive-descent parser over the token list.
 *
 * - MLflow mode (no `OR`, no grouping parentheses): MLflow's rule exactly — comparisons separated by
 *   `AND`, with stray `AND`s ignored (`AND a > 1`, `a > 1 AND`, `a > 1 AND AND b < 2` are accepted, as
 *   MLflow accepts them).
 * - Extended mode (the filter uses `OR` or parentheses): `or := and (OR and)*`, `and := primary (AND
 *   primary)*`, `primary := '(' or ')' | comparison`, strictly — no empty operands.
 */
class FilterParser {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly domain: FilterDomain,
  ) {}

  parse(): FilterNode | undefined {
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
  private parseAndList(): FilterNode | undefined {
    const children: FilterNode[] = [];
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

  private parseOr(depth: number): FilterNode {
    const children = [this.parseAnd(depth)];
    while (this.isKeyword(this.peek(), 'OR')) {
      this.pos++;
      children.push(this.parseAnd(depth));
    }
    return combine('or', children);
  }

  private parseAnd(depth: number): FilterNode {
    const children = [this.parsePrimary(depth)];
    while (this.isKeyword(this.peek(), 'AND')) {
      this.pos++;
      children.push(this.parsePrimary(depth));
    }
    return combine('and', children);
  }

  private parsePrimary(depth: number): FilterNode {
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

  private parseComparison(): FilterNode {
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
    if (lhs.kind !== 'ident' || CLAUSE_KEYWORDS.has(lhs.keyword)) throw fail();
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
    return { kind: 'comparison', comparison: buildComparison(this.domain, lhs, comparator, value) };
  }
}

function combine(kind: 'and' | 'or', nodes: FilterNode[]): FilterNode {
  if (nodes.length === 1) return nodes[0];
  const children: FilterNode[] = [];
  for (const node of nodes) {
    if (node.kind === kind) children.push(...node.children);
    else children.push(node);
  }
  return { kind, children };
}

function parseWith(filter: string | undefined, domain: FilterDomain): FilterNode | undefined {
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
  return new FilterParser(tokens, domain).parse();
}

/** Parses a SearchRuns filter (§5.1); undefined when the filter is absent or blank (match all). */
export function parseRunFilter(filter: string | undefined): FilterNode | undefined {
  return parseWith(filter, RUN_DOMAIN);
}

/**
 * Parses a SearchExperiments filter (§5.3): attributes `name` (string), `creation_time`,
 * `last_update_time` (numeric), and `tag.` / `tags.` keys.
 */
export function parseExperimentFilter(filter: string | undefined): FilterNode | undefined {
  return parseWith(filter, EXPERIMENT_DOMAIN);
}

/**
 * Parses a SearchLoggedModels filter (§1.5): attributes `name`, `model_id`, `model_type`, `status`,
 * `source_run_id`, `creation_timestamp` (alias `creation_time`), `last_updated_timestamp` (alias
 * `last_updated_time`), plus metrics / params / tags.
 */
export function parseLoggedModelFilter(filter: string | undefined): FilterNode | undefined {
  return parseWith(filter, LOGGED_MODEL_DOMAIN);
}
