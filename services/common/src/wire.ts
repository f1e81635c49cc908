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
 * decoded again (very old clients), and bare NaN/Infinity tokens (Python's json) are accepted.
 */
export function parseRequestJson(text: string): unknown {
  const parsed = parseJsonText(text);
  // Decoded once more, not recursively: `NaN` reads as the string "NaN", which must not loop forever.
  return typeof parsed === 'string' ? parseJsonText(parsed) : parsed;
}

function parseJsonText(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return parseWithBareNonFinite(text);
  }
}

function parseWithBareNonFinite(text: string): unknown {
  const quoted = text.replace(BARE_NON_FINITE, (match, str: string | undefined) => str ?? `"${match}"`);
  try {
    return JSON.parse(quoted);
  } catch (error) {
    throw MlflowError.invalidParameter(
      `Malformed JSON request body: ${(error as Error).message}.${API_DOCS_HINT}`,
    );
  }
}

function nonFiniteAsString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? wireDouble(value) : value;
}

/**
 * Serializes a response as MLflow does. Mast never emits null, so JSON.stringify's output only needs
 * the slower NaN/Infinity-aware pass when it contains "null" somewhere.
 */
export function toWireJson(payload: unknown): string {
  const fast = JSON.stringify(payload);
  return fast.includes('null') ? JSON.stringify(payload, nonFiniteAsString) : fast;
}
