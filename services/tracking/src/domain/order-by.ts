/**
 * Parsers for `order_by` clauses of SearchRuns (spec §5.2) and SearchExperiments (§5.3): each entry is
 * `<identifier> [ASC|DESC]` (direction case-insensitive, ASC by default), the identifier quoted as in
 * filters. Bad input raises `MlflowError` INVALID_PARAMETER_VALUE with MLflow's messages. Pure code.
 */
import { MlflowError } from '@mast/common';
import {
  type EntityType,
  type ResolvedIdentifier,
  resolveExperimentIdentifier,
  resolveRunIdentifier,
} from './search-filter.js';
import { SearchSyntaxError, type Token, tokenize } from './search-tokenizer.js';

/** One sort key; `key` is canonical (`created` → `start_time`). */
export interface OrderByTerm {
  type: EntityType;
  key: string;
  ascending: boolean;
}

function unparsable(clause: string): MlflowError {
  return MlflowError.invalidParameter(`Invalid order_by clause '${clause}'. Could not be parsed.`);
}

/** Splits one clause into its identifier text and direction (MLflow's `_parse_order_by_string`). */
function parseClause(clause: string): { identifier: string; ascending: boolean } {
  let tokens: Token[];
  try {
    tokens = tokenize(clause);
  } catch (error) {
    if (error instanceof SearchSyntaxError) throw unparsable(clause);
    throw error;
  }
  const [identifier, direction, ...rest] = tokens;
  if (identifier?.kind !== 'ident' || identifier.keyword !== undefined || rest.length > 0) {
    throw unparsable(clause);
  }
  if (direction === undefined) return { identifier: identifier.text, ascending: true };
  if (direction.kind !== 'ident') throw unparsable(clause);
  if (direction.keyword !== 'ASC' && direction.keyword !== 'DESC') {
    throw MlflowError.invalidParameter(`Invalid ordering key in order_by clause '${clause}'.`);
  }
  return { identifier: identifier.text, ascending: direction.keyword === 'ASC' };
}

/**
 * Parses SearchRuns `order_by`: metrics, params, tags, or the attributes `run_id`, `run_name`, `user_id`,
 * `status`, `start_time`, `end_time`, `artifact_uri`, `created` (= `start_time`). Sorting twice on the
 * same field is rejected, as MLflow's SQL store does. Absent/empty list: no terms (caller applies the
 * default order).
 */
export function parseRunOrderBy(orderBy: string[] | undefined): OrderByTerm[] {
  const terms: OrderByTerm[] = [];
  const seen = new Set<string>();
  for (const clause of orderBy ?? []) {
    const { identifier, ascending } = parseClause(clause);
    const id: ResolvedIdentifier = resolveRunIdentifier(identifier, 'order_by');
    if (id.type === 'dataset') throw MlflowError.invalidParameter(`Invalid identifier type '${id.type}'`);
    const field = `${id.type}\u0000${id.key}`;
    if (seen.has(field)) {
      const list = (orderBy ?? []).map((c) => `'${c}'`).join(', ');
      throw MlflowError.invalidParameter(`\`order_by\` contains duplicate fields: [${list}]`);
    }
    seen.add(field);
    terms.push({ type: id.type, key: id.key, ascending });
  }
  return terms;
}

/**
 * Parses SearchExperiments `order_by`: attributes `name`, `experiment_id`, `creation_time`,
 * `last_update_time` (bare or `attribute.`-prefixed). Absent/empty list: no terms.
 */
export function parseExperimentOrderBy(orderBy: string[] | undefined): OrderByTerm[] {
  return (orderBy ?? []).map((clause) => {
    const { identifier, ascending } = parseClause(clause);
    const id = resolveExperimentIdentifier(identifier, 'order_by');
    if (id.type !== 'attribute') throw MlflowError.invalidParameter(`Invalid order_by entity: ${id.type}`);
    return { type: id.type, key: id.key, ascending };
  });
}
