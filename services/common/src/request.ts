import { API_DOCS_HINT, MlflowError } from './errors.js';

type Source = Record<string, unknown>;

interface FieldOptions {
  required?: boolean;
}

const INT64_PATTERN = /^-?\d+$/;
const NUMBER_PATTERN = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'dict';
  return 'str';
}

export function missingParameter(path: string): MlflowError {
  return MlflowError.invalidParameter(`Missing value for required parameter '${path}'.${API_DOCS_HINT}`);
}

/** How deep `pythonJson` prints nested lists and objects; deeper ones are abbreviated `[...]`, `{...}`. */
const PRINT_DEPTH = 32;

/**
 * A value as MLflow's `invalid_value` prints it: Python's `json.dumps(value, sort_keys=True,
 * separators=(",", ":"))` — strings double-quoted with non-ASCII escaped, keys sorted, no spaces.
 * Lists and objects nested deeper than PRINT_DEPTH print as `[...]` / `{...}`: a request may nest
 * thousands deep (where Python's own `json.dumps` would fail), and the message stays short.
 */
export function pythonJson(value: unknown): string {
  return printJson(value, 0);
}

function printJson(value: unknown, depth: number): string {
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : wireNonFinite(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    if (depth >= PRINT_DEPTH) return '[...]';
    return `[${value.map((item) => printJson(item, depth + 1)).join(',')}]`;
  }
  if (typeof value === 'object') {
    if (depth >= PRINT_DEPTH) return '{...}';
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${printJson(key, depth)}:${printJson((value as Source)[key], depth + 1)}`);
    return `{${entries.join(',')}}`;
  }
  return String(value);
}

function wireNonFinite(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

/**
 * MLflow's message for a field of the wrong type or form (`handlers._validate_param_against_schema` with
 * `validation.invalid_value`): `Invalid value "x" for parameter 'p' supplied:  Hint: Value was of type
 * 'str'. See the API docs …`; a given `hint` replaces the type hint.
 */
export function invalidParameter(path: string, value: unknown, hint?: string): MlflowError {
  const why = hint ?? ` Hint: Value was of type '${typeName(value)}'.`;
  return MlflowError.invalidParameter(
    `Invalid value ${pythonJson(value)} for parameter '${path}' supplied: ${why}${API_DOCS_HINT}`,
  );
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * Reads fields of a request message the way MLflow's server parses them: JSON bodies and query strings
 * alike, numbers given as strings, enums by name or number, repeated query keys as lists, unknown
 * fields ignored. Every failure is an INVALID_PARAMETER_VALUE naming the field's path.
 */
export class RequestReader {
  constructor(
    private readonly source: Source,
    private readonly prefix = '',
    /** Whether `source` is a parsed query string, where a repeated field given once is a lone value. */
    private readonly fromQuery = false,
  ) {}

  /**
   * A reader over a JSON object body or a parsed query string (anything else is rejected). Unless
   * `fromQuery` says, an object without `Object.prototype` (Fastify's parsed query) is a query string,
   * and a plain object (what `JSON.parse` makes) a JSON body.
   */
  static of(value: unknown, options: { fromQuery?: boolean } = {}): RequestReader {
    if (value === undefined || value === null || value === '') return new RequestReader({});
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw MlflowError.invalidParameter(`Request body must be a JSON object.${API_DOCS_HINT}`);
    }
    const fromQuery = options.fromQuery ?? Object.getPrototypeOf(value) !== Object.prototype;
    return new RequestReader(value as Source, '', fromQuery);
  }

  path(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  /** Where this message sits in the request (`tags[0]`); '' for the top level. */
  get location(): string {
    return this.prefix;
  }

  has(name: string): boolean {
    const value = this.source[name];
    return value !== undefined && value !== null;
  }

  /**
   * A `google.protobuf.Value` field: the JSON value as the body gives it (null included), undefined when
   * absent. The typed readers below reject what such a field may hold.
   */
  jsonValue(name: string): unknown {
    return Object.hasOwn(this.source, name) ? this.source[name] : undefined;
  }

  private raw(name: string, options: FieldOptions): unknown {
    let value = this.source[name];
    // A repeated query key given for a scalar field: the last one is kept. In a JSON body a list for a
    // scalar field is a wrong type, MLflow's `_assert_string` 400 (handlers.py), never its last item.
    if (this.fromQuery && Array.isArray(value) && value.every((v) => typeof v === 'string'))
      value = value[value.length - 1];
    if (value === undefined || value === null || value === '') {
      if (options.required) throw missingParameter(this.path(name));
      return undefined;
    }
    return value;
  }

  string(name: string, options: FieldOptions & { required: true }): string;
  string(name: string, options?: FieldOptions): string | undefined;
  string(name: string, options: FieldOptions = {}): string | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return checkText(this.path(name), value);
    throw invalidParameter(this.path(name), value);
  }

  /** Like `string`, but an empty string is kept (fields such as a tag value may be empty). */
  stringOrEmpty(name: string): string | undefined {
    const value = this.source[name];
    if (value === '') return '';
    return this.string(name);
  }

  /** Identifiers MLflow coerces from numbers (experiment ids). */
  id(name: string, options: FieldOptions & { required: true }): string;
  id(name: string, options?: FieldOptions): string | undefined;
  id(name: string, options: FieldOptions = {}): string | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return checkText(this.path(name), value);
    if ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint')
      return String(value);
    throw invalidParameter(this.path(name), value);
  }

  /**
   * An int64 field (metric steps and timestamps): a JSON integer (a `bigint` beyond 2^53, as
   * `parseRequestJson` reads it) or a decimal string, within [-2^63, 2^63-1]. A number when a double
   * holds it exactly, else a `bigint`: the fast path stays plain numbers.
   */
  int64(name: string, options: FieldOptions & { required: true }): Int64;
  int64(name: string, options?: FieldOptions): Int64 | undefined;
  int64(name: string, options: FieldOptions = {}): Int64 | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    const parsed = toInt64(value);
    if (parsed === undefined) throw invalidParameter(this.path(name), value);
    return parsed;
  }

  integer(name: string, options: FieldOptions & { required: true }): number;
  integer(name: string, options?: FieldOptions): number | undefined;
  integer(name: string, options: FieldOptions = {}): number | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    const parsed =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && INT64_PATTERN.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isSafeInteger(parsed)) throw invalidParameter(this.path(name), value);
    return parsed;
  }

  /**
   * An int32 field (protobuf's range, -2^31 to 2^31-1): a value beyond it is no value the message
   * could carry, so INVALID_PARAMETER_VALUE naming the field rather than a database range error.
   */
  int32(name: string, options: FieldOptions & { required: true }): number;
  int32(name: string, options?: FieldOptions): number | undefined;
  int32(name: string, options: FieldOptions = {}): number | undefined {
    const parsed = this.integer(name, options);
    if (parsed !== undefined && (parsed > INT32_MAX || parsed < -INT32_MAX - 1))
      throw invalidParameter(this.path(name), this.raw(name, options));
    return parsed;
  }

  /** A double: numbers, numeric strings, and "NaN"/"Infinity"/"-Infinity" as protobuf JSON allows. */
  double(name: string, options: FieldOptions & { required: true }): number;
  double(name: string, options?: FieldOptions): number | undefined;
  double(name: string, options: FieldOptions = {}): number | undefined {
    const value = this.raw(name, options);
    if (value === undefined) return undefined;
    const parsed = parseDouble(value);
    if (parsed === undefined) throw invalidParameter(this.path(name), value);
    return parsed;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw(name, {});
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      const lowered = value.toLowerCase();
      if (lowered === 'true') return true;
      if (lowered === 'false') return false;
    }
    throw invalidParameter(this.path(name), value);
  }

  /**
   * An enum by name or by its number; `values` lists names in number order starting at `firstNumber`.
   * As MLflow's parser (protobuf `ParseDict` with `ignore_unknown_fields`): an unknown *name* is
   * ignored (undefined, as if the field were absent); an unknown *number* is INVALID_PARAMETER_VALUE.
   */
  enumValue<T extends string>(name: string, values: readonly T[], firstNumber = 1): T | undefined {
    const value = this.raw(name, {});
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    const asNumber =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && INT64_PATTERN.test(value)
          ? Number(value)
          : NaN;
    if (typeof value === 'string' && Number.isNaN(asNumber)) return undefined;
    const byNumber = Number.isInteger(asNumber) ? values[asNumber - firstNumber] : undefined;
    if (byNumber !== undefined) return byNumber;
    throw invalidParameter(this.path(name), value, `Valid values are ${values.join(', ')}.`);
  }

  /**
   * A repeated string field: a JSON array (anything else is MLflow's `_assert_array` failure), or one or
   * more query keys. Numbers become strings.
   */
  stringList(name: string, options: FieldOptions = {}): string[] {
    const value = this.source[name];
    if (value === undefined || value === null) {
      if (options.required) throw missingParameter(this.path(name));
      return [];
    }
    if (!Array.isArray(value) && !this.fromQuery) throw invalidParameter(this.path(name), value);
    const list = Array.isArray(value) ? value : [value];
    const out = list.map((item, i) => {
      if (typeof item === 'string') return checkText(`${this.path(name)}[${i}]`, item);
      if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'bigint')
        return String(item);
      throw invalidParameter(`${this.path(name)}[${i}]`, item);
    });
    if (options.required && out.length === 0) throw missingParameter(this.path(name));
    return out;
  }

  /**
   * A `map<string, string>` field (TraceInfoV3's `tags`, `trace_metadata`): a JSON object whose values
   * are strings; absent is an empty map.
   */
  stringMap(name: string): Record<string, string> {
    const value = this.source[name];
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(this.path(name), value);
    // Built from entries: a `__proto__` key is a key (an assignment would set the prototype and drop it).
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => {
        const path = `${this.path(name)}.${key}`;
        if (typeof item !== 'string') throw invalidParameter(path, item);
        return [checkText(path, key), checkText(path, item)];
      }),
    );
  }

  /** A repeated message field, each item read with its own reader (paths like `metrics[3].key`). */
  messageList(name: string, options: FieldOptions = {}): RequestReader[] {
    const value = this.source[name];
    if (value === undefined || value === null) {
      if (options.required) throw missingParameter(this.path(name));
      return [];
    }
    if (!Array.isArray(value)) throw invalidParameter(this.path(name), value);
    return value.map((item, i) => {
      const path = `${this.path(name)}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw invalidParameter(path, item);
      return new RequestReader(item as Source, path);
    });
  }

  message(name: string, options: FieldOptions & { required: true }): RequestReader;
  message(name: string, options?: FieldOptions): RequestReader | undefined;
  message(name: string, options: FieldOptions = {}): RequestReader | undefined {
    const value = this.source[name];
    if (value === undefined || value === null) {
      if (options.required) throw missingParameter(this.path(name));
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(this.path(name), value);
    return new RequestReader(value as Source, this.path(name));
  }
}

