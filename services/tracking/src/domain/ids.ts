import { randomUUID } from 'node:crypto';

/** Run ids are uuid4 hex: 32 lowercase characters (lowercase matters for `run_id IN` filters). */
export function newRunId(): string {
  return randomUUID().replaceAll('-', '');
}

/** Logged-model ids: `m-` and 32 hex characters. */
export function newLoggedModelId(): string {
  return `m-${newRunId()}`;
}
