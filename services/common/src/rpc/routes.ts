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
  /** The API prefixes to serve the RPC under; MLflow 3's RPCs (`since 3.0`) pass `API_V3_PREFIXES`. */
  prefixes?: readonly string[];
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

/** The prefixes of the RPCs MLflow declares `since 3.0` (trace V3 APIs): for clients and for its web UI. */
export const API_V3_PREFIXES = ['/api/3.0', '/ajax-api/3.0'] as const;

/**
 * Registers an MLflow RPC under every API prefix (or `options.prefixes`). GET reads the query string;
 * other methods read the JSON body (DELETE too, as the Python client sends one), falling back to the
 * query string when bodiless.
 */
export function rpc(
  app: FastifyInstance,
  method: RpcMethod,
  path: string,
  handler: RpcHandler,
  options: RpcOptions = {},
): void {
  for (const prefix of options.prefixes ?? API_PREFIXES) {
    app.route({
      method,
      url: `${prefix}${path}`,
      bodyLimit: options.bodyLimit,
      handler: async (request, reply) => {
        const fromQuery = method === 'GET' || request.body === undefined;
        const reader = RequestReader.of(fromQuery ? request.query : request.body, { fromQuery });
        const signal = clientSignal(reply);
        const limiter = options.expensive ? app.expensiveRequests : undefined;
        const release = limiter ? await limiter.acquire(signal) : () => {};
        let result: unknown;
        try {
          result = await handler(reader, request, signal);
        } catch (error) {
          release();
          throw error;
        }
        if (result instanceof StreamedText) {
          // A streamed answer (a CSV export) does its reading while it is sent: it keeps its slot until
          // the stream closes (ended, failed, or its client gone).
          const stream = Readable.from(result.chunks);
          stream.once('close', release);
          return reply.type(result.contentType).headers(result.headers).send(stream);
        }
        release();
        if (result instanceof JsonText) return reply.type('application/json').send(result.text);
        return result;
      },
    });
  }
}

/** Omits an empty list, as protobuf JSON does for unset repeated fields. */
export function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}
