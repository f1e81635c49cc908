import { MlflowError } from '@mast/common';
import { type RawBuilder, sql } from 'kysely';
import type { Comparison, FilterNode } from '../domain/search-filter.js';

/** Turns one comparison into a SQL condition; each entity (runs, experiments, models) supplies its own. */
export type ComparisonToSql = (comparison: Comparison) => RawBuilder<boolean>;

/** A filter tree as one SQL condition: AND/OR nest as parsed, so no row is filtered in memory. */
export function filterToSql(node: FilterNode, toSql: ComparisonToSql): RawBuilder<boolean> {
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
 * A key/value child table (params, tags, latest metrics) tested through EXISTS, so a run without the
 * key never matches, not even `!=`; `IS NULL` means the key is absent.
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

/** Page tokens are opaque to clients: base64 of the offset, rejected clearly when malformed. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) {
      return parsed.offset;
    }
  } catch {
    // reported below
  }
  throw MlflowError.invalidParameter(`Invalid page token, could not base64-decode: '${token}'.`);
}
