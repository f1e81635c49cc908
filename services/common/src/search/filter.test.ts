import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '../errors.js';
import {
  type Comparison,
  type FilterEntity,
  type FilterNode,
  keyValueRule,
  LIST_COMPARATORS,
  MAX_FILTER_NESTING,
  numericAttributeRule,
  parseFilter,
  resolveIdentifier,
  STRING_COMPARATORS,
} from './filter.js';

/** An entity to exercise the grammar: numeric metrics, string params and tags, attributes with lists. */
type TestType = 'metric' | 'param' | 'tag' | 'attribute';
const TEST_ENTITY: FilterEntity<TestType> = {
  resolve: (raw) =>
    resolveIdentifier<TestType>(raw, {
      types: {
        metric: 'metric',
        metrics: 'metric',
        param: 'param',
        params: 'param',
        tag: 'tag',
        tags: 'tag',
      },
      typeNames: "['metric', 'parameter', 'tag']",
      attributes: ['run_id', 'status'],
    }),
  nullCheck: () => undefined,
  rule: (id) => (id.type === 'metric' ? numericAttributeRule(id.writtenKey) : keyValueRule(id.type, true)),
};

function parse(filter: string | undefined): FilterNode<TestType> | undefined {
  return parseFilter(filter, TEST_ENTITY);
}

function cmp(
  type: TestType,
  key: string,
  comparator: Comparison['comparator'],
  value: Comparison['value'],
): FilterNode<TestType> {
  return { kind: 'comparison', comparison: { type, key, comparator, value } };
}

