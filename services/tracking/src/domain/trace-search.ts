/**
 * SearchTraces' filter and order_by (spec §1.6), on the common MLflow search grammar (`parseFilter`,
 * `parseOrderBy` in `@mast/common`) with the rules of MLflow's `SearchTraceUtils`
 * (`mlflow/utils/search_utils.py`) and its SQL store (`tests/store/tracking/test_sqlalchemy_store.py`):
 * identifiers `attribute.`/`attributes.`/`trace.`, `tag.`/`tags.`, `metadata.`/`request_metadata.`, bare
 * keys being attributes. `name` is the tag `mlflow.traceName` and `run_id` the metadata
 * `mlflow.sourceRun`, so they compare as tags and metadata do: `=`, `!=`, `LIKE`, `ILIKE`, `IS NULL`,
 * `IS NOT NULL` (no `IN`). `status` and `request_id` also take `IN` / `NOT IN`; times (`end_time_ms` being
 * start plus duration) are numeric. MLflow's `RLIKE`, `span.*`, `trace.text`, `feedback.*`, `expectation.*`
 * and `prompt` filters are not served (no spans or assessments are stored). Pure code.
 */
import type * as common from '@mast/common';
import {
  type Comparator,
  type FilterEntity,
  type IdentifierRules,
  invalidComparator,
  LIST_COMPARATORS,
  NUMERIC_COMPARATORS,
  parseFilter,
  parseOrderBy,
  resolveIdentifier,
  STRING_COMPARATORS,
  type ValueRule,
} from '@mast/common';
import { SOURCE_RUN_METADATA, TRACE_NAME_TAG } from './traces.js';

export type TraceEntityType = 'attribute' | 'tag' | 'metadata';

/**
 * One parsed comparison. Attribute keys are canonical: `request_id`, `client_request_id`,
 * `timestamp_ms`, `execution_time_ms`, `end_time_ms`, `status` (plus `experiment_id` in order_by);
 * `name` and `run_id` arrive as a tag and a metadata comparison (`run_id =` also matching traces linked
 * to the run, see the store).
 */
export type TraceComparison = common.Comparison<TraceEntityType>;
export type TraceFilter = common.FilterNode<TraceEntityType>;
export type TraceOrderTerm = common.OrderByTerm<TraceEntityType>;

const FILTER_ATTRIBUTES = [
  'client_request_id',
  'end_time_ms',
  'execution_time',
  'execution_time_ms',
  'name',
  'request_id',
  'run_id',
  'status',
  'timestamp',
  'timestamp_ms',
];
const ORDER_BY_ATTRIBUTES = [...FILTER_ATTRIBUTES, 'experiment_id'].sort();
const NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set(['timestamp_ms', 'execution_time_ms', 'end_time_ms']);
/**
 * String attributes compared with lists too (MLflow's SUPPORT_IN_COMPARISON_ATTRIBUTE_KEYS that stay
 * attributes); they take LIKE / ILIKE as well (`trace.status ILIKE 'error'` in MLflow's SQL store tests).
 */
const LIST_ATTRIBUTES: ReadonlySet<string> = new Set(['status', 'request_id']);
const ALIASES: Readonly<Record<string, string>> = {
  timestamp: 'timestamp_ms',
  execution_time: 'execution_time_ms',
};
const TYPES: Readonly<Record<string, TraceEntityType>> = {
  attribute: 'attribute',
  attributes: 'attribute',
  trace: 'attribute',
  tag: 'tag',
  tags: 'tag',
  metadata: 'metadata',
  request_metadata: 'metadata',
};
const TYPE_NAMES = "{'attribute', 'attributes', 'metadata', 'request_metadata', 'tag', 'tags', 'trace'}";

/** `name` and `run_id` live in a tag and in metadata. */
function mapped(id: common.ResolvedIdentifier<TraceEntityType>): common.ResolvedIdentifier<TraceEntityType> {
  if (id.type !== 'attribute') return id;
  if (id.key === 'name') return { type: 'tag', key: TRACE_NAME_TAG, writtenKey: 'name' };
  if (id.key === 'run_id') return { type: 'metadata', key: SOURCE_RUN_METADATA, writtenKey: 'run_id' };
  return id;
}

function resolve(raw: string, attributes: readonly string[]): common.ResolvedIdentifier<TraceEntityType> {
  const rules: IdentifierRules<TraceEntityType> = {
    types: TYPES,
    typeNames: TYPE_NAMES,
    attributes,
    aliases: ALIASES,
  };
  return mapped(resolveIdentifier(raw, rules) as common.ResolvedIdentifier<TraceEntityType>);
}

const LIST_ATTRIBUTE_COMPARATORS: readonly Comparator[] = [...STRING_COMPARATORS, ...LIST_COMPARATORS];

const NUMERIC_RULE: ValueRule = {
  kind: 'number',
  lists: false,
  comparators: NUMERIC_COMPARATORS,
  wrongValue: () =>
    "Only the '{'timestamp_ms', 'timestamp', 'execution_time_ms', 'execution_time', 'end_time_ms'}' attributes support comparison with numeric values.",
  wrongComparator: invalidComparator(NUMERIC_COMPARATORS),
};

/**
 * Strings: lists are read for every key so that `IN` where it is not allowed fails on the comparator,
 * with MLflow's message, rather than on the value.
 */
function stringRule(typeName: string, lists: boolean): ValueRule {
  const comparators = lists ? LIST_ATTRIBUTE_COMPARATORS : STRING_COMPARATORS;
  return {
    kind: 'string',
    lists: true,
    comparators,
    wrongValue: (raw) =>
      typeName === 'attributes'
        ? `Expected a quoted string value or a list of quoted string values for attributes. Got value ${raw}`
        : `Expected a quoted string value for ${typeName} (e.g. 'my-value'). Got value ${raw}`,
    wrongComparator: invalidComparator(comparators),
  };
}

const TRACE_ENTITY: FilterEntity<TraceEntityType> = {
  resolve: (raw) => resolve(raw, FILTER_ATTRIBUTES),
  // Tags and metadata (so `name` and `run_id` too) may be tested for absence, as MLflow's SQL store allows.
  nullCheck: (id) =>
    id.type === 'attribute' ? `IS NULL / IS NOT NULL is not supported for '${id.writtenKey}'` : undefined,
  rule(id): ValueRule {
    if (id.type === 'attribute' && NUMERIC_ATTRIBUTES.has(id.key)) return NUMERIC_RULE;
    if (id.type === 'attribute') return stringRule('attributes', LIST_ATTRIBUTES.has(id.key));
    return stringRule(id.type === 'tag' ? 'tag' : 'request_metadata', false);
  },
};

/** Parses a SearchTraces filter; undefined when absent or blank (match all). */
export function parseTraceFilter(filter: string | undefined): TraceFilter | undefined {
  return parseFilter(filter, TRACE_ENTITY);
}

/**
 * Parses SearchTraces `order_by`: the attributes `experiment_id`, `timestamp(_ms)`, `execution_time(_ms)`,
 * `end_time_ms`, `status`, `request_id`, `client_request_id`, `name`, `run_id`, or any `tag.` / `metadata.`
 * key, each at most once (MLflow's SQL store: "`order_by` contains duplicate fields"). Absent or empty: no
 * terms (the store orders by `timestamp_ms DESC, request_id ASC`, and always ends with those tie-breakers).
 */
export function parseTraceOrderBy(orderBy: string[] | undefined): TraceOrderTerm[] {
  return parseOrderBy(orderBy, (identifier) => resolve(identifier, ORDER_BY_ATTRIBUTES), { unique: true });
}
