/**
 * MLflow search filters as SQL, for every entity: `filterToSql` nests a parsed filter's AND/OR as one
 * condition, and the compare helpers translate the usual shapes of comparison (a scalar column, a double
 * column, a key/value child table) that an entity's `ComparisonToSql` callback picks from.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Comparison, FilterNode } from '../search/filter.js';

/** Turns one comparison into a SQL condition; each entity (runs, experiments, models) supplies its own. */
export type ComparisonToSql<T extends string = string> = (comparison: Comparison<T>) => RawBuilder<boolean>;

/** A filter tree as one SQL condition: AND/OR nest as parsed, so no row is filtered in memory. */
export function filterToSql<T extends string>(
  node: FilterNode<T>,
  toSql: ComparisonToSql<T>,
): RawBuilder<boolean> {
  switch (node.kind) {
    case 'comparison':
      return toSql(node.comparison);
    case 'and':
      return sql<boolean>`(${sql.join(
        node.children.map((child) => filterToSql(child, toSql)),
        sql` and `,
      )})`;
    case 'or':
      return sql<boolean>`(${sql.join(
        node.children.map((child) => filterToSql(child, toSql)),
        sql` or `,
      )})`;
  }
}

/** `column <op> value` for a scalar column; LIKE/ILIKE/IN/NOT IN and IS [NOT] NULL as parsed. */
export function compareColumn(column: RawBuilder<unknown>, comparison: Comparison): RawBuilder<boolean> {
  const { comparator, value } = comparison;
  switch (comparator) {
    case 'IS NULL':
      return sql<boolean>`${column} is null`;
    case 'IS NOT NULL':
      return sql<boolean>`${column} is not null`;
    case 'IN':
    case 'NOT IN': {
      const list = value as string[];
      if (list.length === 0)
        return comparator === 'IN' ? sql<boolean>`false` : sql<boolean>`${column} is not null`;
      // One array parameter however long the list: PostgreSQL binds at most 65535 parameters.
      return comparator === 'IN'
        ? sql<boolean>`${column} = any(${list}::text[])`
        : sql<boolean>`${column} <> all(${list}::text[])`;
    }
    case 'LIKE':
      return sql<boolean>`${column} like ${value}`;
    case 'ILIKE':
      return sql<boolean>`${column} ilike ${value}`;
    default:
      // A fraction or a huge number cannot be cast to the bigint it is compared with: compare as doubles.
      if (typeof value === 'number' && !Number.isSafeInteger(value))
        return sql<boolean>`${column}::float8 ${sql.raw(comparator)} ${value}::float8`;
      return sql<boolean>`${column} ${sql.raw(comparator)} ${value}`;
  }
}

/** Numeric comparison on a double column: NaN never satisfies an ordering or equality test. */
export function compareDouble(column: RawBuilder<unknown>, comparison: Comparison): RawBuilder<boolean> {
  const value = Number(comparison.value);
  if (comparison.comparator === '!=') return sql<boolean>`${column} <> ${value}::float8`;
  return sql<boolean>`(${column} ${sql.raw(comparison.comparator)} ${value}::float8 and ${column} <> 'NaN'::float8)`;
}

/**
 * A key/value child table (params, tags, latest metrics) tested through EXISTS, so an owner (run, model)
 * without the key never matches, not even `!=`; `IS NULL` means the key is absent. `table` and
 * `ownerColumn` are names written by the caller, never user input.
 */
export function compareKeyValue(
  table: string,
  owner: RawBuilder<unknown>,
  ownerColumn: string,
  comparison: Comparison,
  valueTest: (column: RawBuilder<unknown>, comparison: Comparison) => RawBuilder<boolean>,
): RawBuilder<boolean> {
  const child = sql`${sql.table(table)} kv`;
  const keyed = sql`kv.${sql.ref(ownerColumn)} = ${owner} and kv.key = ${comparison.key}`;
  if (comparison.comparator === 'IS NULL')
    return sql<boolean>`not exists (select 1 from ${child} where ${keyed})`;
  if (comparison.comparator === 'IS NOT NULL')
    return sql<boolean>`exists (select 1 from ${child} where ${keyed})`;
  return sql<boolean>`exists (select 1 from ${child} where ${keyed} and ${valueTest(sql`kv.value`, comparison)})`;
}
