/**
 * The MLflow `order_by` grammar, shared by every searchable entity: each entry is
 * `<identifier> [ASC|DESC]` (direction case-insensitive, ASC by default), the identifier quoted as in
 * filters; the entity resolves the identifier. Bad input raises `MlflowError` INVALID_PARAMETER_VALUE
 * with MLflow's messages (`SearchUtils._parse_order_by_string` in `mlflow/utils/search_utils.py`).
 * Pure code: no I/O.
 */
import { MlflowError } from '../errors.js';
import { SearchSyntaxError, type Token, tokenize } from './tokenizer.js';

/** One sort key of an entity whose identifier types are `T`; `key` is canonical (aliases resolved). */
export interface OrderByTerm<T extends string = string> {
  type: T;
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
 * Parses an `order_by` list, clause by clause, with `resolve` turning each identifier as written into
 * its type and canonical key (throwing the entity's MLflow error when it is not sortable). With
 * `unique: true`, sorting twice on one field (aliases included) is rejected, as MLflow's SQL store rejects it
 * for runs and registry searches. Absent/empty list: no terms (the caller applies its default order).
 */
export function parseOrderBy<T extends string>(
  orderBy: string[] | undefined,
  resolve: (identifier: string) => { type: T; key: string },
  { unique }: { unique: boolean },
): OrderByTerm<T>[] {
  const terms: OrderByTerm<T>[] = [];
  const seen = new Set<string>();
  for (const clause of orderBy ?? []) {
    const { identifier, ascending } = parseClause(clause);
    const { type, key } = resolve(identifier);
    const field = `${type}\u0000${key}`;
    if (unique && seen.has(field)) {
      const list = (orderBy ?? []).map((c) => `'${c}'`).join(', ');
      throw MlflowError.invalidParameter(`\`order_by\` contains duplicate fields: [${list}]`);
    }
    seen.add(field);
    terms.push({ type, key, ascending });
  }
  return terms;
}
