import { isConnectionError } from '../errors.js';

/**
 * Whether an error only says Redis cannot be reached (refused, reset, closed while reconnecting): the
 * connection reports those once per attempt, so queues and workers do not repeat them.
 */
export function isRedisConnectionError(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    /^Connection is closed|^Stream isn't writeable/i.test((error as Error)?.message)
  );
}

/** Redis refused this client: waiting cannot fix it (a wrong password, a user without rights). */
export function isRedisAuthError(error: Error): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid (username-)?password/i.test(error.message);
}
