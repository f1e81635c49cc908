import { MlflowError } from '@mast/common';
import { parse as parseCsvText } from 'csv-parse/sync';

/**
 * Reading an `/invocations` request (spec 5.2; `mlflow/pyfunc/scoring_server/__init__.py`): the
 * Content-Type rules and their 415 texts, the JSON envelope (`dataframe_split`, `dataframe_records`,
 * `instances`, `inputs`, `params`, or the unified LLM form) and CSV bodies. The result is still raw
 * JSON values; signature enforcement (enforce.ts) types them.
 */

/** The two media types `/invocations` accepts (MLflow's code accepts `text/csv`, not `application/csv`). */
export const CONTENT_TYPE_CSV = 'text/csv';
export const CONTENT_TYPE_JSON = 'application/json';

/** The order MLflow's messages list the input fields in (a Python set there; fixed here). */
export const SUPPORTED_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const LLM_KEYS = ['messages', 'prompt', 'input'];

/** MLflow's note on the 2.0 protocol change, appended to envelope errors and 415s about parameters. */
export const SCORING_PROTOCOL_CHANGE_INFO =
  'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this ' +
  'error, you are likely using an outdated scoring request format. To resolve the error, either update ' +
  "your request format or adjust your MLflow Model's requirements file to specify an older version of " +
  "MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a " +
  'request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a ' +
  'version >= 2.0 in order to use the new request format. For more information about the updated MLflow ' +
  'Model scoring protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.';

