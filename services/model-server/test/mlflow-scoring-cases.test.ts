/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { MLFLOW_COMPATIBLE_VERSION, parseSchema } from '@mast/common';
import * as ort from 'onnxruntime-node';
import { castBySchema } from '../src/domain/cast.js';
import { parseCsvRequest, parseJsonRequest } from '../src/domain/scoring-request.js';
import { generateTestModels, type TestModels } from './support/models.js';
import { type RunningServer, referenceRun, startServer } from './support/server.js';

/**
 * MLflow's own scoring-server tests (tests/pyfunc/test_scoring_server.py), each replayed against Mast
 * with an ONNX model in place of MLflow's sklearn / keras / PythonModel ones: the same request, and
 * the status, content type and body MLflow's server (mlflow/pyfunc/scoring_server/__init__.py)
 * answers it with. Each test bears the name of the MLflow test it comes from.
 */

const ROWS = [
  [1, 2, 3, 4],
  [0.5, 0.25, -1, 2],
  [-3.5, 7, 0, 1e-3],
];
const COLUMNS = ['f0', 'f1', 'f2', 'f3'];

/** A copy of a test model directory with its MLmodel's text changed by `edit`. */
async function variant(modelDir: string, edit: (mlmodel: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mast-scoring-case-'));
  await cp(modelDir, dir, { recursive: true });
  const mlmodel = await readFile(join(dir, 'MLmodel'), 'utf8');
  await writeFile(join(dir, 'MLmodel'), edit(mlmodel));
  return dir;
}

const withoutSignature = (mlmodel: string) => mlmodel.replace(/^signature:\n(?: {2}.*\n)+/m, '');

let models: TestModels;
/** The linear model's y for ROWS, from onnxruntime itself. */
let expected: number[];
/** MLflow's sklearn fixture model has no signature: the linear model without one. */
let unsigned: RunningServer;
let signed: RunningServer;

beforeAll(async () => {
  models = await generateTestModels();
  const outputs = await referenceRun(models.linear, {
    x: new ort.Tensor('float32', Float32Array.from(ROWS.flat()), [ROWS.length, 4]),
  });
  expected = Array.from(outputs.y!.data as Float32Array);
  unsigned = await startServer({ modelDir: await variant(models.linear, withoutSignature) });
  signed = await startServer({ modelDir: models.linear });
});
afterAll(async () => {
  await unsigned?.close();
  await signed?.close();
});

/** `pd.DataFrame(rows).to_dict(orient="split")` as json.dumps writes it. */
const splitOf = (rows: number[][]) => ({
  columns: rows[0]!.map((_, index) => index),
  index: rows.map((_, index) => index),
  data: rows,
});
/** `pd.DataFrame(rows).to_dict(orient="records")` as json.dumps writes it (integer labels as text). */
const recordsOf = (rows: number[][]) =>
  rows.map((row) => Object.fromEntries(row.map((value, index) => [String(index), value])));

describe('error responses', () => {
  test('test_scoring_server_responds_to_malformed_json_input_with_error_code_and_message', async () => {
    const reply = await unsigned.post('/invocations', 'this is,,,, not valid json');
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/json');
    // _decode_json_input: MlflowInvalidInputException with repr(JSONDecodeError) and the body.
    expect(reply.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        "Invalid input. Ensure that input is a valid JSON formatted string. Error: 'JSONDecodeError('Expecting " +
        "value: line 1 column 1 (char 0)')'\nInput: \nthis is,,,, not valid json\n",
    });
  });

  test('test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message', async () => {
    const fields =
      "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
    const notDicts: Array<[string, string]> = [
      ['1', `${fields}. Received unexpected input type '<class 'int'>.`],
      ['"1"', `${fields}. Received unexpected input type '<class 'str'>.`],
      ['[1]', `${fields}. Received a list.`],
    ];
    for (const [body, message] of notDicts) {
      const reply = await unsigned.post('/invocations', body);
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({ error_code: 'BAD_REQUEST', message: `Invalid input. ${message}` });
    }
    // _split_data_and_params keeps only the input fields: the message lists those it found.
    const formats: Array<[object, string]> = [
      [{ not: 'a serialized dataframe' }, '[]'],
      [{ dataframe_records: [], dataframe_split: { data: [] } }, "['dataframe_records', 'dataframe_split']"],
    ];
    for (const [body, found] of formats) {
      const reply = await unsigned.post('/invocations', body);
      expect(reply.status).toBe(400);
      expect(reply.json.error_code).toBe('BAD_REQUEST');
      expect(reply.json.message).toMatch(
        new RegExp(
          `^The input must be a JSON dictionary with exactly one of the input fields \\{.*\\}\\. Received dictionary with input fields: ${found.replace(/[[\]]/g, '\\$&')}\\. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2\\.0\\.`,
        ),
      );
    }
  });

  test('test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code', async () => {
    const split = await unsigned.post('/invocations', { dataframe_split: recordsOf(ROWS) });
    expect(split.status).toBe(400);
    expect(split.json).toEqual({
      error_code: 'BAD_REQUEST',
      message: 'Invalid input. Dataframe split format must be a dictionary. Got list.',
    });
    const records = await unsigned.post('/invocations', { dataframe_records: splitOf(ROWS) });
    expect(records.status).toBe(400);
    expect(records.json).toEqual({
      error_code: 'BAD_REQUEST',
      message: 'Invalid input. Dataframe records format must be a list of records. Got dictionary.',
    });
  });

  test('test_scoring_server_responds_to_invalid_dataframe_with_stacktrace_and_error_code', async () => {
    const reply = await unsigned.post('/invocations', {
      dataframe_split: { index: [1, 2], data: [[1], [2], [3]] },
    });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        "Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format. " +
        "Error: 'Shape of passed values is (3, 1), indices imply (2, 1)'",
    });
  });

  test('test_scoring_server_responds_to_incompatible_inference_dataframe_with_stacktrace_and_error_code', async () => {
    // pd.DataFrame(np.array(range(10))): one column where the model takes four; the model itself
    // fails, which MLflow answers with its "unexpected error" and the traceback.
    const column = Array.from({ length: 10 }, (_, index) => [index]);
    const reply = await unsigned.post('/invocations', { dataframe_split: splitOf(column) });
    expect(reply.status).toBe(400);
    expect(reply.json.error_code).toBe('BAD_REQUEST');
    expect(reply.json.message).toBe(
      'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is ' +
        'compatible with the model for inference.',
    );
    expect(typeof reply.json.stack_trace).toBe('string');
  });

  test('test_scoring_server_responds_to_invalid_csv_input_with_stacktrace_and_error_code', async () => {
    const reply = await unsigned.post('/invocations', '', 'text/csv');
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas ' +
        "DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: 'No columns to parse from file'",
      stack_trace: 'pandas.errors.EmptyDataError: No columns to parse from file',
    });
  });

  test('test_scoring_server_responds_to_invalid_content_type_request_with_unsupported_content_type_code', async () => {
    const reply = await unsigned.post(
      '/invocations',
      JSON.stringify(splitOf(ROWS)),
      'not_a_supported_content_type',
    );
    expect(reply.status).toBe(415);
    // Starlette's Response(media_type="text/plain") adds the charset.
    expect(reply.contentType).toBe('text/plain; charset=utf-8');
    expect(reply.text).toBe(
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. " +
        "Got 'not_a_supported_content_type'.",
    );
  });

  test('test_scoring_server_responds_to_invalid_content_type_request_with_unrecognized_content_param', async () => {
    const reply = await unsigned.post(
      '/invocations',
      JSON.stringify(splitOf(ROWS)),
      'application/json; something=something',
    );
    expect(reply.status).toBe(415);
    expect(reply.contentType).toBe('text/plain; charset=utf-8');
    expect(reply.text).toMatch(
      /^Unrecognized content type parameters: something\. IMPORTANT: The MLflow Model scoring protocol has changed/,
    );
  });
});

