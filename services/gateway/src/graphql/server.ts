import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { type GraphQLConfig, requestContext } from '@mast/common';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';
import type { Registry } from 'prom-client';
import { registerExplorerAssets, sendExplorer, wantsExplorer } from './explorer.js';
import { operationLimitsPlugin } from './limits.js';
import { graphqlMetricsPlugin } from './metrics.js';

export const GRAPHQL_PATH = '/graphql';

/** GraphQL request bodies (a logBatch of 1000 metrics is ~100 KB). */
const BODY_LIMIT = 8 * 1024 * 1024;

/** Selections (fragments expanded) a document may have before validation gives up on it. */
const MAX_SELECTIONS = 20_000;

export interface GraphQLServerOptions {
  config: GraphQLConfig;
  /** The process's Prometheus registry (`createHttpApp().metrics`). */
  metrics: Registry;
  logger: FastifyBaseLogger;
}

/** Successful GET queries may be cached: `max-age` when configured, else `no-cache` with an ETag. */
function cachingPlugin(maxAge: number): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, operation, response }) {
          if (request.http?.method !== 'GET' || operation?.operation !== 'query') return;
          const failed = response.body.kind !== 'single' || response.body.singleResult.errors !== undefined;
          response.http.headers.set(
            'cache-control',
            failed || maxAge === 0 ? 'no-cache' : `public, max-age=${maxAge}`,
          );
        },
      };
    },
  };
}

/** Logs what clients cannot see: internal errors, with their cause. */
function errorLoggingPlugin(logger: FastifyBaseLogger): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (
              code === 'INTERNAL_ERROR' ||
              code === 'INTERNAL_SERVER_ERROR' ||
              code === 'DOWNSTREAM_SERVICE_ERROR'
            ) {
              logger.error(
                { err: error.originalError ?? error, operationName, path: error.path },
                'GraphQL error',
              );
            }
          }
        },
      };
    },
  };
}

function corsHeaders(origins: string[]) {
  const any = origins.includes('*');
  return (request: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = request.headers.origin;
    if (!origin || (!any && !origins.includes(origin))) return false;
    reply.header('access-control-allow-origin', any ? '*' : origin);
    if (!any) reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'etag');
    return true;
  };
}

const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|fetch failed|socket hang up|request to \S+ failed|Couldn't load service definitions/i;

/**
 * A subgraph that cannot be reached answers with a coded error (`TEMPORARILY_UNAVAILABLE`, the service
 * named) and no internal URL or address; no message carries one (they are replaced by `<internal>`).
 */
export function withoutInternalAddresses(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = { ...(formatted.extensions ?? {}) } as Record<string, unknown>;
  if (UNREACHABLE.test(formatted.message)) {
    const service =
      (typeof extensions.serviceName === 'string' ? extensions.serviceName : undefined) ??
      /service "([^"]+)"/.exec(formatted.message)?.[1];
    delete extensions.stacktrace;
    delete extensions.response;
    return {
      ...formatted,
      message: `The ${service ?? 'upstream'} service is unavailable; retry later.`,
      extensions: { ...extensions, code: 'TEMPORARILY_UNAVAILABLE' },
    };
  }
  return {
    ...formatted,
    message: formatted.message
      .replace(/\bhttps?:\/\/[^\s"',)]+/gi, '<internal>')
      .replace(/\b\d{1,3}(\.\d{1,3}){3}:\d+\b/g, '<internal>'),
  };
}

function graphqlError(reply: FastifyReply, status: number, message: string) {
  return reply
    .code(status)
    .type('application/json')
    .send({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

/**
 * Mast's GraphQL endpoint: Apollo Server running a gateway at `/graphql` (POST, and GET for queries so
 * HTTP caches can help), with operation depth and cost limits, automatic persisted queries (Apollo's
 * bounded in-memory cache), CORS, ETags, and Prometheus metrics. Bad requests get GraphQL errors with a
 * code and a 4xx status, never a 500. Returns the server; it stops when the Fastify app closes.
 */
export async function registerGraphQL(
  app: FastifyInstance,
  gateway: ApolloGateway,
  options: GraphQLServerOptions,
): Promise<ApolloServer<BaseContext>> {
  const { config } = options;
  const server = new ApolloServer<BaseContext>({
    gateway,
    introspection: config.introspection,
    // Mutations are only accepted as POST with a JSON body, which browsers never send cross-site without
    // a CORS preflight; GET runs queries only. So no CSRF header is required and plain GETs can be cached.
    csrfPrevention: false,
    persistedQueries: {},
    cache: 'bounded',
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    maxRecursiveSelections: MAX_SELECTIONS,
    parseOptions: { maxTokens: 50_000 },
    logger: options.logger,
    // Compact JSON (Apollo pretty-prints by default: a third more bytes and time on big responses).
    stringifyResult: (result) => JSON.stringify(result),
    formatError: withoutInternalAddresses,
    plugins: [
      // Apollo's landing page loads its Sandbox from Apollo's CDN: Mast serves GraphiQL itself instead.
      ApolloServerPluginLandingPageDisabled(),
      operationLimitsPlugin({ maxDepth: config.maxDepth, maxCost: config.maxCost }),
      graphqlMetricsPlugin(options.metrics),
      cachingPlugin(config.cacheMaxAge),
      errorLoggingPlugin(options.logger),
    ],
  });
  await server.start();
  // Fastify drains in-flight requests on close (common's `serve`); Apollo stops after it (no drain
  // plugin: its drainServer would close the app again from inside this hook).
  app.addHook('onClose', async () => {
    await server.stop();
  });
  const handler = fastifyApolloHandler(server, {
    context: async (request) => requestContext(request.headers),
  });
  const cors = corsHeaders(config.corsOrigins);

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
      }
    });
    scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 400;
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        return graphqlError(reply, 415, 'POST bodies must be JSON (Content-Type: application/json).');
      }
      if (error.statusCode === undefined || error.statusCode >= 500) {
        request.log.error({ err: error }, 'GraphQL request failed');
        return reply
          .code(500)
          .type('application/json')
          .send({
            errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
          });
      }
      return graphqlError(reply, status, error.message);
    });
    scope.addHook('onRequest', async (request, reply) => {
      cors(request, reply);
    });
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.method !== 'GET' || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
      const etag = `W/"${createHash('sha1').update(payload).digest('base64url')}"`;
      reply.header('etag', etag);
      if (request.headers['if-none-match'] === etag) {
        reply.code(304);
        return '';
      }
      return payload;
    });
    // A browser opening /graphql gets the GraphQL explorer, when introspection is on (the explorer
    // needs it; with introspection off, the request is answered as any GET without a query).
    if (config.introspection) registerExplorerAssets(scope, GRAPHQL_PATH);
    scope.route({
      method: ['GET', 'POST'],
      url: GRAPHQL_PATH,
      bodyLimit: BODY_LIMIT,
      handler: async function (request, reply) {
        if (config.introspection && wantsExplorer(request)) return sendExplorer(reply, GRAPHQL_PATH);
        return handler.call(this, request, reply);
      },
    });
    scope.options(GRAPHQL_PATH, async (request, reply) => {
      if (cors(request, reply)) {
        reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
        reply.header(
          'access-control-allow-headers',
          request.headers['access-control-request-headers'] ?? 'content-type, authorization',
        );
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    });
  });
  return server;
}
