import { RequestReader } from '@mast/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export type RpcMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export type RpcHandler = (reader: RequestReader, request: FastifyRequest) => Promise<object>;

/** MLflow serves every RPC under both prefixes: `/api` for clients, `/ajax-api` for its web UI. */
export const API_PREFIXES = ['/api/2.0', '/ajax-api/2.0'] as const;

/**
 * Registers an MLflow RPC at both prefixes. GET reads the query string; other methods read the JSON
 * body (DELETE too, as the Python client sends one), falling back to the query string when bodiless.
 */
export function rpc(
  app: FastifyInstance,
  method: RpcMethod,
  path: string,
  handler: RpcHandler,
  bodyLimit?: number,
): void {
  for (const prefix of API_PREFIXES) {
    app.route({
      method,
      url: `${prefix}${path}`,
      bodyLimit,
      handler: async (request) => {
        const source = method === 'GET' || request.body === undefined ? request.query : request.body;
        return handler(RequestReader.of(source), request);
      },
    });
  }
}

/** Omits an empty list, as protobuf JSON does for unset repeated fields. */
export function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}