describe('successful scoring', () => {
  /** The unsigned ONNX model answers a DataFrame with a DataFrame of its outputs: records. */
  const records = () => expected.map((y) => ({ y }));

  test('test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation', async () => {
    const body = { dataframe_records: recordsOf(ROWS) };
    for (const contentType of ['application/json', 'application/json; charset=UTF-8']) {
      const reply = await unsigned.post('/invocations', body, contentType);
      expect(reply.status).toBe(200);
      expect(reply.contentType).toBe('application/json');
      expect(reply.json).toEqual({ predictions: records() });
    }
  });

  test('test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_split_orientation', async () => {
    const body = { dataframe_split: splitOf(ROWS) };
    for (const contentType of ['application/json; charset=UTF-8', 'application/json']) {
      const reply = await unsigned.post('/invocations', body, contentType);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ predictions: records() });
    }
  });

  test('test_scoring_server_successfully_evaluates_correct_tf_serving_sklearn', async () => {
    // A list of lists is one ndarray: the ONNX flavor answers an ndarray with {output: array}.
    const reply = await unsigned.post('/invocations', { instances: ROWS });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: { y: expected.map((y) => [y]) } });
  });

  test('test_scoring_server_successfully_evaluates_correct_tf_serving_keras_instances', async () => {
    // The keras model's two named inputs: the classifier's, one object per instance.
    const server = await startServer({ modelDir: models.classifier });
    try {
      const instances = [
        { sepal_length: 5.1, petal_count: 3 },
        { sepal_length: 6.3, petal_count: 1 },
      ];
      const reply = await server.post('/invocations', { instances });
      expect(reply.status).toBe(200);
      expect(reply.json.predictions).toHaveLength(2);
      expect(Object.keys(reply.json.predictions[0]).sort()).toEqual(['label', 'probability']);
    } finally {
      await server.close();
    }
  });

  test('test_scoring_server_successfully_evaluates_correct_tf_serving_keras_inputs', async () => {
    const server = await startServer({ modelDir: models.classifier });
    try {
      const byInputs = await server.post('/invocations', {
        inputs: { sepal_length: [5.1, 6.3], petal_count: [3, 1] },
      });
      expect(byInputs.status).toBe(200);
      const byInstances = await server.post('/invocations', {
        instances: [
          { sepal_length: 5.1, petal_count: 3 },
          { sepal_length: 6.3, petal_count: 1 },
        ],
      });
      expect(byInputs.json).toEqual(byInstances.json);
    } finally {
      await server.close();
    }
  });

  test('test_parse_json_input_including_path: URL-like text stays text', async () => {
    // MLflow's PythonModel returns 1 whatever it gets; the point is that "aaa://bbb" is data, not a
    // path to read. Here the classifier's optional string column carries them.
    const server = await startServer({ modelDir: models.classifier });
    try {
      const reply = await server.post('/invocations', {
        dataframe_split: {
          columns: ['sepal_length', 'petal_count', 'comment'],
          data: [
            [5.1, 3, 'http://foo.com'],
            [6.3, 1, 'aaa://bbb'],
          ],
        },
      });
      expect(reply.status).toBe(200);
      expect(reply.json.predictions).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test('test_scoring_server_client: /ping, /health and /version', async () => {
    for (const path of ['/ping', '/health']) {
      const reply = await signed.get(path);
      expect(reply.status).toBe(200);
      expect(reply.contentType).toBe('application/json');
      expect(reply.text).toBe('\n');
    }
    const version = await signed.get('/version');
    expect(version.status).toBe(200);
    expect(version.contentType).toBe('application/json');
    expect(version.text).toBe(MLFLOW_COMPATIBLE_VERSION);
    // ScoringServerClient.invoke posts the DataFrame as dataframe_split and reads 'predictions'.
    const reply = await signed.post('/invocations', { dataframe_split: { columns: COLUMNS, data: ROWS } });
    expect(reply.json).toEqual({ predictions: records() });
  });

  test('large payloads: 20,000 rows in one dataframe_split', async () => {
    const rows = Array.from({ length: 20_000 }, (_, index) => ROWS[index % ROWS.length]!);
    const reply = await signed.post('/invocations', { dataframe_split: { columns: COLUMNS, data: rows } });
    expect(reply.status).toBe(200);
    expect(reply.json.predictions).toHaveLength(20_000);
    expect(reply.json.predictions[4]).toEqual({ y: expected[1] });
  });
});

describe('the unified LLM form (messages, prompt, input): passed to the model as the JSON dict it is', () => {
  const schema =
    "['f0': double (required), 'f1': double (required), 'f2': double (required), 'f3': double (required)]";
  const cases: Array<[string, object, string, string]> = [
    [
      'test_scoring_server_allows_payloads_with_llm_chat_keys_for_pyfunc',
      { messages: [{ role: 'user', content: 'hello!' }], temperature: 0.5, max_tokens: 20 },
      "{'messages': [{'role': 'user', 'content': 'hello!'}], 'temperature': 0.5, 'max_tokens': 20}",
      "['messages', 'temperature', 'max_tokens']",
    ],
    [
      'test_scoring_server_allows_payloads_with_llm_completions_keys_for_pyfunc',
      { prompt: 'hello!', temperature: 0.5, max_tokens: 20 },
      "{'prompt': 'hello!', 'temperature': 0.5, 'max_tokens': 20}",
      "['prompt', 'temperature', 'max_tokens']",
    ],
    [
      'test_scoring_server_allows_payloads_with_llm_embeddings_keys_for_pyfunc',
      { input: 'hello!', random: 'test' },
      "{'input': 'hello!', 'random': 'test'}",
      "['input', 'random']",
    ],
  ];
  test.each(cases)('%s', async (_name, body, data, extra) => {
    // An ONNX model cannot answer a chat; what is checked is the path: no envelope, every key is
    // data (no params schema), the dict printed as Python prints it, schema enforcement's error.
    const reply = await signed.post('/invocations', body);
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        `Failed to predict data '${data}'. \nError: Failed to enforce schema of data '${data}' with schema ` +
        `'${schema}'. Error: Model is missing inputs ['f0', 'f1', 'f2', 'f3']. Note that there were extra inputs: ${extra}`,
    });
    // Without a signature nothing is enforced: the runtime refuses the dict (MLflow's unexpected error).
    const bare = await unsigned.post('/invocations', body);
    expect(bare.status).toBe(400);
    expect(bare.json.error_code).toBe('BAD_REQUEST');
    expect(bare.json.message).toMatch(/^Encountered an unexpected error while evaluating the model\./);
    expect(typeof bare.json.stack_trace).toBe('string');
  });
});

