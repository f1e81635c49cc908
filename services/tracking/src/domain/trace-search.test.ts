import { describe, expect, test } from '@jest/globals';
import { parseTraceFilter, parseTraceOrderBy } from './trace-search.js';

const comparison = (type: string, key: string, comparator: string, value: unknown) => ({
  kind: 'comparison',
  comparison: { type, key, comparator, value },
});

describe('SearchTraces filter', () => {
  test('attributes, their aliases and prefixes', () => {
    expect(parseTraceFilter("status = 'OK'")).toEqual(comparison('attribute', 'status', '=', 'OK'));
    expect(parseTraceFilter('trace.timestamp > 10')).toEqual(
      comparison('attribute', 'timestamp_ms', '>', 10),
    );
    expect(parseTraceFilter('attributes.execution_time <= 5')).toEqual(
      comparison('attribute', 'execution_time_ms', '<=', 5),
    );
    expect(parseTraceFilter("request_id IN ('a', 'b')")).toEqual(
      comparison('attribute', 'request_id', 'IN', ['a', 'b']),
    );
    expect(parseTraceFilter('')).toBeUndefined();
  });

  test('name is the tag mlflow.traceName, run_id the metadata mlflow.sourceRun', () => {
    expect(parseTraceFilter("name = 'predict'")).toEqual(
      comparison('tag', 'mlflow.traceName', '=', 'predict'),
    );
    expect(parseTraceFilter('trace.name LIKE "Generate%"')).toEqual(
      comparison('tag', 'mlflow.traceName', 'LIKE', 'Generate%'),
    );
    expect(parseTraceFilter('attributes.run_id = "r1"')).toEqual(
      comparison('metadata', 'mlflow.sourceRun', '=', 'r1'),
    );
  });

  test('client_request_id, and LIKE / ILIKE on tags and metadata', () => {
    expect(parseTraceFilter("trace.client_request_id ILIKE '%abc%'")).toEqual(
      comparison('attribute', 'client_request_id', 'ILIKE', '%abc%'),
    );
    expect(parseTraceFilter("tag.env LIKE 'prod%'")).toEqual(comparison('tag', 'env', 'LIKE', 'prod%'));
    expect(parseTraceFilter("metadata.k ILIKE '%X%'")).toEqual(comparison('metadata', 'k', 'ILIKE', '%X%'));
    expect(parseTraceFilter('`timestamp` >= 1')).toEqual(comparison('attribute', 'timestamp_ms', '>=', 1));
  });

  test('LIKE / ILIKE on status and request_id, as on the other string attributes', () => {
    expect(parseTraceFilter("trace.status ILIKE 'error'")).toEqual(
      comparison('attribute', 'status', 'ILIKE', 'error'),
    );
    expect(parseTraceFilter("request_id LIKE 'tr-%'")).toEqual(
      comparison('attribute', 'request_id', 'LIKE', 'tr-%'),
    );
  });

  test('IS NULL / IS NOT NULL on tags and metadata, name and run_id included', () => {
    expect(parseTraceFilter('tag.region IS NULL')).toEqual(comparison('tag', 'region', 'IS NULL', null));
    expect(parseTraceFilter('metadata.env IS NOT NULL')).toEqual(
      comparison('metadata', 'env', 'IS NOT NULL', null),
    );
    expect(parseTraceFilter('name IS NULL')).toEqual(comparison('tag', 'mlflow.traceName', 'IS NULL', null));
  });

  test('end_time_ms is numeric', () => {
    expect(parseTraceFilter('trace.end_time_ms > 5')).toEqual(comparison('attribute', 'end_time_ms', '>', 5));
  });

  test('tags and metadata, AND-joined', () => {
    expect(parseTraceFilter("tags.`a b` = 'x' AND request_metadata.k != 'y' and metadata.m = 'z'")).toEqual({
      kind: 'and',
      children: [
        comparison('tag', 'a b', '=', 'x'),
        comparison('metadata', 'k', '!=', 'y'),
        comparison('metadata', 'm', '=', 'z'),
      ],
    });
  });

  test.each([
    ["tags.a < 'x'", /Invalid comparator '<'/],
    ["name IN ('foo', 'bar')", /Invalid comparator 'IN'/],
    ["run_id NOT IN ('r')", /Invalid comparator 'NOT IN'/],
    ["trace.status < 'OK'", /Invalid comparator '<'/],
    ["client_request_id IN ('a')", /Invalid comparator 'IN'/],
    ["trace.tags.foo = 'bar'", /Invalid attribute key 'tags.foo'/],
    ['invalid', /Invalid clause\(s\) in filter string/],
    ['status = 1', /Expected a quoted string value or a list of quoted string values for attributes/],
    ["timestamp_ms = '1'", /support comparison with numeric values/],
    ["foo = 'x'", /Invalid attribute key 'foo' specified/],
    ["params.a = 'x'", /Invalid entity type 'params'/],
    ['status IS NULL', /IS NULL \/ IS NOT NULL is not supported for 'status'/],
    ["end_time_ms = '1'", /support comparison with numeric values/],
  ])('%s is INVALID_PARAMETER_VALUE', (filter, message) => {
    expect(() => parseTraceFilter(filter)).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(message) }),
    );
  });
});

describe('SearchTraces order_by', () => {
  test('attributes, aliases, tags and metadata', () => {
    expect(
      parseTraceOrderBy(['timestamp DESC', 'experiment_id', 'name ASC', 'tags.n desc', 'run_id']),
    ).toEqual([
      { type: 'attribute', key: 'timestamp_ms', ascending: false },
      { type: 'attribute', key: 'experiment_id', ascending: true },
      { type: 'tag', key: 'mlflow.traceName', ascending: true },
      { type: 'tag', key: 'n', ascending: false },
      { type: 'metadata', key: 'mlflow.sourceRun', ascending: true },
    ]);
    expect(parseTraceOrderBy(undefined)).toEqual([]);
  });

  test('unknown keys and directions are rejected', () => {
    expect(() => parseTraceOrderBy(['bogus'])).toThrow(/Invalid attribute key 'bogus'/);
    expect(() => parseTraceOrderBy(['timestamp UP'])).toThrow(/Invalid ordering key/);
  });

  test('a field sorted twice, aliases included, is rejected', () => {
    for (const orderBy of [
      ['name', 'name DESC'],
      ['timestamp', 'timestamp_ms DESC'],
      ['run_id', 'metadata.`mlflow.sourceRun`'],
    ]) {
      expect(() => parseTraceOrderBy(orderBy)).toThrow(
        expect.objectContaining({
          code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringMatching(/`order_by` contains duplicate fields/),
        }),
      );
    }
  });
});
