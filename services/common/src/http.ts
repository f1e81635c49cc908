import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { API_DOCS_HINT, MlflowError } from './errors.js';
import { parseRequestJson } from './wire.js';

/** The MLflow server version Mast answers `GET /version` with: the API level it mirrors. */
export const MLFLOW_COMPATIBLE_VERSION = '3.3.0';

export interface HttpAppOptions {
  logLevel: string;
  bodyLimit: number;
  /** Checks `/ready` runs; each rejects when its dependency is unreachable. */
  readinessChecks?: Array<() => Promise<void>>;
}

export interface HttpApp {
  app: FastifyInstance;
  metrics: Registry;
}

/**
 * A Fastify app with what every Mast process serves: MLflow's error contract, JSON bodies parsed as
 * MLflow parses them, pino logs, Prometheus metrics, and the /health, /version, /ready, /metrics routes.
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const app = Fastify({
    logger: { level: options.logLevel },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1000 },
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseRequestJson(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const duration = new Histogram({
    name: 'mast_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: `No route for ${request.method} ${request.url.split('?')[0]}`,
    });
  });

  app.get('/health', async (_request, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', async (_request, reply) => reply.type('text/plain').send(MLFLOW_COMPATIBLE_VERSION));
  app.get('/ready', async (_request, reply) => {
    try {
      await Promise.all((options.readinessChecks ?? []).map((check) => check()));
      return reply.type('text/plain').send('OK');
    } catch (error) {
      app.log.warn({ err: error }, 'readiness check failed');
      return reply.code(503).type('text/plain').send('NOT READY');
    }
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  return { app, metrics };
}

/** Maps any error to MLflow's `{"error_code","message"}` body: client faults 4xx, the rest 500. */
function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const mlflowError = toMlflowError(error);
  if (mlflowError.httpStatus >= 500) request.log.error({ err: error }, 'request failed');
  return reply.code(mlflowError.httpStatus).type('application/json').send(mlflowError.toJSON());
}

export function toMlflowError(error: FastifyError | Error): MlflowError {
  if (error instanceof MlflowError) return error;
  const code = (error as FastifyError).code;
  const status = (error as FastifyError).statusCode;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return MlflowError.invalidParameter(`Request body is larger than the server's limit.${API_DOCS_HINT}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return MlflowError.invalidParameter('Bad Request. Content-Type must be one of [application/json].');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MlflowError('BAD_REQUEST', error.message);
  }
  if (status !== undefined && status >= 400 && status < 500)
    return new MlflowError('BAD_REQUEST', error.message);
  return new MlflowError('INTERNAL_ERROR', 'Internal server error');
}

/** MLflow requires JSON on POST and PUT (spec §0.2); a hook for the scopes that serve JSON RPCs. */
export async function requireJsonContentType(request: FastifyRequest): Promise<void> {
  if (request.method !== 'POST' && request.method !== 'PUT' && request.method !== 'PATCH') return;
  const contentType = request.headers['content-type'];
  if (contentType === undefined) {
    const length = request.headers['content-length'];
    if (length === undefined || length === '0') return;
    throw MlflowError.invalidParameter('Bad Request. Content-Type header is missing.');
  }
  if (contentType.split(';')[0]!.trim().toLowerCase() !== 'application/json') {
    throw MlflowError.invalidParameter('Bad Request. Content-Type must be one of [application/json].');
  }
}

export interface ServeOptions {
  host: string;
  port: number;
  shutdownTimeoutMs: number;
  /** Runs after the server stopped taking requests and drained (close pools here). */
  onShutdown?: () => Promise<void>;
}

/** Listens, and on SIGTERM/SIGINT stops accepting, drains in-flight requests, then runs `onShutdown`. */
export async function serve(app: FastifyInstance, options: ServeOptions): Promise<string> {
  const address = await app.listen({ host: options.host, port: options.port });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, options.shutdownTimeoutMs);
    timer.unref();
    try {
      await app.close();
      await options.onShutdown?.();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return address;
}
