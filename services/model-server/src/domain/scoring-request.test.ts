import { describe, expect, test } from '@jest/globals';
import { MlflowError } from '@mast/common';
import {
  contentFormat,
  parseCsvRequest,
  parseJsonRequest,
  UnsupportedMediaTypeError,
} from './scoring-request.js';

describe('contentFormat (spec 5.2)', () => {
  test.each([
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['application/json;charset=UTF-8', 'json'],
    ['text/csv', 'csv'],
  ])('%s is %s', (header, format) => {
    expect(contentFormat(header)).toBe(format);
  });

  test.each([
    [
      'text/plain',
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.",
    ],
    [
      undefined,
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'None'.",
    ],
    ['application/json; charset=utf-16', 'The scoring server only supports UTF-8'],
    ['text/csv; format=pandas-records', /^Unrecognized content type parameters: format\. IMPORTANT/],
  ])('%s is refused with MLflow 415 text', (header, message) => {
    expect(() => contentFormat(header)).toThrow(UnsupportedMediaTypeError);
    expect(() => contentFormat(header)).toThrow(message);
  });
});

describe('parseJsonRequest', () => {
  test('dataframe_split: columns and rows become columns of values', () => {
    expect(
      parseJsonRequest(
        '{"dataframe_split": {"columns": ["a", "b"], "index": [0, 1], "data": [[1, "x"], [2, "y"]]}}',
      ).input,
    ).toEqual({
      kind: 'frame',
      columns: ['a', 'b'],
      values: { a: [1, 2], b: ['x', 'y'] },
      rows: 2,
    });
  });

  test('dataframe_records: columns by first appearance, gaps are null', () => {
    expect(parseJsonRequest('{"dataframe_records": [{"a": 1}, {"b": 2, "a": 3}]}').input).toEqual({
      kind: 'frame',
      columns: ['a', 'b'],
      values: { a: [1, 3], b: [null, 2] },
      rows: 2,
    });
  });

  test('instances: records become named columns, lists one tensor', () => {
    expect(parseJsonRequest('{"instances": [{"a": 1, "b": [1, 2]}, {"a": 2, "b": [3, 4]}]}').input).toEqual({
      kind: 'tensors',
      values: {
        a: [1, 2],
        b: [
          [1, 2],
          [3, 4],
        ],
      },
    });
    expect(parseJsonRequest('{"instances": [[1, 2]]}').input).toEqual({ kind: 'tensor', value: [[1, 2]] });
    // MLflow's parse_instances_data (MlflowInvalidInputException).
    expect(() => parseJsonRequest('{"instances": [{"a": 1, "b": 1}, {"a": 2}]}')).toThrow(
      /^Invalid input\. The length of values for each input\/column name are not the same$/,
    );
  });

  test('inputs: a dict is named tensors, anything else one tensor; params are kept', () => {
    const request = parseJsonRequest('{"inputs": {"x": [[1]]}, "params": {"k": 2}}');
    expect(request).toEqual({
      input: { kind: 'tensors', values: { x: [[1]] } },
      params: { k: 2 },
      unwrapped: false,
    });
    expect(parseJsonRequest('{"inputs": [1, 2]}').input).toEqual({ kind: 'tensor', value: [1, 2] });
  });

  test('the unified LLM form: the whole object is the input, declared params split out, unwrapped', () => {
    expect(parseJsonRequest('{"messages": [{"role": "user"}], "temperature": 0.1}', ['temperature'])).toEqual(
      {
        input: { kind: 'tensors', values: { messages: [{ role: 'user' }] } },
        params: { temperature: 0.1 },
        unwrapped: true,
      },
    );
  });

  test.each([
    ['{', 'BAD_REQUEST', /^Invalid input\. Ensure that input is a valid JSON formatted string/],
    ['[1]', 'BAD_REQUEST', /Received a list\.$/],
    // MLflow's text has no closing quote after the type (`_decode_json_input`).
    ['"x"', 'BAD_REQUEST', /Received unexpected input type '<class 'str'>\.$/],
    ['null', 'BAD_REQUEST', /Received unexpected input type '<class 'NoneType'>\.$/],
    ['{"data": []}', 'BAD_REQUEST', /Received dictionary with input fields: \[\]\. IMPORTANT/],
    [
      '{"inputs": [], "dataframe_records": []}',
      'BAD_REQUEST',
      /input fields: \['inputs', 'dataframe_records'\]/,
    ],
    [
      '{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}',
      'BAD_REQUEST',
      /1 columns passed, passed data had 2 columns/,
    ],
    [
      '{"dataframe_split": [1]}',
      'BAD_REQUEST',
      /^Invalid input\. Dataframe split format must be a dictionary\. Got list\.$/,
    ],
    [
      '{"dataframe_split": {"columns": ["a"], "rows": [[1]]}}',
      'BAD_REQUEST',
      /^Invalid input\. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields\. Got \{'columns', 'rows'\}\.'$/,
    ],
    [
      '{"dataframe_records": {"a": 1}}',
      'BAD_REQUEST',
      /^Invalid input\. Dataframe records format must be a list of records\. Got dictionary\.$/,
    ],
    ['{"dataframe_records": "a"}', 'BAD_REQUEST', /Got type <class 'str'>\.$/],
    [
      '{"dataframe_records": [{"a": 1}, 1]}',
      'BAD_REQUEST',
      /^Invalid input\. Provided dataframe_records field is not a valid dataframe representation in 'records' format/,
    ],
    [
      '{"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}}',
      'BAD_REQUEST',
      /^Invalid input\. Provided dataframe_split field is not a valid dataframe representation in 'split' format/,
    ],
  ])('%s: %s', (body, code, message) => {
    let caught: unknown;
    try {
      parseJsonRequest(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MlflowError);
    expect((caught as MlflowError).code).toBe(code);
    expect((caught as MlflowError).message).toMatch(message);
  });
});

describe('parseCsvRequest', () => {
  test('numbers, booleans, empty cells and text typed as pandas reads them', () => {
    const request = parseCsvRequest('a,b,c,d\n1,True,x,\n2.5,False,"y, z",7\n');
    expect(request.input).toEqual({
      kind: 'frame',
      columns: ['a', 'b', 'c', 'd'],
      values: { a: [1, 2.5], b: [true, false], c: ['x', 'y, z'], d: [null, 7] },
      rows: 2,
    });
  });

  test('columns the signature declares as text stay text', () => {
    const request = parseCsvRequest('zip,n\n01234,1\n', ['zip']);
    expect(request.input).toEqual({
      kind: 'frame',
      columns: ['zip', 'n'],
      values: { zip: ['01234'], n: [1] },
      rows: 1,
    });
  });

  test('malformed CSV and an empty body: 400 BAD_REQUEST', () => {
    expect(() => parseCsvRequest('a,b\n1,"2\n')).toThrow(/^Failed to parse input as a Pandas DataFrame/);
    expect(() => parseCsvRequest('a,b\n1,2\n1,2,3\n')).toThrow(MlflowError);
    expect(() => parseCsvRequest('')).toThrow(/No columns to parse from file/);
  });

  test("rows as pandas' C parser takes them: short rows padded, an implicit index dropped, long rows refused", () => {
    expect(parseCsvRequest('a,b,c\n1,2\n3,4,5\n').input).toMatchObject({
      values: { a: [1, 3], b: [2, 4], c: [null, 5] },
      rows: 2,
    });
    expect(parseCsvRequest('a,b\n1,2"x\n', ['b']).input).toMatchObject({ values: { a: [1], b: ['2"x'] } });
    // A first row one cell longer than the header: its first cell is the index (`to_csv()` with index).
    expect(parseCsvRequest('a,b\n0,1,2\n1,3,4\n').input).toMatchObject({
      columns: ['a', 'b'],
      values: { a: [1, 3], b: [2, 4] },
      rows: 2,
    });
    // pandas counts blank lines in the line number of its ParserError.
    const caught = (() => {
      try {
        return parseCsvRequest('a,b\n1,2\n\n1,2,3,4\n');
      } catch (error) {
        return error;
      }
    })() as MlflowError & { stackTrace: string };
    expect(caught).toBeInstanceOf(MlflowError);
    expect(caught.message).toMatch(
      /Error: 'Error tokenizing data\. C error: Expected 2 fields in line 4, saw 4\n'$/,
    );
    expect(caught.stackTrace).toBe(
      'pandas.errors.ParserError: Error tokenizing data. C error: Expected 2 fields in line 4, saw 4\n',
    );
  });
});

describe("names that Object.prototype holds are the client's names", () => {
  test('`__proto__` and `toString` columns and inputs in every format, not a prototype (and no 500)', () => {
    const split = parseJsonRequest('{"dataframe_split": {"columns": ["__proto__", "f0"], "data": [[1, 2]]}}');
    expect(split.input.kind === 'frame' && Object.hasOwn(split.input.values, '__proto__')).toBe(true);
    expect(split.input).toMatchObject({ columns: ['__proto__', 'f0'], values: { f0: [2] } });
    // A record without `toString` has a gap there, not Object.prototype.toString.
    const records = parseJsonRequest('{"dataframe_records": [{"toString": 1}, {"f0": 2}]}');
    expect(records.input).toMatchObject({ values: { toString: [1, null], f0: [null, 2] } });
    const instances = parseJsonRequest(
      '{"instances": [{"__proto__": 1, "f0": 2}, {"__proto__": 3, "f0": 4}]}',
    );
    expect(instances.input.kind === 'tensors' && Object.entries(instances.input.values)).toEqual([
      ['__proto__', [1, 3]],
      ['f0', [2, 4]],
    ]);
    const csv = parseCsvRequest('__proto__,f0\n1,2\n');
    expect(csv.input.kind === 'frame' && Object.keys(csv.input.values)).toEqual(['__proto__', 'f0']);
  });

  test('a `__proto__` key of a body Python-only JSON reads is a key: it does not make the body an LLM one', () => {
    const parsed = parseJsonRequest('{"__proto__": {"messages": []}, "inputs": [NaN]}');
    expect(parsed.unwrapped).toBe(false);
    expect(parsed.input).toEqual({ kind: 'tensor', value: [Number.NaN] });
  });
});