/** An escaped UTF-16 surrogate (`\ud800`) in JSON text: the only way a body's strings can hold a lone one. */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;
const NOT_UNICODE = 'Strings must be valid Unicode (an unpaired surrogate).';

/**
 * Rejects a parsed JSON body holding a string (value or key) with an unpaired UTF-16 surrogate
 * (`"a\ud800b"`), which no UTF-8 text can hold: MLflow's protobuf parser refuses it, PostgreSQL's json
 * types fail on it and text columns would store U+FFFD. `text` is the body as received: bodies without
 * an escaped surrogate (nearly all) are not walked. The walk is iterative, for bodies nested thousands
 * deep. Throws INVALID_PARAMETER_VALUE naming the string's path (`tags[0].value`).
 */
export function checkWellFormedStrings(text: string, body: unknown): void {
  if (!ESCAPED_SURROGATE.test(text)) return;
  const pending: Array<[path: string, value: unknown]> = [['', body]];
  while (pending.length > 0) {
    const [path, value] = pending.pop()!;
    if (typeof value === 'string') {
      if (!isWellFormed(value)) throw invalidParameter(path, value, NOT_UNICODE);
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) pending.push([`${path}[${i}]`, item]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        // A bad key is named by where it stands: the object's path (the key itself is the bad value).
        if (!isWellFormed(key)) throw invalidParameter(path || 'request body', key, NOT_UNICODE);
        pending.push([path ? `${path}.${key}` : key, item]);
      }
    }
  }
}

