/**
 * `order_by` of SearchRuns (spec §5.2) and SearchExperiments (§5.3), on the common MLflow order_by
 * grammar (`parseOrderBy` in `@mast/common`). Bad input raises `MlflowError` INVALID_PARAMETER_VALUE with
 * MLflow's messages. Pure code.
 */
import type * as common from '@mast/common';
import { MlflowError, parseOrderBy } from '@mast/common';
import { type EntityType, resolveExperimentIdentifier, resolveRunIdentifier } from './search-filter.js';

/** One sort key of runs or experiments; `key` is canonical (`created` → `start_time`). */
export type OrderByTerm = common.OrderByTerm<EntityType>;

/**
 * Parses SearchRuns `order_by`: metrics, params, tags, or the attributes `run_id`, `run_name`, `user_id`,
 * `status`, `start_time`, `end_time`, `artifact_uri`, `created` (= `start_time`). Sorting twice on the
 * same field is rejected, as MLflow's SQL store does. Absent/empty list: no terms (caller applies the
 * default order).
 */
export function parseRunOrderBy(orderBy: string[] | undefined): OrderByTerm[] {
  return parseOrderBy(
    orderBy,
    (identifier) => {
      const id = resolveRunIdentifier(identifier, 'order_by');
      if (id.type === 'dataset') throw MlflowError.invalidParameter(`Invalid identifier type '${id.type}'`);
      return id;
    },
    { unique: true },
  );
}

/**
 * Parses SearchExperiments `order_by`: attributes `name`, `experiment_id`, `creation_time`,
 * `last_update_time` (bare or `attribute.`-prefixed). Absent/empty list: no terms.
 */
export function parseExperimentOrderBy(orderBy: string[] | undefined): OrderByTerm[] {
  return parseOrderBy(
    orderBy,
    (identifier) => {
      const id = resolveExperimentIdentifier(identifier, 'order_by');
      if (id.type !== 'attribute') throw MlflowError.invalidParameter(`Invalid order_by entity: ${id.type}`);
      return id;
    },
    { unique: false },
  );
}
