import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import { type OrderByTerm, parseExperimentOrderBy, parseRunOrderBy } from './order-by.js';

function errorOf(parse: (orderBy: string[]) => OrderByTerm[], orderBy: string[]): MlflowError {
  try {
    parse(orderBy);
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowError);
    expect((error as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    return error as MlflowError;
  }
  throw new Error(`expected ${JSON.stringify(orderBy)} to be rejected`);
}

const RUN_ORDER_BY_KEYS =
  "'{'Created', 'artifact_uri', 'created', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'";
const EXPERIMENT_ORDER_BY_KEYS = "'{'creation_time', 'experiment_id', 'last_update_time', 'name'}'";

describe('parseRunOrderBy', () => {
  test.each<[string, OrderByTerm]>([
    ['metrics.foo', { type: 'metric', key: 'foo', ascending: true }],
    ['metrics.foo ASC', { type: 'metric', key: 'foo', ascending: true }],
    ['metrics.foo DESC', { type: 'metric', key: 'foo', ascending: false }],
    ['metrics.foo asc', { type: 'metric', key: 'foo', ascending: true }],
    ['metric.foo desc', { type: 'metric', key: 'foo', ascending: false }],
    ['metrics.key1 aSc', { type: 'metric', key: 'key1', ascending: true }],
    ['metrics."key1"  desc', { type: 'metric', key: 'key1', ascending: false }],
    ['metrics.`Mean Square Error`', { type: 'metric', key: 'Mean Square Error', ascending: true }],
    ['metrics.`Mean Square Error` ASC', { type: 'metric', key: 'Mean Square Error', ascending: true }],
    ['metrics.`Mean Square Error` DESC', { type: 'metric', key: 'Mean Square Error', ascending: false }],
    ['metrics."quoted key" DESC', { type: 'metric', key: 'quoted key', ascending: false }],
    ['params.my_param', { type: 'param', key: 'my_param', ascending: true }],
    ['params.`my_param` DESC', { type: 'param', key: 'my_param', ascending: false }],
    ['tags.tag1    DESC', { type: 'tag', key: 'tag1', ascending: false }],
    ['tags.`x`', { type: 'tag', key: 'x', ascending: true }],
    ['tags.mlflow.runName', { type: 'tag', key: 'mlflow.runName', ascending: true }],
    ['attributes.status  ASC', { type: 'attribute', key: 'status', ascending: true }],
    ['attribute.start_time DESC', { type: 'attribute', key: 'start_time', ascending: false }],
    ['attribute.run_id', { type: 'attribute', key: 'run_id', ascending: true }],
    ['attribute.run_name DESC', { type: 'attribute', key: 'run_name', ascending: false }],
    ['run_id', { type: 'attribute', key: 'run_id', ascending: true }],
    ['status', { type: 'attribute', key: 'status', ascending: true }],
    ['end_time', { type: 'attribute', key: 'end_time', ascending: true }],
    ['artifact_uri', { type: 'attribute', key: 'artifact_uri', ascending: true }],
    ['user_id ASC', { type: 'attribute', key: 'user_id', ascending: true }],
    ['created', { type: 'attribute', key: 'start_time', ascending: true }],
    ['Created DESC', { type: 'attribute', key: 'start_time', ascending: false }],
    ['`attributes`.run_name', { type: 'attribute', key: 'run_name', ascending: true }],
    // MLflow rejects surrounding whitespace ("Could not be parsed"); Mast tolerates it.
    ['params.my_param ', { type: 'param', key: 'my_param', ascending: true }],
    ['  start_time  DESC  ', { type: 'attribute', key: 'start_time', ascending: false }],
  ])('%j', (clause, term) => {
    expect(parseRunOrderBy([clause])).toEqual([term]);
  });

  test('several clauses keep their order', () => {
    expect(parseRunOrderBy(['params.my_param aSc', 'attributes.status  ASC', 'metrics.m DESC'])).toEqual([
      { type: 'param', key: 'my_param', ascending: true },
      { type: 'attribute', key: 'status', ascending: true },
      { type: 'metric', key: 'm', ascending: false },
    ]);
  });

  test('no order_by: no terms', () => {
    expect(parseRunOrderBy(undefined)).toEqual([]);
    expect(parseRunOrderBy([])).toEqual([]);
  });

  test.each([
    [
      'm.acc',
      "Invalid entity type 'm'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    ],
    ['attri.x', "Invalid entity type 'attri'."],
    ['`metrics.A`', "Invalid entity type '`metrics'."],
    ['acc', `Invalid attribute key 'acc' specified. Valid keys are ${RUN_ORDER_BY_KEYS}`],
    ['attribute.start', "Invalid attribute key 'start' specified."],
    ['attribute.experiment_id', "Invalid attribute key 'experiment_id' specified."],
    ['name', "Invalid attribute key 'name' specified."],
    ['`name` DESC', "Invalid attribute key 'name' specified."],
    ['"run name"', "Invalid attribute key 'run name' specified."],
    ['timestamp', "Invalid attribute key 'timestamp' specified."],
    ['日本', "Invalid attribute key '日本' specified."],
    ['datasets.name', "Invalid identifier type 'dataset'"],
  ])('%j is rejected', (clause, message) => {
    expect(errorOf(parseRunOrderBy, [clause]).message).toContain(message);
  });

  test('sorting twice on one field is rejected, aliases included', () => {
    expect(errorOf(parseRunOrderBy, ['metrics.a', 'metrics.a DESC']).message).toBe(
      "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']",
    );
    expect(errorOf(parseRunOrderBy, ['created', 'start_time']).message).toContain('duplicate fields');
    expect(parseRunOrderBy(['metrics.a', 'params.a', 'tags.a'])).toHaveLength(3);
  });
});

describe('parseExperimentOrderBy', () => {
  test.each<[string, OrderByTerm]>([
    ['name', { type: 'attribute', key: 'name', ascending: true }],
    ['name ASC', { type: 'attribute', key: 'name', ascending: true }],
    ['name DESC', { type: 'attribute', key: 'name', ascending: false }],
    ['experiment_id', { type: 'attribute', key: 'experiment_id', ascending: true }],
    ['attribute.experiment_id desc', { type: 'attribute', key: 'experiment_id', ascending: false }],
    ['creation_time DESC', { type: 'attribute', key: 'creation_time', ascending: false }],
    ['last_update_time ASC', { type: 'attribute', key: 'last_update_time', ascending: true }],
    ['`name`', { type: 'attribute', key: 'name', ascending: true }],
  ])('%j', (clause, term) => {
    expect(parseExperimentOrderBy([clause])).toEqual([term]);
  });

  test('several clauses; none given', () => {
    expect(parseExperimentOrderBy(['creation_time DESC', 'experiment_id ASC'])).toEqual([
      { type: 'attribute', key: 'creation_time', ascending: false },
      { type: 'attribute', key: 'experiment_id', ascending: true },
    ]);
    expect(parseExperimentOrderBy(undefined)).toEqual([]);
  });

  test.each([
    ['tags.t', 'Invalid order_by entity: tag'],
    ['metrics.foo', "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ['attributes.name', "Invalid entity type 'attributes'."],
    [
      'start_time',
      `Invalid attribute key 'start_time' specified. Valid keys are ${EXPERIMENT_ORDER_BY_KEYS}`,
    ],
    ['creation_timestamp DESC', "Invalid attribute key 'creation_timestamp' specified."],
    ['name aCs', "Invalid ordering key in order_by clause 'name aCs'."],
    ['name DESC blah', "Invalid order_by clause 'name DESC blah'. Could not be parsed."],
    ['', 'Could not be parsed.'],
  ])('%j is rejected', (clause, message) => {
    expect(errorOf(parseExperimentOrderBy, [clause]).message).toContain(message);
  });
});
