import { MlflowError } from '@mast/common';
import { parse as parseCsvText } from 'csv-parse/sync';
import { CsvParseError, MAX_NESTING, nestedTooDeep, nestsDeeperThan } from './errors.js';
import { type Label, pyException, pyType } from './python.js';
import { PythonJsonError, pythonJsonLoads } from './python-json.js';

/**
 * Reading an `/invocations` request (spec 5.2; `mlflow/pyfunc/scoring_server/__init__.py`): the
 * Content-Type rules and their 415 texts, the JSON envelope (`dataframe_split`, `dataframe_records`,
 * `instances`, `inputs`, `params`, or the unified LLM form) and CSV bodies. The result is still raw
 * JSON values; signature enforcement (enforce.ts) types them.
 */

/** The two media types `/invocations` accepts (MLflow's code accepts `text/csv`, not `application/csv`). */
const CONTENT_TYPE_CSV = 'text/csv';
const CONTENT_TYPE_JSON = 'application/json';

/** The order MLflow's messages list the input fields in (a Python set there; fixed here). */
const SUPPORTED_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
const LLM_KEYS = ['messages', 'prompt', 'input'];

/** MLflow's note on the 2.0 protocol change, appended to envelope errors and 415s about parameters. */
const SCORING_PROTOCOL_CHANGE_INFO =
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
  | {
      kind: 'frame';
      columns: string[];
      values: Record<string, unknown[]>;
      rows: number;
      /** The labels as pandas holds them where some are numbers (`columns` has their text). */
      labels?: Label[];
    }
  | { kind: 'tensors'; values: Record<string, unknown> }
  | { kind: 'tensor'; value: unknown };