describe('unknown fields and NaN', () => {
  test('fields besides the input field and params are ignored (_split_data_and_params)', async () => {
    const reply = await unsigned.post('/invocations', { instances: ROWS, unknown: 1, signature_name: 'x' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: { y: expected.map((y) => [y]) } });
  });

  test("NaN in data and in params a model ignores: read as Python's json reads it, written back", async () => {
    const reply = await signed.post(
      '/invocations',
      '{"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[NaN, 1, 2, 3]]}, "params": {"a": NaN}}',
    );
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"predictions":[{"y":NaN}]}');
  });
});

describe('a signature of every scalar type (the classifier with optional columns it does not feed)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const columns = [
      { type: 'double', name: 'sepal_length', required: true },
      { type: 'long', name: 'petal_count', required: true },
      ...['boolean', 'integer', 'float', 'string', 'binary', 'datetime'].map((type) => ({
        type,
        name: type,
        required: false,
      })),
    ];
    server = await startServer({
      modelDir: await variant(models.classifier, (mlmodel) =>
        mlmodel.replace(/^ {2}inputs: .*$/m, `  inputs: ${JSON.stringify(JSON.stringify(columns))}`),
      ),
    });
  });
  afterAll(async () => server?.close());

  test('test_serving_model_with_schema: dataframe_split, dataframe_records and inputs of every type', async () => {
    // pandas_df_with_all_types as json.dumps(cls=NumpyEncoder) writes it: bytes base64, datetimes ISO.
    const frame = {
      sepal_length: [5.1, 6.3, 0.5],
      petal_count: [3, 1, 9],
      boolean: [true, false, true],
      integer: [1, 2, 3],
      float: [Math.fround(Math.PI), Math.fround(2 * Math.PI), Math.fround(3 * Math.PI)],
      string: ['a', 'b', 'c'],
      binary: ['AQID', 'BAUG', 'BwgJ'],
      datetime: ['2021-01-01T00:00:00', '2021-02-02T00:00:00', '2021-03-03T12:00:00'],
    };
    const columns = Object.keys(frame).reverse();
    const values = (row: number) => columns.map((column) => frame[column as keyof typeof frame][row]!);
    const plain = await server.post('/invocations', {
      inputs: { sepal_length: frame.sepal_length, petal_count: frame.petal_count },
    });
    expect(plain.status).toBe(200);
    const bodies = [
      { dataframe_split: { columns, data: [0, 1, 2].map(values) } },
      {
        dataframe_records: [0, 1, 2].map((row) =>
          Object.fromEntries(columns.map((column, at) => [column, values(row)[at]])),
        ),
      },
      { inputs: frame },
    ];
    for (const body of bodies) {
      const reply = await server.post('/invocations', body);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(plain.json);
    }
    // base64.decodebytes refuses a lone character: 400 "Failed to convert column binary".
    const binary = await server.post('/invocations', {
      dataframe_records: [{ sepal_length: 5.1, petal_count: 3, binary: 'A' }],
    });
    expect(binary.status).toBe(400);
    expect(binary.json.message).toMatch(
      /^Invalid input\. Data is not compatible with model signature\. Failed to convert column binary/,
    );
  });
});

