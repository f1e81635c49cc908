/**
 * Tracking's searchable entities for the common MLflow search-filter grammar (`parseFilter` in
 * `@mast/common`): runs (spec §5.1), experiments (§5.3) and logged models (§1.5) — their identifier
 * prefixes, attribute keys, value rules and MLflow's messages. Bad input raises `MlflowError`
 * INVALID_PARAMETER_VALUE. Pure code: no I/O.
 */
import type * as common from '@mast/common';
import {
  type Comparator,
  type FilterEntity,
  type IdentifierRules,
  invalidComparator,
  isPythonLower,
  keyValueRule,
  LIST_COMPARATORS,
  MlflowError,
  NUMERIC_COMPARATORS,
  numericAttributeRule,
  parseFilter,
  resolveIdentifier,
  STRING_COMPARATORS,
  splitIdentifier,
  unknownKeyError,
  unquoteKey,
  type ValueRule,
} from '@mast/common';

export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

/** One parsed comparison of a run, experiment or logged-model filter. */
export type Comparison = common.Comparison<EntityType>;

/** A parsed run, experiment or logged-model filter. */
export type FilterNode = common.FilterNode<EntityType>;

/** A resolved left-hand side: `key` canonical, `writtenKey` as MLflow reports it in messages. */
export type ResolvedIdentifier = common.ResolvedIdentifier<EntityType>;

// ---------------------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------------------

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
const RUN_TYPE_NAMES = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";
/** Run filters: attribute keys are MLflow's VALID_SEARCH_ATTRIBUTE_KEYS, aliases included. */
const RUN_FILTER_IDENTIFIERS: IdentifierRules<EntityType> = {
  types: RUN_ENTITY_TYPES,
  typeNames: RUN_TYPE_NAMES,
  attributes: [
    ...RUN_STRING_ATTRIBUTES,
    'start_time',
    'end_time',
    ...Object.keys(RUN_ATTRIBUTE_ALIASES),
  ].sort(),
  aliases: RUN_ATTRIBUTE_ALIASES,
};
/** Run order_by: attribute keys are MLflow's VALID_ORDER_BY_ATTRIBUTE_KEYS. */
const RUN_ORDER_BY_IDENTIFIERS: IdentifierRules<EntityType> = {
  ...RUN_FILTER_IDENTIFIERS,
  attributes: [...RUN_STRING_ATTRIBUTES, 'start_time', 'end_time', 'created', 'Created'].sort(),
};
const DATASET_KEYS: readonly string[] = ['context', 'digest', 'name'];

/**
 * Resolves a run identifier as MLflow's `SearchUtils._get_identifier` does: split at the first dot, type
 * aliases (backticks allowed), key unquoted; bare keys are attributes. Attribute aliases are resolved.
 */
