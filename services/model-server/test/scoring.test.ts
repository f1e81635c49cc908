/** @jest-environment ./services/model-server/test/support/onnx-environment.cjs */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { loadModel, SUPPORTED_FLAVORS, UnsupportedFlavorError } from '../src/index.js';
import { generateTestModels, type TestModels } from './support/models.js';
import { type RunningServer, referenceRun, slowModel, startServer } from './support/server.js';

/**
 * MLflow's scoring protocol over real HTTP against real onnxruntime: every input format, and every
 * error path answered with MLflow's status and body, after which the next good request is served.
 */

const ROWS = [
  [1, 2, 3, 4],
  [0.5, 0.25, -1, 2],
  [-3.5, 7, 0, 1e-3],
];

/** The linear model's outputs for ROWS, computed by onnxruntime itself. */
async function linearReference(models: TestModels, rows: number[][] = ROWS): Promise<number[]> {
  const outputs = await referenceRun(models.linear, {
    x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]),
  });
  return Array.from(outputs.y!.data as Float32Array);
}

let models: TestModels;
beforeAll(async () => {
  models = await generateTestModels();
});

describe('linear model (column signature f0..f3, one ONNX input)', () => {
  let server: RunningServer;
  let expected: number[];
  beforeAll(async () => {
    server = await startServer({ modelDir: models.linear });
    expected = await linearReference(models);
  });
  afterAll(async () => server.close());

  const records = () => expected.map((y) => ({ y }));

  test('/ping, /health and /version answer as MLflow', async () => {
    for (const path of ['/ping', '/health']) {
      const reply = await server.get(path);
      expect(reply.status).toBe(200);
      expect(reply.text).toBe('\n');
      // Starlette's Response(media_type="application/json"): no charset parameter.
      expect(reply.contentType).toBe('application/json');
    }
    const version = await server.get('/version');
    expect(version.status).toBe(200);
    expect(version.text).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('dataframe_split, columns in another order than the signature', async () => {
    const columns = ['f3', 'f0', 'f2', 'f1'];
    const data = ROWS.map(([f0, f1, f2, f3]) => [f3, f0, f2, f1]);
    const reply = await server.post('/invocations', { dataframe_split: { columns, data } });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(reply.json).toEqual({ predictions: records() });
  });

  test('dataframe_split with an index, integers into double columns', async () => {
    const reply = await server.post('/invocations', {
      dataframe_split: { index: [7], columns: ['f0', 'f1', 'f2', 'f3'], data: [[1, 2, 3, 4]] },
    });
    expect(reply.status).toBe(200);
    expect(reply.json.predictions).toEqual([{ y: expected[0] }]);
  });

  test('dataframe_records: an extra column is dropped', async () => {
    const body = ROWS.map(([f0, f1, f2, f3]) => ({ f2, f0, f3, f1, note: 'ignored' }));
    const reply = await server.post('/invocations', { dataframe_records: body });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: records() });
  });

  test('numeric text in double columns is read as numbers (pandas astype in MLflow), other text is 400', async () => {
    // mlflow/utils/proto_json_utils.py: cast_df_types_according_to_schema, MlflowFailedTypeConversion.
    const text = ROWS.map((row) => row.map(String));
    const split = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: text },
    });
    expect(split.status).toBe(200);
    expect(split.json).toEqual({ predictions: records() });
    const instances = await server.post('/invocations', {
      instances: text.map(([f0, f1, f2, f3]) => ({ f0, f1, f2, f3 })),
    });
    expect(instances.status).toBe(200);
    expect(instances.json).toEqual({ predictions: records() });
    const word = await server.post('/invocations', {
      dataframe_records: [{ f0: '1', f1: '2', f2: 'three', f3: '4' }],
    });
    expect(word.status).toBe(400);
    expect(word.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        "Invalid input. Data is not compatible with model signature. Failed to convert column f2 to type 'float64'. " +
        "Error: 'ValueError(\"could not convert string to float: 'three'\")'",
    });
  });

  test('instances (records) and inputs (columns)', async () => {
    const instances = ROWS.map(([f0, f1, f2, f3]) => ({ f0, f1, f2, f3 }));
    const byInstances = await server.post('/invocations', { instances });
    expect(byInstances.status).toBe(200);
    expect(byInstances.json).toEqual({ predictions: records() });

    const inputs = {
      f0: ROWS.map((r) => r[0]),
      f1: ROWS.map((r) => r[1]),
      f2: ROWS.map((r) => r[2]),
      f3: ROWS.map((r) => r[3]),
    };
    const byInputs = await server.post('/invocations', { inputs, params: { ignored: 1 } });
    expect(byInputs.status).toBe(200);
    expect(byInputs.json).toEqual({ predictions: records() });
  });

  test('text/csv with a header row, and charset=utf-8 accepted', async () => {
    const csv = `f0,f1,f2,f3\n${ROWS.map((row) => row.join(',')).join('\n')}\n`;
    const reply = await server.post('/invocations', csv, 'text/csv; charset=UTF-8');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: records() });
  });

  test('a UTF-8 byte order mark before JSON or CSV is dropped, as Python and pandas drop it', async () => {
    const json = await server.post(
      '/invocations',
      `\uFEFF${JSON.stringify({ dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: ROWS } })}`,
    );
    expect(json.status).toBe(200);
    expect(json.json).toEqual({ predictions: records() });
    const csv = await server.post(
      '/invocations',
      `\uFEFFf0,f1,f2,f3\n${ROWS.map((row) => row.join(',')).join('\n')}\n`,
      'text/csv',
    );
    expect(csv.status).toBe(200);
    expect(csv.json).toEqual({ predictions: records() });
  });

  test('unsupported content types, charsets and parameters: 415 text/plain', async () => {
    const xml = await server.post('/invocations', '<x/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(xml.contentType).toBe('text/plain; charset=utf-8');
    expect(xml.text).toBe(
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'application/xml'.",
    );
    const latin = await server.post('/invocations', '{}', 'application/json; charset=latin-1');
    expect(latin.status).toBe(415);
    expect(latin.text).toBe('The scoring server only supports UTF-8');
    const format = await server.post('/invocations', '{}', 'application/json; format=pandas-split');
    expect(format.status).toBe(415);
    expect(format.text).toMatch(/^Unrecognized content type parameters: format\. IMPORTANT: /);
  });

  test('malformed JSON, a list, no or two input fields: 400 with MLflow texts', async () => {
    // mlflow/pyfunc/scoring_server/__init__.py `_decode_json_input`: Python's JSONDecodeError and the body.
    const malformed = await server.post('/invocations', '{"dataframe_split": ');
    expect(malformed.status).toBe(400);
    // MLflow's MlflowInvalidInputException is BAD_REQUEST (proto_json_utils.py).
    expect(malformed.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        "Invalid input. Ensure that input is a valid JSON formatted string. Error: 'JSONDecodeError('Expecting value: " +
        'line 1 column 21 (char 20)\')\'\nInput: \n{"dataframe_split": \n',
    });

    const list = await server.post('/invocations', [[1, 2, 3, 4]]);
    expect(list.status).toBe(400);
    expect(list.json.message).toMatch(/exactly one of the input fields .*Received a list\.$/);
    const scalar = await server.post('/invocations', 'null');
    expect(scalar.status).toBe(400);
    expect(scalar.json.message).toMatch(/Received unexpected input type '<class 'NoneType'>\.$/);

    const none = await server.post('/invocations', { columns: ['f0'], data: [[1]] });
    expect(none.status).toBe(400);
    expect(none.json.error_code).toBe('BAD_REQUEST');
    expect(none.json.message).toContain('Received dictionary with input fields: []');
    expect(none.json.message).toContain(
      'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0',
    );

    const two = await server.post('/invocations', { inputs: [[1, 2, 3, 4]], instances: [[1, 2, 3, 4]] });
    expect(two.status).toBe(400);
    expect(two.json.message).toContain("Received dictionary with input fields: ['inputs', 'instances']");
  });

  test('a missing column: INVALID_PARAMETER_VALUE "Failed to predict data ... Failed to enforce schema ..."', async () => {
    // mlflow/pyfunc/__init__.py `_validate_prediction_input` wraps `_enforce_schema`'s error, and the
    // scoring server's `invocations` wraps that again; numbered columns print as numbers.
    const missing = await server.post('/invocations', { dataframe_records: [{ f0: 1, f1: 2, f2: 3, g: 4 }] });
    expect(missing.status).toBe(400);
    const data = '    f0   f1   f2  g\n0  1.0  2.0  3.0  4';
    const schema =
      "['f0': double (required), 'f1': double (required), 'f2': double (required), 'f3': double (required)]";
    expect(missing.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        `Failed to predict data '${data}'. \nError: Failed to enforce schema of data '${data}' with schema ` +
        `'${schema}'. Error: Model is missing inputs ['f3']. Note that there were extra inputs: ['g']`,
    });
    const rows = await server.post('/invocations', { inputs: [[1, 2, 3, 4]] });
    expect(rows.status).toBe(400);
    expect(rows.json.message).toMatch(
      /^Failed to predict data '\[\[1\. 2\. 3\. 4\.\]\]'\. \nError: Failed to enforce schema of data .* Note that there were extra inputs: \[0, 1, 2, 3\]$/s,
    );
  });

  test('an input without rows: 200 with no predictions, as MLflow runs the model on it', async () => {
    const empty = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [] },
    });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ predictions: [] });
  });

  test("NaN and Infinity: read in JSON bodies and written in predictions, as Python's json does", async () => {
    // Python's json.loads reads NaN/Infinity, and predictions_to_json's json.dump writes them.
    const reply = await server.post(
      '/invocations',
      '{"dataframe_split": {"columns": ["f0", "f1", "f2", "f3"], "data": [[NaN, 1, 2, 3], [1, 2, 3, Infinity]]}}',
    );
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('{"predictions":[{"y":NaN},{"y":Infinity}]}');
  });

  test('params: ignored whatever they are when the signature declares none', async () => {
    // mlflow/models/utils.py `_enforce_params_schema`: without a params schema, params only warn.
    const reply = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [ROWS[0]] },
      params: 5,
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: [{ y: expected[0] }] });
  });

  test('malformed input: 400 with MLflow texts', async () => {
    const unequal = await server.post('/invocations', {
      instances: [
        { f0: 1, f1: 2, f2: 3, f3: 4 },
        { f0: 1, f1: 2, f2: 3 },
      ],
    });
    expect(unequal.status).toBe(400);
    expect(unequal.json).toEqual({
      error_code: 'BAD_REQUEST',
      message: 'Invalid input. The length of values for each input/column name are not the same',
    });
    const ragged = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1'], data: [[1, 2, 3]] },
    });
    expect(ragged.status).toBe(400);
    expect(ragged.json.message).toBe(
      "Invalid input. Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '2 columns passed, passed data had 3 columns'",
    );
    const extraKey = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [ROWS[0]], dtype: 'float' },
    });
    expect(extraKey.status).toBe(400);
    expect(extraKey.json).toEqual({
      error_code: 'BAD_REQUEST',
      message:
        "Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {'columns', 'data', 'dtype'}.'",
    });
  });

  test('malformed CSV: 400 with a stack trace; the next good request is served', async () => {
    // mlflow/pyfunc/scoring_server/__init__.py `parse_csv_input` -> `_handle_serving_error`.
    const bad = await server.post('/invocations', 'f0,f1,f2,f3\n1,2,"3,4\n', 'text/csv');
    expect(bad.status).toBe(400);
    expect(bad.json.error_code).toBe('BAD_REQUEST');
    expect(bad.json.message).toMatch(/^Failed to parse input as a Pandas DataFrame/);
    expect(typeof bad.json.stack_trace).toBe('string');
    const empty = await server.post('/invocations', '', 'text/csv');
    expect(empty.status).toBe(400);
    expect(empty.json.message).toMatch(/Error: 'No columns to parse from file'$/);
    expect(empty.json.stack_trace).toBe('pandas.errors.EmptyDataError: No columns to parse from file');
    // A value the signature's type refuses: the Python exception the JSON path's message quotes.
    const typed = await server.post('/invocations', 'f0,f1,f2,f3\nabc,1,2,3\n', 'text/csv');
    expect(typed.status).toBe(400);
    expect(typed.json.stack_trace).toBe("ValueError: could not convert string to float: 'abc'");
    const json = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [['abc', 1, 2, 3]] },
    });
    expect(json.json.message).toContain(`Error: 'ValueError("could not convert string to float: 'abc'")'`);
    // Node's frames (this installation's file paths) never leave the server.
    for (const reply of [bad, empty, typed])
      expect(reply.json.stack_trace).not.toMatch(/file:|\.js:\d|\n\s+at /);
    const good = await server.post('/invocations', {
      dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: ROWS },
    });
    expect(good.status).toBe(200);
    expect(good.json).toEqual({ predictions: records() });
  });

  test("unknown routes: FastAPI's 404", async () => {
    const reply = await server.get('/nope');
    expect(reply.status).toBe(404);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.json).toEqual({ detail: 'Not Found' });
    // A path Fastify cannot decode is a path no route takes for Starlette too (not Fastify's own body).
    const malformed = await server.post('/invocations%ZZ', {});
    expect(malformed.status).toBe(404);
    expect(malformed.json).toEqual({ detail: 'Not Found' });
    // Starlette's redirect_slashes: a known route with a trailing slash is a 307 to the route.
    const slash = await fetch(`${server.url}/invocations/?a=1`, { method: 'POST', redirect: 'manual' });
    expect(slash.status).toBe(307);
    expect(slash.headers.get('location')).toBe(`${server.url}/invocations?a=1`);
  });

  test('a route asked with another method: 405 with Allow, in the route family error shape', async () => {
    // MLflow's scoring server is FastAPI (Starlette routes): {"detail": "Method Not Allowed"}.
    const get = await fetch(`${server.url}/invocations`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({ detail: 'Method Not Allowed' });
    const ping = await server.post('/ping', '{}');
    expect(ping.status).toBe(405);
    expect(ping.json).toEqual({ detail: 'Method Not Allowed' });
    const infer = await fetch(`${server.url}/v2/models/model/infer`);
    expect(infer.status).toBe(405);
    expect(await infer.json()).toEqual({
      error: 'Method GET is not allowed for /v2/models/model/infer; use POST.',
    });
    const metadata = await server.post('/v2/models/model', '{}');
    expect(metadata.status).toBe(405);
    expect(metadata.json).toEqual({ error: 'Method POST is not allowed for /v2/models/model; use GET.' });
  });

  test('/metrics: latency by route, batch rows, inference time, errors', async () => {
    const text = (await server.get('/metrics')).text;
    expect(text).toMatch(
      /mast_http_request_duration_seconds_count\{method="POST",route="\/invocations",status_code="200"\} [1-9]/,
    );
    expect(text).toMatch(/mast_model_batch_rows_count [1-9]/);
    expect(text).toMatch(/mast_model_inference_duration_seconds_count [1-9]/);
    expect(text).toMatch(
      /mast_model_request_errors_total\{route="\/invocations",error_code="BAD_REQUEST"\} [1-9]/,
    );
    expect(text).toMatch(
      /mast_model_request_errors_total\{route="\/invocations",error_code="UNSUPPORTED_MEDIA_TYPE"\} [1-9]/,
    );
  });
});

