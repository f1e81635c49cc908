/**
 * The registry's search grammar (spec §1.4) on the common MLflow filter grammar: registered models filter
 * on `name` and tags, model versions on `name`, `run_id` (with `IN`), `source_path`, `version_number`
 * and tags; MLflow's messages (`SearchModelUtils` / `SearchModelVersionUtils`). Pure code.
 */
import type * as common from '@mast/common';
import {
  type Comparator,
  type FilterEntity,
  invalidComparator,
  keyValueRule,
  MlflowError,
  NUMERIC_COMPARATORS,
  parseFilter,
  parseOrderBy,
  STRING_COMPARATORS,
  splitIdentifier,
  unknownKeyError,
  unquoteKey,
  type ValueRule,
} from '@mast/common';
import { IS_PROMPT_TAG } from './records.js';

export type RegistryEntityType = 'attribute' | 'tag';
export type Comparison = common.Comparison<RegistryEntityType>;
export type FilterNode = common.FilterNode<RegistryEntityType>;
export type OrderByTerm = common.OrderByTerm<RegistryEntityType>;

const MODEL_FILTER_KEYS = ['name'] as const;
const VERSION_FILTER_KEYS = ['name', 'version_number', 'run_id', 'source_path'] as const;
const VERSION_NUMERIC_KEYS = ['version_number', 'creation_timestamp', 'last_updated_timestamp'];

function resolve(raw: string, valid: readonly string[]): common.ResolvedIdentifier<RegistryEntityType> {
  const split = splitIdentifier(raw);
  let type: RegistryEntityType = 'attribute';
  if (split.type !== undefined) {
    if (split.type !== 'attribute' && split.type !== 'tag' && split.type !== 'tags') {
      throw MlflowError.invalidParameter(
        `Invalid entity type '${split.type}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    }
    type = split.type === 'attribute' ? 'attribute' : 'tag';
  }
  const key = unquoteKey(split.key);
  if (type === 'attribute' && !valid.includes(key)) throw unknownKeyError('attribute', key, valid);
  return { type, key, writtenKey: key };
}

function stringAttributeRule(comparators: readonly Comparator[], lists: boolean): ValueRule {
  return {
    kind: 'string',
    lists,
    comparators,
    wrongValue: (raw) =>
      /^[-+]?\d/.test(raw)
        ? `Only the '{${VERSION_NUMERIC_KEYS.map((k) => `'${k}'`).join(', ')}}' attributes support comparison with numeric values.`
        : `Expected a quoted string value or a list of quoted string values for attributes. Got value ${raw}`,
    noList: "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
    wrongComparator: invalidComparator(comparators),
  };
}

const TAG_RULE = keyValueRule('tag', false);

function entity(valid: readonly string[]): FilterEntity<RegistryEntityType> {
  return {
    resolve: (raw) => resolve(raw, valid),
    nullCheck: () => 'IS NULL / IS NOT NULL are not supported in registry searches',
    rule(id) {
      if (id.type === 'tag') return TAG_RULE;
      if (id.key === 'version_number') {
        return {
          kind: 'number',
          lists: false,
          comparators: NUMERIC_COMPARATORS,
          wrongValue: (raw) =>
            `Expected numeric value type for numeric attribute: version_number. Found ${raw}`,
          wrongComparator: invalidComparator(NUMERIC_COMPARATORS),
        };
      }
      if (id.key === 'run_id') return stringAttributeRule(['=', '!=', 'IN'], true);
      return stringAttributeRule(STRING_COMPARATORS, false);
    },
  };
}

const MODEL_ENTITY = entity(MODEL_FILTER_KEYS);
const VERSION_ENTITY = entity(VERSION_FILTER_KEYS);

/** A `registered-models/search` filter; undefined when absent or blank. */
export function parseModelFilter(filter: string | undefined): FilterNode | undefined {
  return parseFilter(filter, MODEL_ENTITY);
}

/** A `model-versions/search` filter; undefined when absent or blank. */
export function parseVersionFilter(filter: string | undefined): FilterNode | undefined {
  return parseFilter(filter, VERSION_ENTITY);
}

function comparisons(node: FilterNode | undefined): Comparison[] {
  if (node === undefined) return [];
  if (node.kind === 'comparison') return [node.comparison];
  return node.children.flatMap(comparisons);
}

/**
 * Whether a filter asks for prompts (MLflow 3): `` tags.`mlflow.prompt.is_prompt` = 'true' `` or
 * `!= 'false'`. Otherwise searches return only models without the prompt tag.
 */
export function searchesPrompts(node: FilterNode | undefined): boolean {
  return comparisons(node).some(
    (c) =>
      c.type === 'tag' &&
      c.key === IS_PROMPT_TAG &&
      ((c.comparator === '=' && c.value === 'true') || (c.comparator === '!=' && c.value === 'false')),
  );
}

const MODEL_ORDER_KEYS = ['name', 'timestamp', 'last_updated_timestamp', 'creation_timestamp'];
const VERSION_ORDER_KEYS = ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'];

function parseRegistryOrderBy(orderBy: string[], valid: readonly string[], aliases: Record<string, string>) {
  return parseOrderBy(
    orderBy,
    (identifier) => {
      const split = splitIdentifier(identifier);
      if (split.type !== undefined && split.type !== 'attribute') {
        throw MlflowError.invalidParameter(
          `Invalid order_by entity: ${split.type === 'tags' ? 'tag' : split.type}`,
        );
      }
      const key = unquoteKey(split.key);
      if (!valid.includes(key)) {
        throw MlflowError.invalidParameter(
          `Invalid order by key '${key}' specified. Valid keys are '${`[${valid
            .filter((k) => !(k in aliases))
            .map((k) => `'${k}'`)
            .join(', ')}]`}'`,
        );
      }
      return { type: 'attribute' as const, key: aliases[key] ?? key };
    },
    { unique: true },
  );
}

/** `registered-models/search` order_by: `name`, `last_updated_timestamp` (alias `timestamp`), `creation_timestamp`. */
export function parseModelOrderBy(orderBy: string[]): OrderByTerm[] {
  return parseRegistryOrderBy(orderBy, MODEL_ORDER_KEYS, { timestamp: 'last_updated_timestamp' });
}

/**
 * `model-versions/search` order_by: `name`, `version_number`, `creation_timestamp`,
 * `last_updated_timestamp`. Without one, the most recently updated first (MLflow's stores and
 * `test_search_model_versions_order_by_simple`); the store appends `name ASC, version DESC` as tie-breaks.
 */
export function parseVersionOrderBy(orderBy: string[]): OrderByTerm[] {
  const terms = parseRegistryOrderBy(orderBy, VERSION_ORDER_KEYS, {});
  return terms.length > 0 ? terms : [{ type: 'attribute', key: 'last_updated_timestamp', ascending: false }];
}