export interface ScoringRequest {
  input: RawInput;
  /** The body's `params`, whatever JSON it is (checked against the params schema at prediction). */
  params?: unknown;
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
 * Parses a JSON scoring body as Python's `json.loads` reads it (NaN and Infinity too). Errors:
 * malformed JSON (400 BAD_REQUEST "Invalid input. Ensure that input is a valid JSON formatted
 * string. Error: 'JSONDecodeError(...)'" and the body), input nested more than MAX_NESTING deep, or
 * a non-object body, zero or several input
 * fields, a malformed DataFrame or TF-serving payload (400 BAD_REQUEST). `params` are returned as
 * they came; they are checked at prediction (`enforceParams`).
 */
export function parseJsonRequest(body: string, paramNames: readonly string[] = []): ScoringRequest {
  let decoded: unknown;
  try {
    decoded = JSON.parse(body);
  } catch {
    // Python's json.loads also reads NaN and Infinity; its error names the first fault.
    try {
      decoded = pythonJsonLoads(body);
    } catch (error) {
      if (!(error instanceof PythonJsonError)) throw error;
      throw invalidInput(
        `Ensure that input is a valid JSON formatted string. Error: '${pyException(error.name, error.message)}'\nInput: \n${body}\n`,
      );
    }
  }
  // Every later step (schema casting, tensor building, messages printing values) walks the values.
  if (nestsDeeperThan(decoded, MAX_NESTING)) throw nestedTooDeep();
  if (Array.isArray(decoded)) throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received a list.`);
  // MLflow's text has no closing quote after the type (`_decode_json_input`).
  if (!isObject(decoded))
    throw invalidInput(`${REQUIRED_INPUT_FORMAT}. Received unexpected input type '${pyType(decoded)}.`);

  if (LLM_KEYS.some((key) => Object.hasOwn(decoded, key))) {
    const entries = Object.entries(decoded);
    return {
      input: {
        kind: 'tensors',
        values: Object.fromEntries(entries.filter(([key]) => !paramNames.includes(key))),
      },
      params: Object.fromEntries(entries.filter(([key]) => paramNames.includes(key))),
      unwrapped: true,
    };
  }
  // The body's input fields in its own order (`_split_data_and_params` keeps only those).
  const formats = Object.keys(decoded).filter((key) =>
    (SUPPORTED_FORMATS as readonly string[]).includes(key),
  ) as Array<(typeof SUPPORTED_FORMATS)[number]>;
  if (formats.length !== 1)
    throw badRequest(
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: ${pythonList(formats)}. ${SCORING_PROTOCOL_CHANGE_INFO}`,
    );
  const params = decoded.params;
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
  return { input, ...(params === undefined || params === null ? {} : { params }), unwrapped: false };
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
      `Dataframe split format must be a dictionary. Got ${Array.isArray(payload) ? 'list' : `type ${pyType(payload)}`}.`,
    );
  for (const key in payload)
    if (key !== 'data' && key !== 'columns' && key !== 'index') throw splitKeysError(payload);
  const data = payload.data;
  if (data === undefined) throw splitKeysError(payload);
  if (!Array.isArray(data)) throw dataframeError('split', 'DataFrame constructor not properly called!');
  const rows = data.map((row) => (Array.isArray(row) ? row : [row]));
  const width = rows[0]?.length ?? (Array.isArray(payload.columns) ? payload.columns.length : 0);
  const given = payload.columns ?? null;
  if (given !== null && !Array.isArray(given))
    throw dataframeError('split', 'Index(...) must be called with a collection of some kind');
  // Without `columns` pandas numbers them 0..n-1; JSON numbers stay numbers as labels.
  const labels: Label[] =
    given === null
      ? Array.from({ length: width }, (_, index) => index)
      : given.map((label) => (typeof label === 'number' ? label : String(label)));
  const columns = labels.map(String);
  if (new Set(columns).size !== columns.length)
    throw dataframeError('split', 'the column names are not unique');
  for (const row of rows)
    if (row.length !== columns.length)
      throw dataframeError(
        'split',
        `${columns.length} columns passed, passed data had ${row.length} columns`,
      );
  const index = payload.index ?? null;
  if (index !== null && (!Array.isArray(index) || index.length !== rows.length))
    throw dataframeError(
      'split',
      `Shape of passed values is (${rows.length}, ${columns.length}), indices imply (${Array.isArray(index) ? index.length : 1}, ${columns.length})`,
    );
  // Column names are the client's: built as entries, `__proto__` is a column like any other (an
  // assignment would set the object's prototype instead).
  const values = Object.fromEntries(columns.map((column, at) => [column, rows.map((row) => row[at])]));
  return {
    kind: 'frame',
    columns,
    values,
    rows: rows.length,
    ...(labels.some((label) => typeof label === 'number') ? { labels } : {}),
  };
}

function splitKeysError(payload: Record<string, unknown>): MlflowError {
  // MLflow's text ends in `.'` (a stray quote in `dataframe_from_parsed_json`).
  return invalidInput(
    "Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. " +
      `Got {${Object.keys(payload)
        .map((key) => `'${key}'`)
        .join(', ')}}.'`,
  );
}

/**
 * `[{"col": v, ...}, ...]` (pandas `records` orient): columns in order of first appearance, gaps
 * null. As `pd.DataFrame(data=...)`, a list of lists is rows of columns 0..n-1 and a list of
 * scalars one column 0.
 */
function recordsFrame(payload: unknown): RawInput {
  if (!Array.isArray(payload))
    throw invalidInput(
      `Dataframe records format must be a list of records. Got ${isObject(payload) ? 'dictionary' : `type ${pyType(payload)}`}.`,
    );
  if (payload.every(isObject)) return recordsToFrame(payload);
  if (payload.some((item) => isObject(item)))
    throw dataframeError('records', 'Mixing dicts with non-Series may lead to ambiguous ordering.');
  return splitFrame({ data: payload });
}

function recordsToFrame(records: Record<string, unknown>[]): RawInput {
  const columns: string[] = [];
  for (const record of records)
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  const values = Object.fromEntries(
    columns.map((column) => [
      column,
      // A record without the column is a gap, whatever Object.prototype holds (`toString`).
      records.map((record) => (Object.hasOwn(record, column) ? (record[column] ?? null) : null)),
    ]),
  );
  return { kind: 'frame', columns, values, rows: records.length };
}

/**
 * TF-serving row format: a list of objects becomes named columns (MLflow converts records to a dict
 * of lists, all of one length); any other list is one tensor.
 */
function instancesInput(payload: unknown): RawInput {
  if (Array.isArray(payload) && payload.length > 0 && payload.every(isObject)) {
    const columns = new Map<string, unknown[]>();
    for (const item of payload)
      for (const [key, value] of Object.entries(item)) {
        const column = columns.get(key) ?? [];
        column.push(value);
        columns.set(key, column);
      }
    const lengths = new Set([...columns.values()].map((list) => list.length));
    if (lengths.size > 1)
      throw invalidInput('The length of values for each input/column name are not the same');
    return { kind: 'tensors', values: Object.fromEntries(columns) };
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
 * signature declares as strings stay text; a quote inside an unquoted cell is text. Rows are as long
 * as pandas' C parser takes them: a short row's missing cells are empty (NaN); a first row one cell
 * longer than the header holds an index (pandas' implicit index, dropped: predictions follow row
 * order); a longer row is pandas' `ParserError` ("Error tokenizing data. C error: Expected 4 fields
 * in line 3, saw 5"). A malformed CSV is CsvParseError (400 BAD_REQUEST with a stack trace,
 * `parse_csv_input`).
 */
export function parseCsvRequest(body: string, stringColumns: readonly string[] = []): ScoringRequest {
  let records: CsvRecord[];
  try {
    // csv-parse's types do not model `info: true`, which makes each record `{record, info}`.
    records = parseCsvText(body, {
      skip_empty_lines: true,
      relax_column_count: true,
      // pandas reads a quote inside an unquoted cell (`2"x`) as a character of the cell.
      relax_quotes: true,
      info: true,
    }) as unknown as CsvRecord[];
  } catch (error) {
    const { message } = error as Error;
    throw new CsvParseError(message, { pyName: 'pandas.errors.ParserError', message });
  }
  const header = records[0]?.record;
  if (header === undefined) {
    const message = 'No columns to parse from file';
    throw new CsvParseError(message, { pyName: 'pandas.errors.EmptyDataError', message });
  }
  const indexCells = records.length > 1 && records[1]!.record.length === header.length + 1 ? 1 : 0;
  const expected = header.length + indexCells;
  const rows = records.slice(1).map(({ record, info }) => {
    if (record.length > expected) {
      const message = `Error tokenizing data. C error: Expected ${expected} fields in line ${info.lines}, saw ${record.length}\n`;
      throw new CsvParseError(message, { pyName: 'pandas.errors.ParserError', message });
    }
    return record.slice(indexCells);
  });
  const values = Object.fromEntries(
    header.map((column, index) => {
      const cells = rows.map((row) => row[index] ?? '');
      return [column, stringColumns.includes(column) ? cells : csvColumn(cells)];
    }),
  );
  return { input: { kind: 'frame', columns: header, values, rows: rows.length }, unwrapped: false };
}

/** A CSV row with csv-parse's `info` (its last line's number, counting blank lines as pandas does). */
type CsvRecord = { record: string[]; info: { lines: number } };

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
