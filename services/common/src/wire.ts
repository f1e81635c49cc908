import { API_DOCS_HINT, MlflowError } from './errors.js';

/** A double as MLflow writes it in JSON: NaN and infinities become the strings protobuf JSON uses. */
export function wireDouble(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

const BARE_NON_FINITE = /("(?:[^"\\]|\\.)*")|-?\b(?:NaN|Infinity)\b/g;

/**
 * Parses a JSON request body as MLflow's server does: empty means `{}`, a JSON string holding JSON is
 * decoded again (very old clients), and bare NaN/Infinity tokens (Python's json) are accepted. Integer
 * literals beyond ±(2^53-1) are read exactly, as `bigint` (int64 steps and timestamps); every other
 * number stays a `number`.
 */
export function parseRequestJson(text: string): unknown {
  const parsed = parseJsonText(text);
  // Decoded once more, not recursively: `NaN` reads as the string "NaN", which must not loop forever.
  return typeof parsed === 'string' ? parseJsonText(parsed) : parsed;
}

/** Marks an integer literal too large for a double while the text goes through `JSON.parse`. */
const BIG_INTEGER_MARK = '\u0000mast-int64:';
/** The mark as JSON text (a NUL must be escaped inside a JSON string). */
const BIG_INTEGER_MARK_JSON = '\\u0000mast-int64:';
/**
 * An integer literal of 16 digits or more, standing as a JSON value (after `:`, `[` or `,`, before `,`,
 * `]` or `}`): the only texts that may hold an integer beyond 2^53 (checked before any work). Metric
 * values' long fractions (`0.8736523487234523`) do not match, so a log-batch keeps the fast path.
 */
const LONG_DIGIT_RUN = /[:[,]\s*-?\d{16,}\s*[,\]}]/;
const STRING_OR_NUMBER = /("(?:[^"\\]|\\.)*")|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

/** Quotes (and marks) the integer literals a double cannot hold, outside strings. */
function markBigIntegers(text: string): string {
  return text.replace(STRING_OR_NUMBER, (match, str: string | undefined) => {
    if (str !== undefined || /[.eE]/.test(match) || Number.isSafeInteger(Number(match))) return match;
    return `"${BIG_INTEGER_MARK_JSON}${match}"`;
  });
}

function reviveBigIntegers(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.startsWith(BIG_INTEGER_MARK)
    ? BigInt(value.slice(BIG_INTEGER_MARK.length))
    : value;
}

function parseJsonText(text: string): unknown {
  if (text.trim() === '') return {};
  if (LONG_DIGIT_RUN.test(text)) return parseMarked(markBigIntegers(text));
  try {
    return JSON.parse(text);
  } catch {
    return parseWithBareNonFinite(text);
  }
}

function parseMarked(text: string): unknown {
  try {
    return JSON.parse(text, reviveBigIntegers);
  } catch {
    return parseWithBareNonFinite(text, reviveBigIntegers);
  }
}

function parseWithBareNonFinite(text: string, reviver?: (key: string, value: unknown) => unknown): unknown {
  const quoted = text.replace(BARE_NON_FINITE, (match, str: string | undefined) => str ?? `"${match}"`);
  try {
    return JSON.parse(quoted, reviver);
  } catch (error) {
    throw MlflowError.invalidParameter(
      `Malformed JSON request body: ${(error as Error).message}.${API_DOCS_HINT}`,
    );
  }
}

function nonFiniteAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? wireDouble(value) : value;
}

function wireValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${BIG_INTEGER_MARK}${value}`;
  return typeof value === 'number' && !Number.isFinite(value) ? wireDouble(value) : value;
}

/** The marked strings `wireValue` leaves, as JSON.stringify escapes them. */
const MARKED_INTEGER = /"\\u0000mast-int64:(-?\d+)"/g;

/**
 * Serializes a response as MLflow does. Mast never emits null, so JSON.stringify's output only needs
 * the slower NaN/Infinity-aware pass when it contains "null" somewhere. A `bigint` (an int64 beyond
 * 2^53, as the database reads it) is written as a JSON integer, digit for digit; JSON.stringify throws
 * on one, which is the cue for that (rare) slower pass.
 */
export function toWireJson(payload: unknown): string {
  let fast: string;
  try {
    fast = JSON.stringify(payload);
  } catch (error) {
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
    return JSON.stringify(payload, wireValue).replace(MARKED_INTEGER, '$1');
  }
  return fast.includes('null') ? JSON.stringify(payload, nonFiniteAsString) : fast;
}