describe('classifier (two ONNX inputs, named columns of mixed types)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ modelDir: models.classifier });
  });
  afterAll(async () => server.close());

  const sepal = [5.1, 6.3, 0.5];
  const petals = [3, 1, 9];

  async function reference() {
    const outputs = await referenceRun(models.classifier, {
      sepal_length: new ort.Tensor('float32', Float32Array.from(sepal), [3]),
      petal_count: new ort.Tensor('int64', BigInt64Array.from(petals.map(BigInt)), [3]),
    });
    const probability = Array.from(outputs.probability!.data as Float32Array);
    const label = Array.from(outputs.label!.data as BigInt64Array, Number);
    return probability.map((p, i) => ({ probability: p, label: label[i] }));
  }

  test('each column feeds the ONNX input of its name; the optional string column may come or not', async () => {
    const expected = await reference();
    expect(new Set(expected.map((row) => row.label)).size).toBe(2);
    const withComment = await server.post('/invocations', {
      dataframe_split: {
        columns: ['comment', 'petal_count', 'sepal_length'],
        data: sepal.map((s, i) => ['c', petals[i], s]),
      },
    });
    expect(withComment.status).toBe(200);
    expect(withComment.json).toEqual({ predictions: expected });
    const csv = `sepal_length,petal_count\n${sepal.map((s, i) => `${s},${petals[i]}`).join('\n')}\n`;
    const fromCsv = await server.post('/invocations', csv, 'text/csv');
    expect(fromCsv.status).toBe(200);
    expect(fromCsv.json).toEqual({ predictions: expected });
  });

  test('missing values in the optional string column: 200, as MLflow keeps None in a string column', async () => {
    const expected = await reference();
    const records = sepal.map((s, i) => ({
      sepal_length: s,
      petal_count: petals[i],
      ...(i === 0 ? {} : { comment: i === 1 ? null : 'c' }),
    }));
    const reply = await server.post('/invocations', { dataframe_records: records });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: expected });
    const split = await server.post('/invocations', {
      dataframe_split: {
        columns: ['sepal_length', 'petal_count', 'comment'],
        data: sepal.map((s, i) => [s, petals[i], null]),
      },
    });
    expect(split.status).toBe(200);
    expect(split.json).toEqual({ predictions: expected });
  });

  test('integer text in the long column is read as an integer, as MLflow reads it', async () => {
    const expected = await reference();
    const reply = await server.post('/invocations', {
      dataframe_split: {
        columns: ['sepal_length', 'petal_count'],
        data: sepal.map((s, i) => [String(s), String(petals[i])]),
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: expected });
  });

  test("columns are cast as pandas' astype casts them: floats truncated into the long column, anything into the string one", async () => {
    // mlflow/utils/proto_json_utils.py cast_df_types_according_to_schema runs before _enforce_schema:
    // astype(int64) truncates 2.9 to 2, astype(object) keeps the number 7.
    const truncated = await server.post('/invocations', {
      dataframe_records: [{ sepal_length: 5.1, petal_count: 2.9, comment: 7 }],
    });
    const whole = await server.post('/invocations', {
      dataframe_records: [{ sepal_length: 5.1, petal_count: 2, comment: 'x' }],
    });
    expect(truncated.status).toBe(200);
    expect(truncated.json).toEqual(whole.json);
  });

  test('what astype refuses: 400 "Failed to convert column" with the Python exception', async () => {
    const withNull = await server.post('/invocations', {
      dataframe_records: [
        { sepal_length: 5.1, petal_count: 2 },
        { sepal_length: 1, petal_count: null },
      ],
    });
    expect(withNull.status).toBe(400);
    expect(withNull.json.message).toBe(
      "Invalid input. Data is not compatible with model signature. Failed to convert column petal_count to type 'int64'. " +
        "Error: 'IntCastingNaNError('Cannot convert non-finite values (NA or inf) to integer')'",
    );
    const fraction = await server.post('/invocations', {
      dataframe_records: [{ sepal_length: '5.1', petal_count: '2.5' }],
    });
    expect(fraction.status).toBe(400);
    expect(fraction.json.message).toMatch(
      /Error: 'ValueError\("invalid literal for int\(\) with base 10: '2\.5'"\)'$/,
    );
    // `inputs` are numpy arrays of the signature's dtypes (convert_data_type): numpy's text.
    const inputs = await server.post('/invocations', { inputs: { sepal_length: [5.1], petal_count: ['x'] } });
    expect(inputs.status).toBe(400);
    expect(inputs.json).toEqual({
      error_code: 'BAD_REQUEST',
      message: "Invalid input. invalid literal for int() with base 10: 'x'",
    });
  });
});