/** The error `parser` raises for `filter` (fails the test if it does not raise an MlflowError). */
function errorOf(parser: (filter: string) => unknown, filter: string): MlflowError {
  try {
    parser(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    const mlflowError = error as MlflowError;
    expect(mlflowError.code).toBe('INVALID_PARAMETER_VALUE');
    return mlflowError;
  }
  throw new Error(`expected filter ${JSON.stringify(filter)} to be rejected`);
}

describe('parseFilter: AND lists (MLflow mode)', () => {
  test('AND joins comparisons, case-insensitively', () => {
    expect(parse("metrics.rmse < 1 and params.model_class = 'LR' AnD tags.c = 'y'")).toEqual({
      kind: 'and',
      children: [
        cmp('metric', 'rmse', '<', 1),
        cmp('param', 'model_class', '=', 'LR'),
        cmp('tag', 'c', '=', 'y'),
      ],
    });
    expect(parse("tags.a IS NULL AND params.b = 'val'")).toEqual({
      kind: 'and',
      children: [cmp('tag', 'a', 'IS NULL', null), cmp('param', 'b', '=', 'val')],
    });
    expect(parse("metrics.a>1 AND params.b='x'")).toEqual({
      kind: 'and',
      children: [cmp('metric', 'a', '>', 1), cmp('param', 'b', '=', 'x')],
    });
  });

  test.each([undefined, '', '   ', '\n\t'])('no filter (%j) matches everything', (filter) => {
    expect(parse(filter)).toBeUndefined();
  });
});

describe('parseFilter: structure errors', () => {
  test.each([
    [
      'metric.acc >= 0.94; metrics.rmse < 1',
      "Search filter contained multiple expression 'metric.acc >= 0.94; metrics.rmse < 1'. Provide AND-ed expression list.",
    ],
    ["metrics.A > 0.1 NAND params.B = 'LR'", "Invalid clause(s) in filter string: 'NAND'"],
    ['`metrics.A > 0.1', "Invalid clause(s) in filter string: '`metrics.A > 0.1'"],
    ['param`.A > 0.1', 'Invalid clause(s) in filter string'],
    ['`dummy.A > 0.1', 'Invalid clause(s) in filter string'],
    ['dummy`.A > 0.1', 'Invalid clause(s) in filter string'],
    ["params.'acc = LR", "Invalid clause(s) in filter string: 'params.'"],
    ["params.acc = 'LR", "Invalid clause(s) in filter string: ''LR'"],
    ["params.acc = LR'", 'Invalid clause(s) in filter string'],
    ['params.acc = "LR\'', 'Invalid clause(s) in filter string'],
    ['tags.acc = "LR\'', 'Invalid clause(s) in filter string'],
    ["tags.acc = = 'LR'", "Invalid clause(s) in filter string: 'tags.acc', '=', '=', ''LR''"],
    [
      "attribute.status IS 'RUNNING'",
      "Invalid clause(s) in filter string: 'attribute.status', 'IS', ''RUNNING''",
    ],
    ['params.acc LR !=', "Invalid clause(s) in filter string: 'params.acc', 'LR', '!='"],
    ['params.acc LR', 'Invalid clause(s) in filter string'],
    ['metric.acc !=', "Invalid clause(s) in filter string: 'metric.acc', '!='"],
    ['metrics.foo >', 'Invalid clause(s) in filter string'],
    ['metrics.foo > 1 extra', "Invalid clause(s) in filter string: 'extra'"],
    ['foo bar', 'Invalid clause(s) in filter string'],
    ["= 'x'", "Invalid clause(s) in filter string: '=', ''x''"],
    ['metrics.X-Y-Z = 3', 'Invalid clause(s) in filter string'],
    ['metrics.a > 1 @', "Invalid clause(s) in filter string: '@'"],
    ['metrics.a > 1 || metrics.b < 2', 'Invalid clause(s) in filter string'],
    ['metrics.a. = 1', "Invalid clause(s) in filter string: 'metrics.a.'"],
    ['1.0 > metrics.acc', "Invalid comparison clause. Expected 'Identifier' found '1.0'"],
    ['1=1', "Invalid comparison clause. Expected 'Identifier' found '1'"],
    ['1==2', "Invalid comparison clause. Expected 'Identifier' found '1'"],
    ["'x' = 'y'", "Invalid comparison clause. Expected 'Identifier' found ''x''"],
    ['5 = 5', "Invalid comparison clause. Expected 'Identifier' found '5'"],
    ["NOT params.a = 'x'", "Invalid clause(s) in filter string: 'NOT'"],
    ["params.a NOT LIKE 'x'", 'Invalid clause(s) in filter string'],
    ['params.a = NULL', 'Invalid clause(s) in filter string'],
    ["params.a , params.b = 'x'", 'Invalid clause(s) in filter string'],
  ])('%s', (filter, message) => {
    expect(errorOf(parse, filter).message).toContain(message);
  });

  test('stray ANDs are ignored in a plain AND filter, as MLflow ignores them', () => {
    expect(parse('AND metrics.a > 1')).toEqual(cmp('metric', 'a', '>', 1));
    expect(parse('metrics.a > 1 AND')).toEqual(cmp('metric', 'a', '>', 1));
    expect(parse('metrics.a > 1 AND and metrics.b < 2')).toEqual({
      kind: 'and',
      children: [cmp('metric', 'a', '>', 1), cmp('metric', 'b', '<', 2)],
    });
    expect(parse('AND')).toBeUndefined();
  });
});

describe('parseFilter: OR and parentheses (Mast extension)', () => {
  const a = cmp('metric', 'a', '>', 1);
  const b = cmp('metric', 'b', '<', 2);
  const c = cmp('param', 'c', '=', 'x');

  test('OR of comparisons', () => {
    expect(parse("metrics.A > 0.1 OR params.B = 'LR'")).toEqual({
      kind: 'or',
      children: [cmp('metric', 'A', '>', 0.1), cmp('param', 'B', '=', 'LR')],
    });
  });

  test('AND binds tighter than OR', () => {
    expect(parse("metrics.a > 1 OR metrics.b < 2 AND params.c = 'x'")).toEqual({
      kind: 'or',
      children: [a, { kind: 'and', children: [b, c] }],
    });
    expect(parse("metrics.a > 1 and metrics.b < 2 or params.c = 'x'")).toEqual({
      kind: 'or',
      children: [{ kind: 'and', children: [a, b] }, c],
    });
  });

  test('parentheses group, and same-kind groups are flattened', () => {
    expect(parse("(metrics.a > 1 OR metrics.b < 2) AND params.c = 'x'")).toEqual({
      kind: 'and',
      children: [{ kind: 'or', children: [a, b] }, c],
    });
    expect(parse("metrics.a > 1 AND (metrics.b < 2 AND params.c = 'x')")).toEqual({
      kind: 'and',
      children: [a, b, c],
    });
    expect(parse("((metrics.a > 1)) or (metrics.b < 2 or (params.c = 'x'))")).toEqual({
      kind: 'or',
      children: [a, b, c],
    });
    expect(parse('(metrics.a > 1)')).toEqual(a);
    expect(parse("metrics.A > 0.1 AND (params.B = 'LR')")).toEqual({
      kind: 'and',
      children: [cmp('metric', 'A', '>', 0.1), cmp('param', 'B', '=', 'LR')],
    });
  });

  test('IN lists and OR combine', () => {
    expect(parse("run_id IN ('a', 'b') OR (tags.t IS NULL)")).toEqual({
      kind: 'or',
      children: [cmp('attribute', 'run_id', 'IN', ['a', 'b']), cmp('tag', 't', 'IS NULL', null)],
    });
  });

  test.each([
    ['(metrics.a > 1', 'unbalanced parenthesis'],
    ['metrics.a > 1)', 'unbalanced parenthesis'],
    ['((metrics.a > 1)', 'unbalanced parenthesis'],
    ['()', "Invalid clause(s) in filter string: '()'"],
    ['metrics.a > 1 AND ()', "Invalid clause(s) in filter string: '()'"],
    ['metrics.a > 1 OR', "Invalid clause(s) in filter string: 'OR'"],
    ['OR metrics.a > 1', "Invalid clause(s) in filter string: 'OR'"],
    ['metrics.a > 1 OR OR metrics.b < 2', "Invalid clause(s) in filter string: 'OR'"],
    ['(metrics.a > 1 AND) OR metrics.b < 2', "Invalid clause(s) in filter string: ')'"],
    ['metrics.a > 1 OR metrics.b < 2 AND', "Invalid clause(s) in filter string: 'AND'"],
    ['(metrics.a > 1) (metrics.b < 2)', 'Invalid clause(s) in filter string'],
    ['metrics.a > 1 OR NOT metrics.b < 2', "Invalid clause(s) in filter string: 'NOT'"],
    ['NOT (metrics.a > 1)', "Invalid clause(s) in filter string: 'NOT'"],
    ['(metrics.a > 1 metrics.b < 2)', 'Invalid clause(s) in filter string'],
  ])('%s is rejected', (filter, message) => {
    expect(errorOf(parse, filter).message).toContain(message);
  });

  test('nesting is bounded without overflowing the stack', () => {
    const ok = `${'('.repeat(MAX_FILTER_NESTING)}metrics.a > 1${')'.repeat(MAX_FILTER_NESTING)}`;
    expect(parse(ok)).toEqual(a);
    const deep = `${'('.repeat(100_000)}metrics.a > 1${')'.repeat(100_000)}`;
    expect(errorOf(parse, deep).message).toContain('nested deeper than');
  });
});

describe('parseFilter: robustness', () => {
  test('adversarial quoting and long inputs are handled in linear time', () => {
    const inputs = [
      `params.a = '${"\\'".repeat(200_000)}`,
      `params.a = '${"''".repeat(200_000)}`,
      `params.a = "${'\\"'.repeat(200_000)}`,
      `tags.\`${'``'.repeat(200_000)}`,
      `run_id IN (${"'a', ".repeat(50_000)}'b')`,
      `run_id IN (${'('.repeat(200_000)}`,
      Array.from({ length: 20_000 }, (_, i) => `metrics.m${i} > ${i}`).join(' AND '),
      Array.from({ length: 20_000 }, (_, i) => `metrics.m${i} > ${i}`).join(' OR '),
    ];
    const started = Date.now();
    for (const input of inputs) {
      try {
        parse(input);
      } catch (error) {
        expect(error).toBeInstanceOf(MlflowError);
      }
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('an entity tracking does not have: registered models', () => {
  /** MLflow's registered-model search: attribute `name`, tags; nothing else. */
  const REGISTERED_MODEL: FilterEntity<'attribute' | 'tag'> = {
    resolve: (raw) =>
      resolveIdentifier<'attribute' | 'tag'>(raw, {
        types: { attribute: 'attribute', tag: 'tag', tags: 'tag' },
        typeNames: "['attribute', 'tag']",
        attributes: ['name'],
      }),
    nullCheck: (id) => (id.type === 'tag' ? undefined : `IS NULL is not supported for '${id.writtenKey}'`),
    rule: (id) =>
      id.type === 'tag'
        ? keyValueRule('tag', false)
        : {
            kind: 'string',
            lists: true,
            comparators: [...STRING_COMPARATORS, ...LIST_COMPARATORS],
            wrongValue: (raw) => `Expected a quoted string value for attributes. Got value ${raw}`,
            wrongComparator: (c) => `Invalid comparator for name: ${c}`,
          },
  };
  const parseModels = (filter: string) => parseFilter(filter, REGISTERED_MODEL);

  test('its identifiers and values parse with the common grammar', () => {
    expect(parseModels("name ILIKE 'fraud%' AND tags.`team name` = 'risk'")).toEqual({
      kind: 'and',
      children: [
        {
          kind: 'comparison',
          comparison: { type: 'attribute', key: 'name', comparator: 'ILIKE', value: 'fraud%' },
        },
        { kind: 'comparison', comparison: { type: 'tag', key: 'team name', comparator: '=', value: 'risk' } },
      ],
    });
    expect(parseModels("attribute.name IN ('a', 'b') OR tags.stage IS NULL")).toEqual({
      kind: 'or',
      children: [
        {
          kind: 'comparison',
          comparison: { type: 'attribute', key: 'name', comparator: 'IN', value: ['a', 'b'] },
        },
        { kind: 'comparison', comparison: { type: 'tag', key: 'stage', comparator: 'IS NULL', value: null } },
      ],
    });
  });

  test.each([
    ['metrics.a > 1', "Invalid entity type 'metrics'. Valid values are ['attribute', 'tag']"],
    ['version = 1', "Invalid attribute key 'version' specified. Valid keys are '{'name'}'"],
    ["name > 'a'", 'Invalid comparator for name: >'],
    ['name = 1', 'Expected a quoted string value for attributes. Got value 1'],
    ["tags.a IN ('x')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"],
    ['name IS NULL', "IS NULL is not supported for 'name'"],
    ["(name = 'a'", 'unbalanced parenthesis'],
  ])('%s is rejected with its message', (filter, message) => {
    expect(errorOf(parseModels, filter).message).toContain(message);
  });
});
