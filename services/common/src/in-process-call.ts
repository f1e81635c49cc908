import { randomUUID } from 'node:crypto';

/** The header that marks a service's in-process call to another on the same app (all-in-one). */
const IN_PROCESS_CALL_HEADER = 'x-mast-in-process-call';

/** Made at start-up and never sent over the network: no outside client can present it. */
const IN_PROCESS_CALL_TOKEN = randomUUID();

/** The headers a service's `app.inject` call to another carries (see `isInProcessCall`). */
export function inProcessCallHeaders(): Record<string, string> {
  return { [IN_PROCESS_CALL_HEADER]: IN_PROCESS_CALL_TOKEN };
}

/**
 * Whether a request is one service's in-process call to another: it comes from no browser, so the
 * Host check (DNS-rebinding protection) does not apply to it, whatever `--allowed-hosts` lists.
 */
export function isInProcessCall(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[IN_PROCESS_CALL_HEADER] === IN_PROCESS_CALL_TOKEN;
}