const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields {${SUPPORTED_FORMATS.map(
  (format) => `'${format}'`,
).join(', ')}}`;

/** A request MLflow answers with 415 and a text/plain body. */
export class UnsupportedMediaTypeError extends Error {
  override name = 'UnsupportedMediaTypeError';
}

/**
 * The body's format from its Content-Type: the media type before `;`, with `charset` (utf-8 only)
 * as the one parameter allowed. Throws UnsupportedMediaTypeError with MLflow's texts otherwise.
 */
export function contentFormat(contentType: string | undefined): 'json' | 'csv' {
  // The common case without parameters, before the general parse (this runs for every request).
  if (contentType === CONTENT_TYPE_JSON) return 'json';
  const [mediaType = '', ...pairs] = (contentType ?? '').split(';').map((part) => part.trim());
  const parameters = new Map(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  if ((parameters.get('charset') ?? 'utf-8').toLowerCase() !== 'utf-8')
    throw new UnsupportedMediaTypeError('The scoring server only supports UTF-8');
  const unexpected = [...parameters.keys()].filter((key) => key !== 'charset');
  if (unexpected.length > 0)
    throw new UnsupportedMediaTypeError(
      `Unrecognized content type parameters: ${unexpected.join(', ')}. ${SCORING_PROTOCOL_CHANGE_INFO}`,
    );
  if (mediaType === CONTENT_TYPE_JSON) return 'json';
  if (mediaType === CONTENT_TYPE_CSV) return 'csv';
  throw new UnsupportedMediaTypeError(
    `This predictor only supports the following content types: Types: ['${CONTENT_TYPE_CSV}', '${CONTENT_TYPE_JSON}']. Got '${contentType ?? 'None'}'.`,
  );
}

/** A request's data before enforcement: a DataFrame's columns of JSON values, or tensors' JSON. */
export type RawInput =
  | { kind: 'frame'; columns: string[]; values: Record<string, unknown[]>; rows: number }
  | { kind: 'tensors'; values: Record<string, unknown> }
  | { kind: 'tensor'; value: unknown };

export interface ScoringRequest {
  input: RawInput;
  params?: Record<string, unknown>;
  /** The unified LLM form (`messages`, `prompt`, `input`): predictions are returned unwrapped. */
  unwrapped: boolean;
}

/** MLflow's `MlflowInvalidInputException`: "Invalid input. ..." with BAD_REQUEST (400). */
function invalidInput(message: string): MlflowError {
  return new MlflowError('BAD_REQUEST', `Invalid input. ${message}`);
}

function badRequest(message: string): MlflowError {
  return new MlflowError('BAD_REQUEST', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Python's repr of a list of strings, as MLflow's messages print them. */
export function pythonList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}

/**
 * Parses a JSON scoring body. Errors: malformed JSON or a non-object body (400 BAD_REQUEST,
 * "Invalid input. ..."), zero or several input fields (400 BAD_REQUEST),
 * a malformed DataFrame or TF-serving payload (400 BAD_REQUEST).
 */
export function parseJsonRequest(body: string, paramNames: readonly string[] = []): ScoringRequest {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body);
  } catch (error) {
    throw invalidInput(
      `Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
    );
  }
  if (Array.isArray(decoded)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  if (!isObject(decoded))
    throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${pythonType(decoded)}'.`);

  if (LLM_KEYS.some((key) => key in decoded)) {
    const values: Record<string, unknown> = {};
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(decoded)) {
      if (paramNames.includes(key)) params[key] = value;
      else values[key] = value;
    }
    return { input: { kind: 'tensors', values }, params, unwrapped: true };
  }
  const formats = SUPPORTED_FORMATS.filter((format) => format in decoded);
  if (formats.length !== 1)
    throw badRequest(
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${pythonList(formats)}. ${SCORING_PROTOCOL_CHANGE_INFO}`,
    );
  const params = decoded.params;
  if (params !== undefined && params !== null && !isObject(params))
    throw badRequest(`'params' must be a JSON object; got ${JSON.stringify(params)}.`);
  const format = formats[0]!;
  const payload = decoded[format];
  const input =
    format === 'dataframe_split'
      ? splitFrame(payload)
      : format === 'dataframe_records'
        ? recordsFrame(payload)
        : format === 'instances'
          ? instancesInput(payload)
          : inputsInput(payload);
  return { input, ...(isObject(params) ? { params } : {}), unwrapped: false };
}

/** Python's `type(value)` as MLflow's messages print it (`<class 'str'>`). */
function pythonType(value: unknown): string {
  const name =
    value === null
      ? 'NoneType'
      : typeof value === 'string'
        ? 'str'
        : typeof value === 'boolean'
          ? 'bool'
          : typeof value === 'number'
            ? Number.isInteger(value)
              ? 'int'
              : 'float'
            : Array.isArray(value)
              ? 'list'
              : 'dict';
  return `<class '${name}'>`;
}

/** pandas could not build the DataFrame (`dataframe_from_parsed_json` in `mlflow/utils/proto_json_utils.py`). */
function dataframeError(orient: 'split' | 'records', detail: string): MlflowError {
  return invalidInput(
    `Provided dataframe_${orient} field is not a valid dataframe representation in '${orient}' format. Error: '${detail}'`,
  );
}

/** `{"columns": [...], "index"?: [...], "data": [[...], ...]}` (pandas `split` orient). */
function splitFrame(payload: unknown): RawInput {
  if (!isObject(payload))
    throw invalidInput(
      `Dataframe split format must be a dictionary. Got ${Array.isArray(payload) ? 'list' : `type ${pythonType(payload)}`}.`,
    );
  for (const key in payload)
    if (key !== 'data' && key !== 'columns' && key !== 'index') throw splitKeysError(payload);
  const data = payload.data;
  if (data === undefined) throw splitKeysError(payload);
  if (!Array.isArray(data)) throw dataframeError('split', "'data' must be a list of rows");
  const rows = data.map((row) => (Array.isArray(row) ? row : [row]));
  const width = rows[0]?.length ?? (Array.isArray(payload.columns) ? payload.columns.length : 0);
  const columns =
    payload.columns === undefined
      ? Array.from({ length: width }, (_, index) => String(index))
      : Array.isArray(payload.columns)
        ? payload.columns.map(String)
        : undefined;
  if (columns === undefined) throw dataframeError('split', "'columns' must be a list");
  if (new Set(columns).size !== columns.length)
    throw dataframeError('split', 'the column names are not unique');
  for (const row of rows)
    if (row.length !== columns.length)
      throw dataframeError(
        'split',
        `${columns.length} columns passed, passed data had ${row.length} columns`,
      );
  const values: Record<string, unknown[]> = {};
  columns.forEach((column, index) => {
    values[column] = rows.map((row) => row[index]);
  });
  return { kind: 'frame', columns, values, rows: rows.length };
}

function splitKeysError(payload: Record<string, unknown>): MlflowError {
  return invalidInput(
    "Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. " +
      `Got {${Object.keys(payload)
        .map((key) => `'${key}'`)
        .join(', ')}}.`,
  );
}

/** `[{"col": v, ...}, ...]` (pandas `records` orient): columns in order of first appearance; gaps are null. */
function recordsFrame(payload: unknown): RawInput {
  if (!Array.isArray(payload))
    throw invalidInput(
      `Dataframe records format must be a list of records. Got ${isObject(payload) ? 'dictionary' : `type ${pythonType(payload)}`}.`,
    );
  if (!payload.every(isObject)) throw dataframeError('records', 'every record must be a JSON object');
  return recordsToFrame(payload);
}

function recordsToFrame(records: Record<string, unknown>[]): RawInput {
  const columns: string[] = [];
  for (const record of records)
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  const values: Record<string, unknown[]> = {};
  for (const column of columns) values[column] = records.map((record) => record[column] ?? null);
  return { kind: 'frame', columns, values, rows: records.length };
}

/**
 * TF-serving row format: a list of objects becomes named columns (MLflow converts records to a dict
 * of lists, all of one length); any other list is one tensor.
 */
function instancesInput(payload: unknown): RawInput {
  if (Array.isArray(payload) && payload.length > 0 && payload.every(isObject)) {
    const values: Record<string, unknown[]> = {};
    for (const item of payload)
      for (const [key, value] of Object.entries(item)) {
        values[key] ??= [];
        values[key].push(value);
      }
    const lengths = new Set(Object.values(values).map((list) => list.length));
    if (lengths.size > 1)
      throw invalidInput('The length of values for each input/column name are not the same');
    return { kind: 'tensors', values };
  }
  return { kind: 'tensor', value: payload };
}

/** TF-serving columnar format: `{name: array}` or one array. */
function inputsInput(payload: unknown): RawInput {
  if (isObject(payload)) return { kind: 'tensors', values: { ...payload } };
  return { kind: 'tensor', value: payload };
}

/**
 * Parses a CSV body with a header row into DataFrame columns (pandas `read_csv`): numbers where the
 * text is numeric, `True`/`False` as booleans, empty cells as null, the rest strings. Columns the
 * signature declares as strings stay text. A malformed CSV is 400 BAD_REQUEST.
 */
export function parseCsvRequest(body: string, stringColumns: readonly string[] = []): ScoringRequest {
  let records: string[][];
  try {
    records = parseCsvText(body, { skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (error) {
    throw badRequest(
      'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas ' +
        `DataFrame produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${(error as Error).message}'`,
    );
  }
  const [header, ...rows] = records;
  if (header === undefined)
    throw badRequest(
      'Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas ' +
        "DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: 'No columns to parse from file'",
    );
  const values: Record<string, unknown[]> = {};
  header.forEach((column, index) => {
    const cells = rows.map((row) => row[index]!);
    values[column] = stringColumns.includes(column) ? cells : csvColumn(cells);
  });
  return { input: { kind: 'frame', columns: header, values, rows: rows.length }, unwrapped: false };
}

const NUMBER = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|nan)$/i;

/** One CSV column typed as pandas infers it: all numeric (or empty) cells become numbers. */
function csvColumn(cells: string[]): unknown[] {
  const present = cells.filter((cell) => cell !== '');
  if (present.every((cell) => NUMBER.test(cell)))
    return cells.map((cell) => (cell === '' ? null : Number(cell.replace(/^([+-]?)inf$/i, '$1Infinity'))));
  if (present.every((cell) => cell === 'True' || cell === 'False'))
    return cells.map((cell) => (cell === '' ? null : cell === 'True'));
  return cells.map((cell) => (cell === '' ? null : cell));
}