export function resolveRunIdentifier(raw: string, purpose: 'filter' | 'order_by'): ResolvedIdentifier {
  const id = resolveIdentifier(raw, purpose === 'filter' ? RUN_FILTER_IDENTIFIERS : RUN_ORDER_BY_IDENTIFIERS);
  if (id.type === 'dataset' && !DATASET_KEYS.includes(id.key)) {
    throw unknownKeyError('dataset', id.key, DATASET_KEYS);
  }
  return id;
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
      throw MlflowError.invalidParameter(
        `Invalid entity type '${split.type}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    }
    type = split.type === 'attribute' ? 'attribute' : 'tag';
  }
  const key = unquoteKey(split.key);
  const valid = purpose === 'filter' ? EXPERIMENT_FILTER_ATTRIBUTES : EXPERIMENT_ORDER_BY_ATTRIBUTES;
  if (type === 'attribute' && !valid.includes(key)) throw unknownKeyError('attribute', key, valid);
  return { type, key, writtenKey: key };
}

const LOGGED_MODEL_NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set([
  'creation_timestamp',
  'creation_time',
  'last_updated_timestamp',
  'last_updated_time',
]);
/** Logged models: run-style prefixes without datasets, §1.5 attributes. */
const LOGGED_MODEL_IDENTIFIERS: IdentifierRules<EntityType> = {
  types: Object.fromEntries(Object.entries(RUN_ENTITY_TYPES).filter(([, type]) => type !== 'dataset')),
  typeNames: "['metric', 'parameter', 'tag', 'attribute']",
  attributes: [
    'name',
    'model_id',
    'model_type',
    'status',
    'source_run_id',
    ...LOGGED_MODEL_NUMERIC_ATTRIBUTES,
  ].sort(),
  aliases: { creation_time: 'creation_timestamp', last_updated_time: 'last_updated_timestamp' },
};

// ---------------------------------------------------------------------------------------------------------
// Values and comparators, per entity
// ---------------------------------------------------------------------------------------------------------

const METRIC_RULE: ValueRule = {
  kind: 'number',
  lists: false,
  comparators: NUMERIC_COMPARATORS,
  wrongValue: (raw) => `Expected numeric value type for metric. Found ${raw}`,
  wrongComparator: invalidComparator(NUMERIC_COMPARATORS),
};

const RUN_ID_ONLY_LISTS =
  "Only the 'run_id' attribute supports comparison with a list of quoted string values.";

function attributeValueError(raw: string): string {
  return `Expected a quoted string value for attributes. Got value ${raw}`;
}

const RUN_ENTITY: FilterEntity<EntityType> = {
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
        return keyValueRule(MLFLOW_TYPE_NAME[id.type], false);
      case 'dataset': {
        const comparators = [...STRING_COMPARATORS, ...LIST_COMPARATORS];
        return {
          kind: 'string',
          lists: true,
          comparators,
          wrongValue: (raw) => `Expected a quoted string value for dataset attributes. Got value ${raw}`,
          wrongComparator: invalidComparator(comparators),
        };
      }
      case 'attribute': {
        if (RUN_NUMERIC_ATTRIBUTES.has(id.writtenKey)) return numericAttributeRule(id.writtenKey);
        const isRunId = id.key === 'run_id';
        const comparators: readonly Comparator[] = isRunId
          ? [...STRING_COMPARATORS, ...LIST_COMPARATORS]
          : STRING_COMPARATORS;
        return {
          kind: 'string',
          lists: isRunId,
          comparators,
          wrongValue: attributeValueError,
          noList: RUN_ID_ONLY_LISTS,
          wrongComparator: invalidComparator(comparators),
          listFilter: isRunId ? isPythonLower : undefined,
        };
      }
    }
  },
};

const EXPERIMENT_ENTITY: FilterEntity<EntityType> = {
  resolve: (raw) => resolveExperimentIdentifier(raw, 'filter'),
  nullCheck: (id) =>
    id.type === 'tag'
      ? undefined
      : `IS NULL / IS NOT NULL is only supported for tags, not for attribute '${id.writtenKey}'`,
  rule(id) {
    if (id.type === 'tag') {
      return { ...keyValueRule('tag', false), wrongComparator: (c) => `Invalid comparator for tag: ${c}` };
    }
    if (EXPERIMENT_NUMERIC_ATTRIBUTES.has(id.key)) {
      return numericAttributeRule(id.writtenKey, (c) => `Invalid comparator for numeric attribute: ${c}`);
    }
    return {
      kind: 'string',
      lists: false,
      comparators: STRING_COMPARATORS,
      wrongValue: attributeValueError,
      noList: RUN_ID_ONLY_LISTS,
      wrongComparator: (c) => `Invalid comparator for string attribute: ${c}`,
    };
  },
};

const LOGGED_MODEL_ENTITY: FilterEntity<EntityType> = {
  resolve: (raw) => resolveIdentifier(raw, LOGGED_MODEL_IDENTIFIERS),
  nullCheck: RUN_ENTITY.nullCheck,
  rule(id) {
    if (id.type === 'metric') return METRIC_RULE;
    if (id.type === 'attribute' && LOGGED_MODEL_NUMERIC_ATTRIBUTES.has(id.key)) {
      return numericAttributeRule(id.writtenKey);
    }
    const base = keyValueRule(MLFLOW_TYPE_NAME[id.type], true);
    return {
      ...base,
      wrongValue: id.type === 'attribute' ? attributeValueError : base.wrongValue,
      numberAsString: true,
    };
  },
};

/** Parses a SearchRuns filter (§5.1); undefined when the filter is absent or blank (match all). */
export function parseRunFilter(filter: string | undefined): FilterNode | undefined {
  return parseFilter(filter, RUN_ENTITY);
}

/**
 * Parses a SearchExperiments filter (§5.3): attributes `name` (string), `creation_time`,
 * `last_update_time` (numeric), and `tag.` / `tags.` keys.
 */
export function parseExperimentFilter(filter: string | undefined): FilterNode | undefined {
  return parseFilter(filter, EXPERIMENT_ENTITY);
}

/**
 * Parses a SearchLoggedModels filter (§1.5): attributes `name`, `model_id`, `model_type`, `status`,
 * `source_run_id`, `creation_timestamp` (alias `creation_time`), `last_updated_timestamp` (alias
 * `last_updated_time`), plus metrics / params / tags.
 */
export function parseLoggedModelFilter(filter: string | undefined): FilterNode | undefined {
  return parseFilter(filter, LOGGED_MODEL_ENTITY);
}