/** `String.prototype.isWellFormed` (Node 20+): no lone surrogate. */
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** PostgreSQL text cannot hold NUL characters: reject them as bad input rather than fail in the database. */
function checkText(path: string, value: string): string {
  if (value.includes('\u0000'))
    throw invalidParameter(path, value, 'Strings may not contain NUL characters.');
  return value;
}

/** A 64-bit integer: a number while a double holds it exactly, else a bigint. */
export type Int64 = number | bigint;

/** Orders int64 values (a number and a bigint may meet: `a - b` would throw). */
export function compareInt64(a: Int64, b: Int64): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A JSON integer, bigint or decimal string within int64, or undefined. */
export function toInt64(value: unknown): Int64 | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    // An integral double beyond 2^53 (`1e18`) is taken at its exact value, as protobuf's parser does.
    if (!Number.isInteger(value)) return undefined;
    return narrowInt64(BigInt(value));
  }
  if (typeof value === 'bigint') return narrowInt64(value);
  if (typeof value === 'string' && INT64_PATTERN.test(value)) {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : narrowInt64(BigInt(value));
  }
  return undefined;
}

function narrowInt64(value: bigint): Int64 | undefined {
  if (value < INT64_MIN || value > INT64_MAX) return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value;
}

export function parseDouble(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'string') return undefined;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity' || value === 'inf') return Infinity;
  if (value === '-Infinity' || value === '-inf') return -Infinity;
  return NUMBER_PATTERN.test(value.trim()) ? Number(value) : undefined;
}
