import { MlflowError } from './errors.js';
import { inProcessCallHeaders } from './in-process-call.js';
import type { PeerLink } from './service-descriptor.js';

/** A peer service's REST answer: HTTP status and body text. */
export interface PeerResponse {
  status: number;
  text: string;
}

export interface PeerRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Absolute path, e.g. `/api/2.0/mlflow/runs/get`. */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

/** Calls one peer service's REST API. */
export interface PeerRest {
  request(request: PeerRequest): Promise<PeerResponse>;
}

/**
 * Calls a peer service's REST API the same way in both wirings: `app.inject` on the same Fastify app
 * (all-in-one) or `fetch` over HTTP (cluster). A peer that cannot be reached within `timeoutMs`
 * (default 10 s) is a 503 `TEMPORARILY_UNAVAILABLE` naming the service, never its internal address
 * (the same message the gateway's REST proxy gives).
 */
export function peerRest(serviceName: string, link: PeerLink, timeoutMs = 10_000): PeerRest {
  if (link.kind === 'in-process') {
    return {
      async request({ method = 'GET', path, query, body }) {
        const response = await link.app.inject({
          method,
          url: `${link.basePath ?? ''}${path}`,
          headers: inProcessCallHeaders(),
          ...(query ? { query } : {}),
          ...(body === undefined ? {} : { payload: body as object }),
        });
        return { status: response.statusCode, text: response.body };
      },
    };
  }
  const base = link.url.replace(/\/+$/, '');
  return {
    async request({ method = 'GET', path, query, body }) {
      const url = `${base}${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
      try {
        const response = await fetch(url, {
          method,
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, text: await response.text() };
      } catch (error) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `The ${serviceName} service is unavailable (${failureCode(error)}); retry later.`,
        );
      }
    },
  };
}

/** `ECONNREFUSED`, `TimeoutError`, ...: what went wrong, without the address. */
function failureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const name = (error as Error).name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timed out' : 'connection failed';
}