describe('heavy model (unnamed tensor signature [-1, 64])', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ modelDir: models.heavy });
  });
  afterAll(async () => server.close());

  const rows = [0, 1].map((r) => Array.from({ length: 64 }, (_, i) => Math.sin(r * 64 + i)));

  test('inputs as a nested list: {"predictions": {output: nested lists}}', async () => {
    const outputs = await referenceRun(models.heavy, {
      x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [2, 64]),
    });
    const y = Array.from(outputs.y!.data as Float32Array);
    const reply = await server.post('/invocations', { inputs: rows });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: { y: [[y[0]], [y[1]]] } });
    const asInstances = await server.post('/invocations', { instances: rows });
    expect(asInstances.json).toEqual(reply.json);
  });

  test('a wrong shape or a dict: 400 with MLflow texts', async () => {
    const shape = await server.post('/invocations', { inputs: [rows[0]!.slice(1)] });
    expect(shape.status).toBe(400);
    expect(shape.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(shape.json.message).toMatch(
      /^Failed to predict data '\[\[0\.84147098 .*\]\]'\. \nError: Failed to enforce schema of data .* with schema '\[Tensor\('float32', \(-1, 64\)\)\]'\. Error: Shape of input \(1, 63\) does not match expected shape \(-1, 64\)\.$/s,
    );
    const dict = await server.post('/invocations', { inputs: { x: rows } });
    expect(dict.status).toBe(400);
    // mlflow/utils/proto_json_utils.py `_cast_schema_type` (the double space is MLflow's).
    expect(dict.json.message).toBe(
      'Invalid input. Failed to parse input data. This model contains an un-named  model signature which expects a ' +
        "single n-dimensional array or a single value as input, however, an input of type <class 'dict'> was found.",
    );
    // parse_csv_input: pandas dtypes of a tensor schema fail (Schema.pandas_types()).
    const csv = await server.post('/invocations', 'a,b\n1,2\n', 'text/csv');
    expect(csv.status).toBe(400);
    expect(csv.json.message).toMatch(
      /Error: 'TensorSpec only supports numpy types, use numpy_types\(\) instead'$/,
    );
  });
});

