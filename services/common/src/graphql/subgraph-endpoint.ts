import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  type DocumentNode,
  execute,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  validate,
} from 'graphql';
import { parseRequestJson } from '../wire.js';
import { toGraphQLError } from './errors.js';
import { requestContext } from './request-user.js';

/** A literal a scalar rejected is the client's input; anything else is an invalid document. */
function validationCode(error: GraphQLError): string {
  return error.originalError ? 'BAD_USER_INPUT' : 'GRAPHQL_VALIDATION_FAILED';
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** Parsed and validated documents by query text: the gateway sends a small, fixed set of them. */
class DocumentCache {
  private readonly entries = new Map<string, { document?: DocumentNode; errors?: readonly GraphQLError[] }>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly capacity = 1000,
  ) {}

  get(query: string): { document?: DocumentNode; errors?: readonly GraphQLError[] } {
    let entry = this.entries.get(query);
    if (entry) {
      this.entries.delete(query);
    } else {
      try {
        const document = parse(query, { maxTokens: 50_000 });
        const errors = validate(this.schema, document);
        entry =
          errors.length > 0
            ? { errors: errors.map((error) => withCode(error, validationCode(error))) }
            : { document };
      } catch (error) {
        entry = {
          errors: [
            error instanceof GraphQLError ? withCode(error, 'GRAPHQL_PARSE_FAILED') : toGraphQLError(error),
          ],
        };
      }
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(query, entry);
    return entry;
  }
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

function reject(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).send({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

/**
 * Serves a subgraph schema over GraphQL-over-HTTP (POST JSON, or GET for queries) at `path`: what the
 * gateway calls in cluster mode. It is the gateway's backend, not a public API: depth and cost limits,
 * APQ, CORS and metrics live in the gateway. Each request gets a fresh context object (the subgraph keys
 * its DataLoaders on it) naming its user (`requestUser`: the gateway passes it as `X-Forwarded-User`).
 */
export function registerSubgraphEndpoint(
  app: FastifyInstance,
  schema: GraphQLSchema,
  path = '/graphql',
): void {
  const documents = new DocumentCache(schema);
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseRequestJson(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    scope.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) =>
      reject(reply, error.statusCode ?? 400, error.message),
    );
    scope.route({
      method: ['GET', 'POST'],
      url: path,
      handler: async (request, reply) => {
        const raw = (request.method === 'GET' ? request.query : request.body) as GraphQLBody | undefined;
        let variables = raw?.variables;
        if (request.method === 'GET' && typeof variables === 'string') {
          try {
            variables = JSON.parse(variables);
          } catch {
            return reject(reply, 400, "'variables' is not valid JSON.");
          }
        }
        if (typeof raw?.query !== 'string') return reject(reply, 400, "A 'query' string is required.");
        if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) {
          return reject(reply, 400, "'variables' must be an object.");
        }
        const operationName = typeof raw.operationName === 'string' ? raw.operationName : undefined;
        const { document, errors } = documents.get(raw.query);
        // GraphQL errors travel with a 200 (the gateway reads their codes; a 4xx would hide them).
        if (!document) return reply.send({ errors: errors!.map((e) => e.toJSON()) });
        if (request.method === 'GET' && getOperationAST(document, operationName)?.operation !== 'query') {
          return reject(reply, 405, 'Only queries can be sent with GET; use POST.');
        }
        const result = await execute({
          schema,
          document,
          variableValues: variables as Record<string, unknown> | undefined,
          operationName,
          contextValue: requestContext(request.headers),
        });
        // No data at all: the variables did not coerce.
        if (result.data === undefined && result.errors) {
          result.errors = result.errors.map((error) => withCode(error, 'BAD_USER_INPUT'));
        }
        for (const error of result.errors ?? []) {
          if (error.extensions.code === 'INTERNAL_ERROR' || error.extensions.code === undefined) {
            request.log.error(
              { err: error.originalError ?? error, path: error.path },
              'GraphQL resolver failed',
            );
          }
        }
        return reply.type('application/json').send({
          ...(result.errors ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
          data: result.data,
        });
      },
    });
  });
}
