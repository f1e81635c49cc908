import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '../errors.js';
import { type OrderByTerm, parseOrderBy } from './order-by.js';

/** Every identifier as an attribute keyed by its text: the grammar is what is under test. */
const asWritten = (identifier: string) => ({ type: 'attribute', key: identifier });

function errorOf(parse: () => OrderByTerm[]): MlflowError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    expect((error as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    return error as MlflowError;
  }
  throw new Error('expected the order_by to be rejected');
}

describe('parseOrderBy', () => {
  test('each clause is an identifier as written and an optional direction, ASC by default', () => {
    expect(parseOrderBy(['metrics.`a b` desc', 'tags."t"  ASC', 'x'], asWritten, { unique: true })).toEqual([
      { type: 'attribute', key: 'metrics.`a b`', ascending: false },
      { type: 'attribute', key: 'tags."t"', ascending: true },
      { type: 'attribute', key: 'x', ascending: true },
    ]);
    expect(parseOrderBy(undefined, asWritten, { unique: true })).toEqual([]);
  });

  test.each([
    ['`metrics.A', "Invalid order_by clause '`metrics.A'. Could not be parsed."],
    ['metrics.A != 1', "Invalid order_by clause 'metrics.A != 1'. Could not be parsed."],
    ['metrics.foo ASC DESC', "Invalid order_by clause 'metrics.foo ASC DESC'. Could not be parsed."],
    ['last_updated_timestamp DESC blah', 'Could not be parsed.'],
    ['', "Invalid order_by clause ''. Could not be parsed."],
    ['   ', 'Could not be parsed.'],
    ['DESC', "Invalid order_by clause 'DESC'. Could not be parsed."],
    ['metrics.a; DROP TABLE runs', 'Could not be parsed.'],
    ["metrics.a 'DESC'", 'Could not be parsed.'],
    ['metrics.a 1', 'Could not be parsed.'],
    ['(metrics.a)', 'Could not be parsed.'],
    ['attribute.run_id ACS', "Invalid ordering key in order_by clause 'attribute.run_id ACS'."],
    ['attribute.run_id decs', "Invalid ordering key in order_by clause 'attribute.run_id decs'."],
    ['params.foo bar', "Invalid ordering key in order_by clause 'params.foo bar'."],
  ])('%j is rejected', (clause, message) => {
    expect(errorOf(() => parseOrderBy([clause], asWritten, { unique: false })).message).toContain(message);
  });

  test('with unique, a field sorted twice is rejected in MLflow’s words; without, it is kept', () => {
    expect(errorOf(() => parseOrderBy(['a', 'b', 'a DESC'], asWritten, { unique: true })).message).toBe(
      "`order_by` contains duplicate fields: ['a', 'b', 'a DESC']",
    );
    expect(parseOrderBy(['a', 'a DESC'], asWritten, { unique: false })).toHaveLength(2);
  });
});