describe('limits and model loading', () => {
  test('a body over the limit: 413 in MLflow error shape; the next request is served', async () => {
    const server = await startServer({ modelDir: models.linear, bodyLimitBytes: 1024 });
    try {
      const big = await server.post('/invocations', {
        dataframe_split: {
          columns: ['f0', 'f1', 'f2', 'f3'],
          data: Array.from({ length: 100 }, () => ROWS[0]),
        },
      });
      expect(big.status).toBe(413);
      expect(big.json.error_code).toBe('BAD_REQUEST');
      expect(big.json.message).toContain('1024 bytes');
      const small = await server.post('/invocations', {
        dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [ROWS[0]] },
      });
      expect(small.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  test('a request over the time limit: 504 "Request processing time exceeded limit"', async () => {
    const server = await startServer({ load: () => slowModel(models.linear, 400), requestTimeoutMs: 50 });
    try {
      const reply = await server.post('/invocations', {
        dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [ROWS[0]] },
      });
      // MLflow's timeout middleware: the bare text, under application/json.
      expect(reply.status).toBe(504);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(reply.text).toBe('Request processing time exceeded limit');
    } finally {
      await server.close();
    }
  });

  test('a model that fails to load: /ping 404, scoring 503, the server stays up', async () => {
    const server = await startServer({
      load: () => Promise.reject(new Error('disk on fire')),
      waitForModel: false,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await server.get('/ping')).status).toBe(404);
      expect((await server.get('/v2/health/ready')).status).toBe(503);
      const reply = await server.post('/invocations', { inputs: [[1, 2, 3, 4]] });
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: "The model failed to load; see the server's log.",
      });
    } finally {
      await server.close();
    }
  });

  test('a model without a runnable flavor: UnsupportedFlavorError naming both lists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mast-sklearn-'));
    await writeFile(
      join(dir, 'MLmodel'),
      'flavors:\n  sklearn:\n    pickled_model: model.pkl\n  python_function:\n    loader_module: mlflow.sklearn\n',
    );
    const error = await loadModel(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsupportedFlavorError);
    expect((error as UnsupportedFlavorError).modelFlavors).toEqual(['sklearn', 'python_function']);
    expect((error as UnsupportedFlavorError).supportedFlavors).toEqual([...SUPPORTED_FLAVORS]);
    expect((error as Error).message).toContain('onnx');
  });
});