describe('params', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const params = JSON.stringify([
      { name: 'param1', type: 'datetime', default: '2023-07-01T00:00:00', shape: null },
    ]);
    server = await startServer({
      modelDir: await variant(models.linear, (mlmodel) =>
        mlmodel.replace('  params: null', `  params: ${JSON.stringify(params)}`),
      ),
    });
  });
  afterAll(async () => server?.close());

  const body = { dataframe_split: { columns: COLUMNS, data: ROWS } };

  test('test_serving_model_with_param_schema', async () => {
    const contentType = 'application/json; charset=UTF-8';
    const none = await server.post('/invocations', body, contentType);
    expect(none.status).toBe(200);
    const invalid = await server.post(
      '/invocations',
      { ...body, params: { param1: 'invalid_value1' } },
      contentType,
    );
    expect(invalid.status).toBe(400);
    expect(invalid.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(invalid.json.message).toContain('Failed to convert value');
    expect(invalid.json.message).toContain('invalid_value1');
    expect(invalid.json.message).toContain("'param1'");
    // A param the schema does not declare is ignored.
    const unknown = await server.post(
      '/invocations',
      { ...body, params: { invalid_param: 'value' } },
      contentType,
    );
    expect(unknown.status).toBe(200);
    expect(unknown.json).toEqual(none.json);
  });
});

