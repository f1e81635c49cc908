import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RequestReader } from '../request.js';
import type { ExpensiveRequestLimiter } from './expensive-requests.js';

export type RpcMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * An RPC's work: reads the request, answers an object (serialized as JSON), `JsonText` or `StreamedText`. `signal`
 * aborts when the client closes the connection before the answer (pass it to long reads).
 */
export type RpcHandler = (
  reader: RequestReader,
  request: FastifyRequest,
  signal: AbortSignal,
) => Promise<object>;

export interface RpcOptions {
  /** Largest request body, bytes (the app's limit when absent). */
  bodyLimit?: number;
  /**
   * An expensive read (search, history, bulk read, listing): runs under the app's
   * `ExpensiveRequestLimiter`, so it queues (or gets 429) instead of starving cheap calls.
   */
  expensive?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Admission control shared by the expensive RPCs of every service on this app (see `createHttpApp`). */
    expensiveRequests?: ExpensiveRequestLimiter;
  }
}

/** An AbortSignal that aborts when the response's connection closes before the response finished. */
function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * A response body already serialized as JSON (built by the database for a large read): `rpc()` sends
 * it as it is instead of serializing an object.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * A response streamed as it is produced (a CSV export of every run): `rpc()` sends its chunks as they
 * come, with its content type and headers. An error after the first chunk can only cut the response.
 */
export class StreamedText {
  constructor(
    readonly contentType: string,
    readonly chunks: AsyncIterable<string>,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * Every prefix MLflow serves its RPCs under: `/api/2.0` for clients, `/ajax-api/2.0` for its web UI, and
 * `/api/2.0/preview`, which MLflow 1.x clients still call for some endpoints.
 */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0', '/api/2.0/preview'] as const;

/**
 * Registers an MLflow RPC under every API prefix. GET reads the query string; other methods read the
 * JSON body (DELETE too, as the Python client sends one), falling back to the query string when bodiless.
 */
export function rpc(
  app: FastifyInstance,
  method: RpcMethod,
  path: string,
  handler: RpcHandler,
  options: RpcOptions = {},
): void {
  for (const prefix of API_PREFIXES) {
    app.route({
      method,
      url: `${prefix}${path}`,
      bodyLimit: options.bodyLimit,
      handler: async (request, reply) => {
        const fromQuery = method === 'GET' || request.body === undefined;
        const reader = RequestReader.of(fromQuery ? request.query : request.body, { fromQuery });
        const signal = clientSignal(reply);
        const limiter = options.expensive ? app.expensiveRequests : undefined;
        const result = limiter
          ? await limiter.run(() => handler(reader, request, signal), signal)
          : await handler(reader, request, signal);
        if (result instanceof JsonText) return reply.type('application/json').send(result.text);
        if (result instanceof StreamedText)
          return reply.type(result.contentType).headers(result.headers).send(Readable.from(result.chunks));
        return result;
      },
    });
  }
}

/** Omits an empty list, as protobuf JSON does for unset repeated fields. */
export function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}
