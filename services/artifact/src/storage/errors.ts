import { MlflowError } from '@mast/common';

/** Raised by the S3 transport when a connection stays silent longer than the configured timeout. */
export class BackendTimeoutError extends Error {
  override name = 'BackendTimeoutError';
  readonly code = 'MAST_BACKEND_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** Network and disk failures that mean "the backend is down or full", not "the request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'MAST_BACKEND_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EIO',
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'ESTALE',
  'ENOTCONN',
  'EACCES',
  'EPERM',
  'EMFILE',
  'ENFILE',
]);

/** S3 error codes meaning the store cannot serve now (or is misconfigured), as opposed to bad input. */
const S3_UNAVAILABLE_CODES = new Set([
  'NoSuchBucket',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'RequestTimeout',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'AllAccessDisabled',
]);

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for S3's "no such key" answers (GET says NoSuchKey, HEAD only NotFound). */
export function isS3NotFound(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'NoSuchKey' || code === 'NotFound';
}

/**
 * Maps a backend failure to what the client should see: 503 TEMPORARILY_UNAVAILABLE (clients retry it)
 * when the backend is down, unreachable, full or refuses us; anything unknown stays a 500.
 */
export function toStorageError(error: unknown, storeUri: string): Error {
  if (error instanceof MlflowError) return error;
  const code = errorCode(error);
  const message = (error as Error | undefined)?.message ?? String(error);
  if (code === 'ENAMETOOLONG') return MlflowError.invalidParameter('Invalid path: a name is too long.');
  if (
    (code !== undefined && (UNAVAILABLE_CODES.has(code) || S3_UNAVAILABLE_CODES.has(code))) ||
    /Retryable HTTP status/.test(message)
  ) {
    return new MlflowError(
      'TEMPORARILY_UNAVAILABLE',
      `Artifact storage ${storeUri} is unavailable (${code ?? 'error'}: ${message}).`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}