describe('parsing (infer_and_parse_data, parse_csv_input)', () => {
  test('test_parse_json_input_records_oriented', () => {
    const data = { col_m: [12, 640], col_z: ['abc', 'xyz'], col_a: [-3, 7] };
    const records = data.col_m.map((_, i) => ({
      col_m: data.col_m[i],
      col_z: data.col_z[i],
      col_a: data.col_a[i],
    }));
    const { input } = parseJsonRequest(JSON.stringify({ dataframe_records: records }));
    expect(input.kind === 'frame' && input.values).toEqual(data);
  });

  test('test_parse_json_input_split_oriented', () => {
    const size = 200;
    const data = {
      col_m: Array.from({ length: size }, (_, i) => (i * 37) % 1000),
      col_z: Array.from({ length: size }, (_, i) => `s${i}`),
      col_a: Array.from({ length: size }, (_, i) => i * 7919),
    };
    const split = {
      columns: Object.keys(data),
      index: data.col_m.map((_, i) => i),
      data: data.col_m.map((_, i) => [data.col_m[i], data.col_z[i], data.col_a[i]]),
    };
    const { input } = parseJsonRequest(JSON.stringify({ dataframe_split: split }));
    expect(input.kind === 'frame' && input.rows).toBe(size);
    expect(input.kind === 'frame' && input.values).toEqual(data);
  });

  test('test_records_oriented_json_to_df and test_split_oriented_json_to_df: "95120" stays text', () => {
    const records = parseJsonRequest(
      '{"dataframe_records": [{"zip":"95120","cost":10.45,"score":8},{"zip":"95128","cost":23.0,"score":0},{"zip":"95128","cost":12.1,"score":10}]}',
    );
    expect(records.input.kind === 'frame' && records.input.values).toEqual({
      zip: ['95120', '95128', '95128'],
      cost: [10.45, 23, 12.1],
      score: [8, 0, 10],
    });
    const split = parseJsonRequest(
      '{"dataframe_split": {"columns":["zip","cost","count"],"index":[0,1,2],"data":[["95120",10.45,-8],["95128",23.0,-1],["95128",12.1,1000]]}}',
    );
    expect(split.input.kind === 'frame' && split.input.values).toEqual({
      zip: ['95120', '95128', '95128'],
      cost: [10.45, 23, 12.1],
      count: [-8, -1, 1000],
    });
  });

  const allTypes = parseSchema(
    JSON.stringify(
      ['boolean', 'integer', 'long', 'float', 'double', 'string'].map((type) => ({ type, name: type })),
    ),
  );

  test("test_parse_with_schema: pandas' forced casts of a float, a string and a boolean column", () => {
    const schema = parseSchema(
      '[{"type": "integer", "name": "bad_integer"}, {"type": "float", "name": "bad_float"}, ' +
        '{"type": "string", "name": "bad_string"}, {"type": "boolean", "name": "bad_boolean"}]',
    );
    const { input } = parseJsonRequest(
      '{"dataframe_split": {"columns": ["bad_integer", "bad_float", "bad_string", "bad_boolean"], "data": [' +
        '[9007199254740991.0, 1.1, 1, 1.5], [9007199254740992.0, 9007199254740992.0, 2, 0], ' +
        '[9007199254740994.0, 3.3, 3, "some arbitrary string"]]}}',
    );
    const cast = castBySchema(input, schema);
    if (cast.kind !== 'frame') throw new Error('expected a frame');
    // astype(float32) (the float32 rounding happens as the tensor is built) and astype(bool): zero
    // and empty text are false, anything else true.
    expect(cast.values.bad_float).toEqual([1.1, 9007199254740992, 3.3]);
    expect(cast.values.bad_boolean).toEqual([true, false, true]);
    // astype(object) keeps the ints; Mast keeps their text, which is what a string tensor gets.
    expect(cast.values.bad_string).toEqual(['1', '2', '3']);
    // bad_integer is left out: MLflow's -2147483648 comes from a float64 column ("….0" literals)
    // cast to int32; JSON.parse cannot tell 9007199254740991.0 from the int, whose cast wraps.
  });

  test('test_parse_with_schema_csv', () => {
    // df.to_csv(index=False) of the fixture, columns shuffled (float32 pi, 2 pi, 3 pi as pandas writes them).
    const floats = ['3.1415927', '6.2831855', '9.424778'];
    const csv = `string,double,boolean,long,float,integer\na,3.141592653589793,True,1,${floats[0]},1\nb,6.283185307179586,False,2,${floats[1]},2\nc,9.42477796076938,True,3,${floats[2]},3\n`;
    const parsed = parseCsvRequest(csv, ['string']);
    const cast = castBySchema(parsed.input, allTypes, true);
    expect(cast.kind === 'frame' && cast.values).toEqual({
      string: ['a', 'b', 'c'],
      double: [Math.PI, 2 * Math.PI, 3 * Math.PI],
      boolean: [true, false, true],
      long: [1, 2, 3],
      float: floats.map(Number),
      integer: [1, 2, 3],
    });
  });
});

