import { API_DOCS_HINT, MlflowError } from '../errors.js';
import type { RequestReader } from '../request.js';

/**
 * `max_results` within [1, max]; absent means `fallback`. Out of range is MLflow's 400
 * `INVALID_PARAMETER_VALUE` with its message.
 */
export function readMaxResults(reader: RequestReader, name: string, fallback: number, max: number): number {
  const value = reader.integer(name) ?? fallback;
  if (value < 1 || value > max) {
    throw MlflowError.invalidParameter(
      `Invalid value ${value} for parameter '${name}' supplied. It must be at most ${max} and at least 1.${API_DOCS_HINT}`,
    );
  }
  return value;
}

/** Page tokens are opaque to clients: base64 of the offset. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

/** The offset in a page token (0 when absent); a malformed token is 400 `INVALID_PARAMETER_VALUE`. */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isSafeInteger(parsed.offset) && parsed.offset >= 0) {
      return parsed.offset;
    }
  } catch {
    // reported below
  }
  throw MlflowError.invalidParameter(`Invalid page token, could not base64-decode: '${token}'.`);
}
