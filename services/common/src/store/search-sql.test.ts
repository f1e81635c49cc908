import { describe, expect, test } from '@jest/globals';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type RawBuilder,
  sql,
} from 'kysely';
import type { Comparison, FilterNode } from '../search/filter.js';
import { compareColumn, compareDouble, compareKeyValue, filterToSql } from './search-sql.js';

/** Compiles SQL without a database. */
const db = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (kysely) => new PostgresIntrospector(kysely),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function compiled(condition: RawBuilder<boolean>): { sql: string; parameters: readonly unknown[] } {
  const { sql, parameters } = condition.compile(db);
  return { sql, parameters };
}

function cmp<T extends string>(
  type: T,
  key: string,
  comparator: Comparison['comparator'],
  value: Comparison['value'],
): FilterNode<T> {
  return { kind: 'comparison', comparison: { type, key, comparator, value } };
}

describe('filterToSql', () => {
  test("an entity's callback translates its comparisons; AND/OR nest as parsed", () => {
    // A registered-model search: `name` is a column, tags a key/value child table.
    const modelComparison = (comparison: Comparison<'attribute' | 'tag'>): RawBuilder<boolean> =>
      comparison.type === 'tag'
        ? compareKeyValue('registry.model_tags', sql.ref('m.name'), 'model_name', comparison, compareColumn)
        : compareColumn(sql.ref(`m.${comparison.key}`), comparison);
    const filter: FilterNode<'attribute' | 'tag'> = {
      kind: 'or',
      children: [
        {
          kind: 'and',
          children: [cmp('attribute', 'name', 'ILIKE', 'fraud%'), cmp('tag', 'team', '=', 'risk')],
        },
        cmp('tag', 'stage', 'IS NULL', null),
      ],
    };
    expect(compiled(filterToSql(filter, modelComparison))).toEqual({
      sql:
        '(("m"."name" ilike $1 and exists (select 1 from "registry"."model_tags" kv where kv."model_name" = "m"."name" and kv.key = $2 and kv.value = $3))' +
        ' or not exists (select 1 from "registry"."model_tags" kv where kv."model_name" = "m"."name" and kv.key = $4))',
      parameters: ['fraud%', 'team', 'risk', 'stage'],
    });
  });
});

describe('compare helpers', () => {
  const column = sql.ref('t.c');

  test.each<[Comparison, string, unknown[]]>([
    [{ type: 'a', key: 'c', comparator: 'IN', value: ['x', 'y'] }, '"t"."c" = any($1::text[])', [['x', 'y']]],
    [{ type: 'a', key: 'c', comparator: 'IN', value: [] }, 'false', []],
    [{ type: 'a', key: 'c', comparator: 'NOT IN', value: [] }, '"t"."c" is not null', []],
    [{ type: 'a', key: 'c', comparator: '>=', value: 5 }, '"t"."c" >= $1', [5]],
    [{ type: 'a', key: 'c', comparator: '<', value: 0.5 }, '"t"."c"::float8 < $1::float8', [0.5]],
  ])('compareColumn %j', (comparison, expectedSql, parameters) => {
    expect(compiled(compareColumn(column, comparison))).toEqual({ sql: expectedSql, parameters });
  });

  test('compareDouble never matches NaN, except with !=', () => {
    expect(compiled(compareDouble(column, { type: 'a', key: 'c', comparator: '>', value: 1 })).sql).toBe(
      `("t"."c" > $1::float8 and "t"."c" <> 'NaN'::float8)`,
    );
    expect(compiled(compareDouble(column, { type: 'a', key: 'c', comparator: '!=', value: 1 })).sql).toBe(
      '"t"."c" <> $1::float8',
    );
  });
});