describe('Content-Type edge cases', () => {
  test("charset parameters, parsed as MLflow's invocations() splits them", async () => {
    const body = JSON.stringify({ instances: ROWS });
    for (const contentType of ['application/json;charset=utf-8', 'application/json; CHARSET=Utf-8']) {
      // MLflow lowercases the value, not the key: CHARSET is an unknown parameter there.
      const reply = await unsigned.post('/invocations', body, contentType);
      if (contentType.includes('CHARSET')) {
        expect(reply.status).toBe(415);
        expect(reply.text).toMatch(/^Unrecognized content type parameters: CHARSET\. /);
      } else expect(reply.status).toBe(200);
    }
    const quoted = await unsigned.post('/invocations', body, 'application/json; charset="utf-8"');
    expect(quoted.status).toBe(415);
    expect(quoted.text).toBe('The scoring server only supports UTF-8');
    const trailing = await unsigned.post('/invocations', body, 'application/json;');
    expect(trailing.status).toBe(415);
    expect(trailing.text).toMatch(/^Unrecognized content type parameters: \. IMPORTANT: /);
    // The media type is compared as written.
    const upper = await unsigned.post('/invocations', body, 'Application/JSON');
    expect(upper.status).toBe(415);
    expect(upper.text).toMatch(/Got 'Application\/JSON'\.$/);
    const csv = await unsigned.post('/invocations', '0,1,2,3\n1,2,3,4\n', 'text/csv; charset=utf-8');
    expect(csv.status).toBe(200);
  });

  test('no Content-Type: 415 (MLflow fails on None.split with a 500)', async () => {
    const response = await fetch(`${unsigned.url}/invocations`, {
      method: 'POST',
      body: new Blob([JSON.stringify({ instances: ROWS })]),
    });
    expect(response.status).toBe(415);
    expect(await response.text()).toBe(
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'None'.",
    );
  });
});
