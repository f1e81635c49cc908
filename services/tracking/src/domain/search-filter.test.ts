import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import {
  type Comparison,
  type FilterNode,
  parseExperimentFilter,
  parseLoggedModelFilter,
  parseRunFilter,
} from './search-filter.js';

type Parser = (filter: string | undefined) => FilterNode | undefined;

function cmp(
  type: Comparison['type'],
  key: string,
  comparator: Comparison['comparator'],
  value: Comparison['value'],
): FilterNode {
  return { kind: 'comparison', comparison: { type, key, comparator, value } };
}

/** The error a parser raises for `filter` (fails the test if it does not raise an MlflowError). */
function errorOf(parse: Parser, filter: string): MlflowError {
  try {
    parse(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    const mlflowError = error as MlflowError;
    expect(mlflowError.code).toBe('INVALID_PARAMETER_VALUE');
    return mlflowError;
  }
  throw new Error(`expected filter ${JSON.stringify(filter)} to be rejected`);
}

const RUN_ATTRIBUTE_KEYS =
  "'{'Created', 'Run Name', 'Run name', 'artifact_uri', 'created', 'end_time', 'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'";
const RUN_ENTITY_TYPES = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";

describe('parseRunFilter: accepted filters (MLflow test_search_utils cases)', () => {
  test.each<[string, FilterNode]>([
    ['metric.acc >= 0.94', cmp('metric', 'acc', '>=', 0.94)],
    ['metric.acc>=100', cmp('metric', 'acc', '>=', 100)],
    ["params.m!='tf'", cmp('param', 'm', '!=', 'tf')],
    ['params."m"!="tf"', cmp('param', 'm', '!=', 'tf')],
    ['metric."legit name" >= 0.243', cmp('metric', 'legit name', '>=', 0.243)],
    ['metrics.XYZ = 3', cmp('metric', 'XYZ', '=', 3)],
    ['params."cat dog" = "pets"', cmp('param', 'cat dog', '=', 'pets')],
    ['metrics."X-Y-Z" = 3', cmp('metric', 'X-Y-Z', '=', 3)],
    ['metrics."X//Y#$$@&Z" = 3', cmp('metric', 'X//Y#$$@&Z', '=', 3)],
    ["params.model = 'LinearRegression'", cmp('param', 'model', '=', 'LinearRegression')],
    ['`metric`.a >= 0.1', cmp('metric', 'a', '>=', 0.1)],
    ["tags.version = 'commit-hash'", cmp('tag', 'version', '=', 'commit-hash')],
    ["`tags`.source_name = 'a notebook'", cmp('tag', 'source_name', '=', 'a notebook')],
    ['metrics."accuracy.2.0" > 5', cmp('metric', 'accuracy.2.0', '>', 5)],
    ['metrics.`spacey name` > 5', cmp('metric', 'spacey name', '>', 5)],
    ['params."p.a.r.a.m" != "a"', cmp('param', 'p.a.r.a.m', '!=', 'a')],
    ['tags."t.a.g" = "a"', cmp('tag', 't.a.g', '=', 'a')],
    ["attribute.artifact_uri = '1/23/4'", cmp('attribute', 'artifact_uri', '=', '1/23/4')],
    ['attribute.start_time >= 1234', cmp('attribute', 'start_time', '>=', 1234)],
    ["run.status = 'RUNNING'", cmp('attribute', 'status', '=', 'RUNNING')],
    ["dataset.name = 'my_dataset'", cmp('dataset', 'name', '=', 'my_dataset')],
    ["dataset.digest = 'abc123'", cmp('dataset', 'digest', '=', 'abc123')],
    ["datasets.context = 'train'", cmp('dataset', 'context', '=', 'train')],
    ['tags.version IS NULL', cmp('tag', 'version', 'IS NULL', null)],
    ['tags.version IS NOT NULL', cmp('tag', 'version', 'IS NOT NULL', null)],
    ['params.lr IS NULL', cmp('param', 'lr', 'IS NULL', null)],
    ['params.lr is not null', cmp('param', 'lr', 'IS NOT NULL', null)],
    ["params.m = 'LR'", cmp('param', 'm', '=', 'LR')],
    ['params.m = "LR"', cmp('param', 'm', '=', 'LR')],
    [`params.m = "L'Hosp"`, cmp('param', 'm', '=', "L'Hosp")],
    ["run_id = 'abc123'", cmp('attribute', 'run_id', '=', 'abc123')],
    ["status = 'READY'", cmp('attribute', 'status', '=', 'READY')],
    ['end_time = 123', cmp('attribute', 'end_time', '=', 123)],
    ["user_id = 'alice'", cmp('attribute', 'user_id', '=', 'alice')],
    ['  metrics.a  >  1  ', cmp('metric', 'a', '>', 1)],
  ])('%s', (filter, expected) => {
    expect(parseRunFilter(filter)).toEqual(expected);
  });
});

describe('parseRunFilter: identifiers', () => {
  test.each([
    ['metric.a = 1', 'metric'],
    ['metrics.a = 1', 'metric'],
    ['`metrics`.a = 1', 'metric'],
    ["parameter.a = 'x'", 'param'],
    ["parameters.a = 'x'", 'param'],
    ["param.a = 'x'", 'param'],
    ["params.a = 'x'", 'param'],
    ["tag.a = 'x'", 'tag'],
    ["tags.a = 'x'", 'tag'],
  ])('type alias: %s', (filter, type) => {
    expect(parseRunFilter(filter)).toEqual(
      cmp(type as Comparison['type'], 'a', '=', filter.endsWith('1') ? 1 : 'x'),
    );
  });

  test.each(['attribute', 'attributes', 'attr', 'run', '`attribute`'])('attribute alias %s', (prefix) => {
    expect(parseRunFilter(`${prefix}.status = 'x'`)).toEqual(cmp('attribute', 'status', '=', 'x'));
  });

  test.each(['dataset', 'datasets'])('dataset alias %s', (prefix) => {
    expect(parseRunFilter(`${prefix}.name = 'x'`)).toEqual(cmp('dataset', 'name', '=', 'x'));
  });

  test.each([
    ["attributes.run_name = 'x'", 'run_name'],
    ["attributes.`run name` = 'x'", 'run_name'],
    ['attributes."Run name" = \'x\'', 'run_name'],
    ["attributes.`Run Name` = 'x'", 'run_name'],
    ['"run name" = \'x\'', 'run_name'],
    ["`Run Name` = 'x'", 'run_name'],
  ])('run name alias: %s', (filter, key) => {
    expect(parseRunFilter(filter)).toEqual(cmp('attribute', key, '=', 'x'));
  });

  test.each(['created > 5', 'Created > 5', 'attributes.created > 5', 'start_time > 5'])(
    'created alias: %s',
    (filter) => {
      expect(parseRunFilter(filter)).toEqual(cmp('attribute', 'start_time', '>', 5));
    },
  );

  test('the key is everything after the first dot; unquoted dotted keys are allowed', () => {
    expect(parseRunFilter("tags.mlflow.runName = 'x'")).toEqual(cmp('tag', 'mlflow.runName', '=', 'x'));
    expect(parseRunFilter("tags.`mlflow.prompt.is_prompt` != 'true'")).toEqual(
      cmp('tag', 'mlflow.prompt.is_prompt', '!=', 'true'),
    );
    expect(parseRunFilter('params."double.quoted.key" = \'v\'')).toEqual(
      cmp('param', 'double.quoted.key', '=', 'v'),
    );
    expect(parseRunFilter("tags.`user-name` = 'v'")).toEqual(cmp('tag', 'user-name', '=', 'v'));
  });

  test('unicode keys and values', () => {
    expect(parseRunFilter('metrics.日本 = 3')).toEqual(cmp('metric', '日本', '=', 3));
    expect(parseRunFilter("params.café = 'value'")).toEqual(cmp('param', 'café', '=', 'value'));
    expect(parseRunFilter("params.Ω = 'ω'")).toEqual(cmp('param', 'Ω', '=', 'ω'));
    expect(parseRunFilter("tags.emoji = '🚀'")).toEqual(cmp('tag', 'emoji', '=', '🚀'));
    expect(parseRunFilter('metrics."日本 語" = 3')).toEqual(cmp('metric', '日本 語', '=', 3));
  });

  test('unknown entity types are rejected with MLflow’s message', () => {
    for (const [filter, type] of [
      ['m.acc >= 0.94', 'm'],
      ["p.model >= 'LR'", 'p'],
      ['attri.x != 1', 'attri'],
      ['a.x != 1', 'a'],
      ["trace.status = 'OK'", 'trace'],
      ['`metric.a` = 1', '`metric'],
    ]) {
      expect(errorOf(parseRunFilter, filter).message).toBe(
        `Invalid entity type '${type}'. Valid values are ${RUN_ENTITY_TYPES}`,
      );
    }
  });

  test.each([
    ['acc >= 0.94', 'acc'],
    ["model >= 'LR'", 'model'],
    ['attribute.start != 1', 'start'],
    ['attribute.experiment_id != 1', 'experiment_id'],
    ["attribute.lifecycle_stage = 'ACTIVE'", 'lifecycle_stage'],
    ['attribute.name != 1', 'name'],
    ['attribute.time != 1', 'time'],
    ["attribute._status != 'RUNNING'", '_status'],
    ['acc != 1.0', 'acc'],
    ['foo is null', 'foo'],
    ["name = 'foo'", 'name'],
    ["attr.a = 'x'", 'a'],
    ["RUN_ID = 'x'", 'RUN_ID'],
  ])('invalid attribute key: %s', (filter, key) => {
    expect(errorOf(parseRunFilter, filter).message).toBe(
      `Invalid attribute key '${key}' specified. Valid keys are ${RUN_ATTRIBUTE_KEYS}`,
    );
  });

  test.each(["dataset.status = 'true'", "dataset.profile = 'num_rows: 10'"])(
    'invalid dataset key: %s',
    (filter) => {
      expect(errorOf(parseRunFilter, filter).message).toMatch(
        /^Invalid dataset key '\w+' specified\. Valid keys are '\{'context', 'digest', 'name'\}'$/,
      );
    },
  );
});

describe('parseRunFilter: values', () => {
  test.each([
    ['1e10', 1e10],
    ['1E10', 1e10],
    ['-5', -5],
    ['.5', 0.5],
    ['100.', 100],
    ['0.0', 0],
    ['-1.5e-3', -0.0015],
    ['2.5E+3', 2500],
    ['123456789012345', 123456789012345],
  ])('metric number %s', (text, value) => {
    expect(parseRunFilter(`metrics.m <= ${text}`)).toEqual(cmp('metric', 'm', '<=', value));
  });

  test('string values keep their text verbatim between the quotes (no escape processing)', () => {
    expect(parseRunFilter("params.k = 'a\\'b'")).toEqual(cmp('param', 'k', '=', "a\\'b"));
    expect(parseRunFilter('params.k = "a\\"b"')).toEqual(cmp('param', 'k', '=', 'a\\"b'));
    expect(parseRunFilter("params.k = 'it''s'")).toEqual(cmp('param', 'k', '=', "it''s"));
    expect(parseRunFilter("params.k = ''")).toEqual(cmp('param', 'k', '=', ''));
    expect(parseRunFilter('params.k = ""')).toEqual(cmp('param', 'k', '=', ''));
    expect(parseRunFilter("params.k = 'with, comma AND (paren)'")).toEqual(
      cmp('param', 'k', '=', 'with, comma AND (paren)'),
    );
    expect(parseRunFilter("params.k = 'trailing space '")).toEqual(cmp('param', 'k', '=', 'trailing space '));
    expect(parseRunFilter(`params.k = '${'x'.repeat(500)}'`)).toEqual(
      cmp('param', 'k', '=', 'x'.repeat(500)),
    );
  });

  test.each([
    ["metric.model = 'LR'", "Expected numeric value type for metric. Found 'LR'"],
    ["metric.model = '5'", "Expected numeric value type for metric. Found '5'"],
    ['metrics.acc != metrics.acc', 'Expected numeric value type for metric. Found metrics.acc'],
    ["metrics.foo LIKE '%x%'", "Expected numeric value type for metric. Found '%x%'"],
    ["metrics.foo IN ('a')", "Expected numeric value type for metric. Found ('a')"],
    ['metrics.m = 0x1F', 'Expected numeric value type for metric. Found 0x1F'],
    ['params.acc = 5', "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"],
    ['tags.acc = 5', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5"],
    ["params.a IN ('x')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('x')"],
    ['attribute.status = 1', 'Expected a quoted string value for attributes. Got value 1'],
    [
      "attribute.start_time LIKE '5'",
      "Expected numeric value type for numeric attribute: start_time. Found '5'",
    ],
    [
      "created = 'yesterday'",
      "Expected numeric value type for numeric attribute: created. Found 'yesterday'",
    ],
    ['datasets.name = 40', 'Expected a quoted string value for dataset attributes. Got value 40'],
    [
      'params.acc = LR',
      'Parameter value is either not quoted or unidentified quote types used for string value LR. Use either single or double quotes.',
    ],
    [
      'tags.acc = LR',
      'Parameter value is either not quoted or unidentified quote types used for string value LR.',
    ],
    [
      'params.acc = `LR`',
      'Parameter value is either not quoted or unidentified quote types used for string value `LR`.',
    ],
    ['attribute.status = true', 'Parameter value is either not quoted'],
  ])('%s', (filter, message) => {
    expect(errorOf(parseRunFilter, filter).message).toContain(message);
  });
});

describe('parseRunFilter: comparators', () => {
  test.each([
    ['metrics', ['~', '~=', 'LIKE', 'ILIKE', '<>', '=='], 'abc', '1.0'],
    ['params', ['>', '<', '>=', '<=', '~'], 'abc', "'my-param-value'"],
    ['tags', ['>', '<', '>=', '<=', '~'], 'abc', "'my-tag-value'"],
    ['attributes', ['>', '<', '>=', '<=', '~'], 'status', "'my-tag-value'"],
    ['attributes', ['LIKE', 'ILIKE', '~'], 'start_time', '1234'],
    ['datasets', ['>', '<', '>=', '<=', '~'], 'name', "'my-dataset-name'"],
  ])('%s rejects %j', (type, comparators, key, value) => {
    for (const comparator of comparators) {
      expect(errorOf(parseRunFilter, `${type}.${key} ${comparator} ${value}`).message).toMatch(
        new RegExp(`^Invalid comparator '${comparator}' not one of '\\{.*\\}'$`),
      );
    }
  });

  test("`params`.model >= 'LR' parses in MLflow but its stores reject the comparator", () => {
    expect(errorOf(parseRunFilter, "`params`.model >= 'LR'").message).toContain("Invalid comparator '>='");
  });

  test('comparators are case-insensitive and normalised to upper case', () => {
    expect(parseRunFilter("params.a like 'x%'")).toEqual(cmp('param', 'a', 'LIKE', 'x%'));
    expect(parseRunFilter("tags.a iLike '%X'")).toEqual(cmp('tag', 'a', 'ILIKE', '%X'));
    expect(parseRunFilter("attributes.run_name LIKE 'x'")).toEqual(cmp('attribute', 'run_name', 'LIKE', 'x'));
    expect(parseRunFilter("datasets.digest ilike 'ab%'")).toEqual(cmp('dataset', 'digest', 'ILIKE', 'ab%'));
    expect(parseRunFilter("run_id in ('a')")).toEqual(cmp('attribute', 'run_id', 'IN', ['a']));
    expect(parseRunFilter("run_id not in ('a')")).toEqual(cmp('attribute', 'run_id', 'NOT IN', ['a']));
    expect(parseRunFilter('tags.t Is Not Null')).toEqual(cmp('tag', 't', 'IS NOT NULL', null));
  });

  test.each([
    ['metrics.acc IS NULL', "not for 'metric' 'acc'"],
    ['attribute.status IS NULL', "not for 'attribute' 'status'"],
    ['attribute.status IS NOT NULL', "not for 'attribute' 'status'"],
    ['datasets.name IS NULL', "not for 'dataset' 'name'"],
  ])('IS NULL is only for tags and params: %s', (filter, suffix) => {
    expect(errorOf(parseRunFilter, filter).message).toBe(
      `IS NULL / IS NOT NULL is only supported for tags and params, ${suffix}`,
    );
  });
});

describe('parseRunFilter: IN lists', () => {
  test.each<[string, string[]]>([
    ["run_id IN ('abc123', 'def456')", ['abc123', 'def456']],
    [
      "attribute.run_id IN ('abc123def456abc123def456abc1234f', 'bcd')",
      ['abc123def456abc123def456abc1234f', 'bcd'],
    ],
    ["attribute.run_id IN ('ABCUPPER', 'lower123')", ['lower123']],
    ["attribute.run_id IN ('MixedCase', 'lower')", ['lower']],
    ["run_id IN ('a',)", ['a']],
    ["run_id IN ('a')", ['a']],
    ["run_id IN ('a' 'b')", ['ab']],
    ['run_id IN ("a", \'b\')', ['a', 'b']],
    ["run_id IN ('a\\'b')", ["a'b"]],
    ["run_id IN ('1234', '12ab')", ['12ab']],
    ["run_id IN (('a', 'b'))", ['a', 'b']],
    ["run_id IN ('a)b', 'c')", ['a)b', 'c']],
  ])('%s', (filter, ids) => {
    expect(parseRunFilter(filter)).toEqual(cmp('attribute', 'run_id', 'IN', ids));
  });

  test('NOT IN may end up with an empty list when every id is dropped', () => {
    expect(parseRunFilter("attribute.run_id NOT IN ('UPPER')")).toEqual(
      cmp('attribute', 'run_id', 'NOT IN', []),
    );
  });

  test('dataset lists keep every item', () => {
    expect(parseRunFilter("datasets.name IN ('Iris', 'wine')")).toEqual(
      cmp('dataset', 'name', 'IN', ['Iris', 'wine']),
    );
    expect(parseRunFilter("dataset.context NOT IN ('train')")).toEqual(
      cmp('dataset', 'context', 'NOT IN', ['train']),
    );
  });

  test.each([
    [
      'attribute.run_id IN ()',
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    ],
    [
      "attribute.run_id IN ('a', 5)",
      "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 5)",
    ],
    ['run_id IN (1, 2)', 'but got different type in list: (1, 2)'],
    ["run_id IN (('a',),)", 'but got different type in list'],
    ["run_id IN ('a' 5)", 'but got ill-formed list.'],
    ["run_id IN ('a',, 'b')", 'but got ill-formed list.'],
    [
      "status IN ('READY', 'FAILED')",
      "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
    ],
    ["run_id IN 'a'", 'Invalid clause(s) in filter string'],
    ["run_id IN ('a'", 'Invalid clause(s) in filter string'],
    ["run_id NOT ('a')", 'Invalid clause(s) in filter string'],
  ])('%s', (filter, message) => {
    expect(errorOf(parseRunFilter, filter).message).toContain(message);
  });
});

describe('parseRunFilter, parseExperimentFilter, parseLoggedModelFilter: robustness', () => {
  test('random input only ever raises MlflowError INVALID_PARAMETER_VALUE', () => {
    const alphabet = [
      'metrics.a',
      'params.p',
      'tags.`t t`',
      'run_id',
      'datasets.name',
      'status',
      "'x'",
      '"y"',
      '1',
      '-2.5',
      '=',
      '!=',
      '>=',
      'LIKE',
      'in',
      'NOT',
      'IS',
      'NULL',
      'AND',
      'OR',
      '(',
      ')',
      "('a', 'B')",
      ',',
      ';',
      "'",
      '"',
      '`',
      '\\',
      '.',
      ' ',
      '@',
      '日',
    ];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const parts = Array.from({ length: 1 + random(12) }, () => alphabet[random(alphabet.length)]);
      const filter = parts.join(random(3) === 0 ? '' : ' ');
      for (const parse of [parseRunFilter, parseExperimentFilter, parseLoggedModelFilter]) {
        try {
          parse(filter);
        } catch (error) {
          if (!(error instanceof MlflowError) || error.code !== 'INVALID_PARAMETER_VALUE') {
            throw new Error(`${JSON.stringify(filter)} raised ${String(error)}`);
          }
        }
      }
    }
  });
});

describe('parseExperimentFilter', () => {
  test.each<[string, FilterNode]>([
    ["name = 'foo'", cmp('attribute', 'name', '=', 'foo')],
    ["name != 'foo'", cmp('attribute', 'name', '!=', 'foo')],
    ["name LIKE '%foo%'", cmp('attribute', 'name', 'LIKE', '%foo%')],
    ["name ilike '%foo%'", cmp('attribute', 'name', 'ILIKE', '%foo%')],
    ["attribute.name = 'x'", cmp('attribute', 'name', '=', 'x')],
    ['creation_time > 100', cmp('attribute', 'creation_time', '>', 100)],
    ['last_update_time <= 999', cmp('attribute', 'last_update_time', '<=', 999)],
    ["tags.a = 'b'", cmp('tag', 'a', '=', 'b')],
    ["tag.`a b` != 'b'", cmp('tag', 'a b', '!=', 'b')],
    ["tags.a LIKE 'b%'", cmp('tag', 'a', 'LIKE', 'b%')],
    ['tag.key1 IS NOT NULL', cmp('tag', 'key1', 'IS NOT NULL', null)],
    ['tags.key2 IS NULL', cmp('tag', 'key2', 'IS NULL', null)],
  ])('%s', (filter, expected) => {
    expect(parseExperimentFilter(filter)).toEqual(expected);
  });

  test('AND, OR and parentheses', () => {
    expect(parseExperimentFilter("name ILIKE 'exp%' AND tags.a = '1'")).toEqual({
      kind: 'and',
      children: [cmp('attribute', 'name', 'ILIKE', 'exp%'), cmp('tag', 'a', '=', '1')],
    });
    expect(parseExperimentFilter("name = 'a' OR (name = 'b' AND creation_time > 5)")).toEqual({
      kind: 'or',
      children: [
        cmp('attribute', 'name', '=', 'a'),
        {
          kind: 'and',
          children: [cmp('attribute', 'name', '=', 'b'), cmp('attribute', 'creation_time', '>', 5)],
        },
      ],
    });
  });

  test.each([
    ['metrics.a > 1', "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ["params.a = 'x'", "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"],
    [
      "attributes.name = 'x'",
      "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')",
    ],
    ["`tags`.a = 'x'", "Invalid entity type '`tags`'. Valid entity types are ('attribute', 'tag', 'tags')"],
    [
      "experiment_id = '1'",
      "Invalid attribute key 'experiment_id' specified. Valid keys are '{'creation_time', 'last_update_time', 'name'}'",
    ],
    ["status = 'x'", "Invalid attribute key 'status' specified."],
    ["name > 'a'", 'Invalid comparator for string attribute: >'],
    ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ['creation_time LIKE 5', 'Invalid comparator for numeric attribute: LIKE'],
    ["tags.a > 'x'", 'Invalid comparator for tag: >'],
    ["tags.a IN ('x')", "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')"],
    ['name IS NULL', "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'"],
    ['name = 5', 'Expected a quoted string value for attributes. Got value 5'],
    ["creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'"],
    ['tags.a = 1', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"],
  ])('%s', (filter, message) => {
    expect(errorOf(parseExperimentFilter, filter).message).toContain(message);
  });

  test('stray ANDs are ignored, as MLflow ignores them', () => {
    expect(parseExperimentFilter("name = 'a' AND")).toEqual(cmp('attribute', 'name', '=', 'a'));
  });
});

describe('parseLoggedModelFilter', () => {
  test.each<[string, FilterNode]>([
    ["name = 'm'", cmp('attribute', 'name', '=', 'm')],
    ["model_id = 'm-123'", cmp('attribute', 'model_id', '=', 'm-123')],
    ["model_type = 'agent'", cmp('attribute', 'model_type', '=', 'agent')],
    ["attributes.status = 'LOGGED_MODEL_READY'", cmp('attribute', 'status', '=', 'LOGGED_MODEL_READY')],
    ["source_run_id = 'r-1'", cmp('attribute', 'source_run_id', '=', 'r-1')],
    ['creation_timestamp > 100', cmp('attribute', 'creation_timestamp', '>', 100)],
    ['creation_time > 100', cmp('attribute', 'creation_timestamp', '>', 100)],
    ['last_updated_timestamp < 999', cmp('attribute', 'last_updated_timestamp', '<', 999)],
    ['attribute.last_updated_time < 999', cmp('attribute', 'last_updated_timestamp', '<', 999)],
    ['metrics.accuracy >= 0.9', cmp('metric', 'accuracy', '>=', 0.9)],
    ["params.lr = '0.01'", cmp('param', 'lr', '=', '0.01')],
    ['params.lr = 0.01', cmp('param', 'lr', '=', '0.01')],
    ["tags.`mlflow.source` LIKE 'x%'", cmp('tag', 'mlflow.source', 'LIKE', 'x%')],
    [
      "status IN ('LOGGED_MODEL_READY', 'LOGGED_MODEL_PENDING')",
      cmp('attribute', 'status', 'IN', ['LOGGED_MODEL_READY', 'LOGGED_MODEL_PENDING']),
    ],
    ["name NOT IN ('A')", cmp('attribute', 'name', 'NOT IN', ['A'])],
    ["params.optimizer IN ('Adam', 'sgd')", cmp('param', 'optimizer', 'IN', ['Adam', 'sgd'])],
    ['tags.t IS NULL', cmp('tag', 't', 'IS NULL', null)],
  ])('%s', (filter, expected) => {
    expect(parseLoggedModelFilter(filter)).toEqual(expected);
  });

  test.each([
    [
      "datasets.name = 'x'",
      "Invalid entity type 'datasets'. Valid values are ['metric', 'parameter', 'tag', 'attribute']",
    ],
    [
      "run_id = 'abc'",
      "Invalid attribute key 'run_id' specified. Valid keys are '{'creation_time', 'creation_timestamp', 'last_updated_time', 'last_updated_timestamp', 'model_id', 'model_type', 'name', 'source_run_id', 'status'}'",
    ],
    ['last_update_time < 999', "Invalid attribute key 'last_update_time' specified."],
    [
      "creation_timestamp > 'x'",
      "Expected numeric value type for numeric attribute: creation_timestamp. Found 'x'",
    ],
    [
      'metrics.a IS NULL',
      "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'a'",
    ],
    ['metrics.a LIKE 1', "Invalid comparator 'LIKE'"],
    ["params.a > 'x'", "Invalid comparator '>'"],
    [
      "creation_time IN ('1')",
      "Expected numeric value type for numeric attribute: creation_time. Found ('1')",
    ],
    ['params.a = foo', 'Parameter value is either not quoted'],
  ])('%s', (filter, message) => {
    expect(errorOf(parseLoggedModelFilter, filter).message).toContain(message);
  });
});