describe("the models' own serving input examples", () => {
  test.each(['linear', 'classifier', 'heavy'] as const)(
    '%s: serving_input_example.json scores',
    async (name) => {
      const server = await startServer({ modelDir: models[name] });
      try {
        const example = await readFile(join(models[name], 'serving_input_example.json'), 'utf8');
        const reply = await server.post('/invocations', example);
        expect(reply.status).toBe(200);
        const predictions = reply.json.predictions;
        expect(Array.isArray(predictions) ? predictions.length : predictions.y.length).toBe(2);
      } finally {
        await server.close();
      }
    },
  );
});

describe('a model without a signature (types inferred from the JSON)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mast-unsigned-'));
    await cp(models.linear, dir, { recursive: true });
    const mlmodel = await readFile(join(dir, 'MLmodel'), 'utf8');
    await writeFile(join(dir, 'MLmodel'), mlmodel.replace(/^signature:\n(?: {2}.*\n)+/m, ''));
    server = await startServer({ modelDir: dir });
  });
  afterAll(async () => server.close());

  test('integers and floats are cast to the ONNX input type; the DataFrame is fed whole', async () => {
    const expected = await linearReference(models, [[1, 2, 3, 4]]);
    const reply = await server.post('/invocations', {
      dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[1, 2, 3.0, 4]] },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ predictions: [{ y: expected[0] }] });
  });

  test('text, booleans among numbers, or a wrong width: 400, never 500', async () => {
    const cases = [
      { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [['x', 'y', 'z', 'w']] } },
      { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [[true, 2, 3, 4]] } },
      { dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] } },
      { inputs: [[1.5, 2, 3, 4]], params: { x: 1 } },
    ];
    const replies = [];
    for (const body of cases) replies.push(await server.post('/invocations', body));
    expect(replies.map((reply) => reply.status)).toEqual([400, 400, 400, 200]);
    // A model the input does not fit fails in onnxruntime: MLflow's "unexpected error", with a stack trace.
    expect(replies[2]!.json.error_code).toBe('BAD_REQUEST');
    expect(replies[2]!.json.message).toBe(
      'Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is ' +
        'compatible with the model for inference.',
    );
    expect(replies[2]!.json.stack_trace).toMatch(/^Error: /);
    expect(replies[2]!.json.stack_trace).not.toMatch(/file:|\.js:\d|\n\s+at /);
  });
});
