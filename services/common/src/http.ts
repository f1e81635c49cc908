import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { HttpConfig } from './config-fragments.js';
import { API_DOCS_HINT, isConnectionError, MlflowError, unavailable } from './errors.js';
import { isInProcessCall } from './in-process-call.js';
import type { ProcessContext } from './process.js';
import { checkWellFormedStrings, invalidParameter } from './request.js';
import { ExpensiveRequestLimiter, type ExpensiveRequestLimits } from './rpc/expensive-requests.js';
import { redactSecrets } from './secrets.js';
import { parseRequestJson } from './wire.js';

/** The MLflow server version Mast answers `GET /version` with: the API level it mirrors. */
export const MLFLOW_COMPATIBLE_VERSION = '3.3.0';

export interface HttpAppOptions {
  logLevel: string;
  bodyLimit: number;
  /** Checks `/ready` runs; each rejects when its dependency is unreachable. */
  readinessChecks?: Array<() => Promise<void>>;
  /** Admission control of the expensive RPCs (`rpc(..., { expensive: true })`); defaults when absent. */
  expensiveRequests?: ExpensiveRequestLimits;
  /** Every route under this path (`/mlflow`), as `mlflow server --static-prefix`; '' or unset: none. */
  staticPrefix?: string;
  /**
   * Host headers accepted (DNS-rebinding protection, `--allowed-hosts`); `*` wildcards. Unset: no
   * check; `'default'`: MLflow 3's default, localhost and private addresses.
   */
  allowedHosts?: readonly string[] | 'default';
}

/** A readiness check's failure whose message `/ready` may show (names, never addresses or secrets). */
export class ReadinessFailure extends Error {
  override name = 'ReadinessFailure';
}

/**
 * Why a readiness check failed, as one log line: the error's first line and its code (a network
 * error's cause when it has one), credentials masked. No stack: `/ready` is polled every few seconds.
 */
export function failureReason(error: unknown, depth = 0): string {
  const { message, code, cause } = (error ?? {}) as { message?: unknown; code?: unknown; cause?: unknown };
  const text = typeof message === 'string' && message !== '' ? message.split('\n')[0]! : String(error);
  const own = typeof code === 'string' && !text.includes(code) ? ` (${code})` : '';
  const because =
    cause instanceof Error && depth < 3 && !text.includes(cause.message)
      ? `: ${failureReason(cause, depth + 1)}`
      : '';
  return redactSecrets(`${text}${own}${because}`);
}

/** The HTTP settings of a process as `createHttpApp` options. */
export function httpAppOptions(
  config: HttpConfig,
  extra: Pick<HttpAppOptions, 'readinessChecks'> & { checkHostsByDefault?: boolean } = {},
): HttpAppOptions {
  return {
    logLevel: config.logLevel,
    bodyLimit: config.bodyLimit,
    expensiveRequests: config.expensiveRequests,
    staticPrefix: config.staticPrefix,
    allowedHosts: config.allowedHosts ?? (extra.checkHostsByDefault ? 'default' : undefined),
    readinessChecks: extra.readinessChecks,
  };
}

/** MLflow 3's default allowed hosts: loopback and private (RFC 1918, unique-local, link-local) addresses. */
const DEFAULT_ALLOWED_HOST =
  /^(localhost|127(\.\d{1,3}){3}|10(\.\d{1,3}){3}|192\.168(\.\d{1,3}){2}|172\.(1[6-9]|2\d|3[01])(\.\d{1,3}){2}|169\.254(\.\d{1,3}){2}|\[(::1|f[cd][0-9a-f:]*|fe80:[0-9a-f:]*)\])$/i;

/**
 * Routes answered whatever the Host header (under `--static-prefix` too). MLflow exempts `/health` and
 * `/version` (HEALTH_ENDPOINTS in mlflow/server/security_utils.py). `/ready` and `/metrics` as well:
 * Kubernetes probes and Prometheus reach a pod by its IP or a service name, which `--allowed-hosts`
 * rarely lists; neither changes anything or shows tracking data.
 */
const HOST_CHECK_EXEMPT = new Set(['/health', '/version', '/ready', '/metrics']);

/** A Host-header predicate from `--allowed-hosts` patterns (with or without a port; `*` matches anything). */
export function hostMatcher(patterns: readonly string[] | 'default'): (host: string | undefined) => boolean {
  if (patterns === 'default') {
    return (host) => host !== undefined && DEFAULT_ALLOWED_HOST.test(host.replace(/:\d+$/, ''));
  }
  const regexes = patterns.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      ),
  );
  return (host) =>
    host !== undefined && regexes.some((regex) => regex.test(host) || regex.test(host.replace(/:\d+$/, '')));
}

/**
 * Once `app` starts closing, a keep-alive connection ends a second after its last answer (Node adds a
 * second to `keepAliveTimeout`) instead of when the client lets it go: Node's `server.close()` ends only
 * the connections idle at that moment, so one whose request was in flight stayed open after its answer
 * (Fastify's keep-alive is 72 s; a Python client's pool keeps it for ever), holding the shutdown past
 * MAST_SHUTDOWN_TIMEOUT.
 */
export function endKeepAliveWhenClosing(app: FastifyInstance): void {
  app.addHook('preClose', (done) => {
    app.server.keepAliveTimeout = 1;
    done();
  });
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
    // A path Fastify cannot route (a malformed %-escape, a segment over maxParamLength) answers in
    // MLflow's error format too, with Fastify's status (400, 414).
    frameworkErrors: (error, request, reply) => {
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path segment of the URL is longer than 1000 characters.'
          : `The URL path ${JSON.stringify(request.url.split('?')[0])} is not valid percent-encoding.`;
      return (reply as FastifyReply)
        .code(error.statusCode ?? 400)
        .type('application/json')
        .send(MlflowError.invalidParameter(message).toJSON());
    },
    // --static-prefix: `/prefix/x` is routed as `/x`; anything outside the prefix is not found.
    ...(options.staticPrefix
      ? {
          rewriteUrl: (request: { url?: string }) => {
            const url = request.url ?? '/';
            const prefix = options.staticPrefix!;
            if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`))
              return url.slice(prefix.length) || '/';
            return `/__outside_static_prefix__${url}`;
          },
        }
      : {}),
  });
  if (options.allowedHosts !== undefined) {
    const allowed = hostMatcher(options.allowedHosts);
    app.addHook('onRequest', async (request, reply) => {
      if (HOST_CHECK_EXEMPT.has(request.routeOptions.url ?? '') || allowed(request.headers.host)) return;
      if (isInProcessCall(request.headers)) return;
      return reply.code(403).type('application/json').send({
        error_code: 'PERMISSION_DENIED',
        message: 'Invalid Host header - possible DNS rebinding attack detected (see --allowed-hosts).',
      });
    });
  }
  endKeepAliveWhenClosing(app);
  app.decorate('expensiveRequests', new ExpensiveRequestLimiter(options.expensiveRequests));
  // Path parameters (trace ids, model ids, ...) reach SQL as body strings do, and PostgreSQL text cannot
  // hold NUL: the same 400 as for a body value, before any handler runs.
  app.addHook('preValidation', async (request) => {
    for (const [name, value] of Object.entries((request.params ?? {}) as Record<string, unknown>))
      if (typeof value === 'string' && value.includes('\u0000'))
        throw invalidParameter(name, value, 'Strings may not contain NUL characters.');
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
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
      message: `No route for ${request.method} ${request.originalUrl.split('?')[0]}`,
    });
  });

  app.get('/health', async (_request, reply) => reply.type('text/plain').send('OK'));
  app.get('/version', async (_request, reply) => reply.type('text/plain').send(MLFLOW_COMPATIBLE_VERSION));
  app.get('/ready', async (_request, reply) => {
    const results = await Promise.allSettled((options.readinessChecks ?? []).map((check) => check()));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length === 0) return reply.type('text/plain').send('OK');
    for (const error of failures) app.log.warn(`readiness check failed: ${failureReason(error)}`);
    const reasons = failures.map((error) =>
      error instanceof ReadinessFailure
        ? error.message
        : isConnectionError(error)
          ? 'the database is unreachable'
          : 'a dependency is unreachable',
    );
    return reply
      .code(503)
      .type('text/plain')
      .send(`NOT READY: ${[...new Set(reasons)].join('; ')}`);
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );

  return { app, metrics };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON request body as MLflow reads it (`parseRequestJson`). Bytes that are not UTF-8 and strings
 * with an unpaired surrogate are 400 INVALID_PARAMETER_VALUE (MLflow's JSON and protobuf parsers refuse
 * both), never text with U+FFFD in their place.
 */
function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw MlflowError.invalidParameter(`Malformed JSON request body: it is not valid UTF-8.${API_DOCS_HINT}`);
  }
  const parsed = parseRequestJson(text);
  checkWellFormedStrings(text, parsed);
  return parsed;
}

/** Maps any error to MLflow's `{"error_code","message"}` body: client faults 4xx, the rest 500. */
function sendError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const mlflowError = toMlflowError(error);
  if (mlflowError.code === 'TEMPORARILY_UNAVAILABLE' && !(error instanceof MlflowError))
    request.log.warn({ err: error }, 'request failed: dependency unavailable');
  else if (mlflowError.httpStatus >= 500) request.log.error({ err: error }, 'request failed');
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
  if (isConnectionError(error)) return unavailable();
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

export interface ListenOptions {
  host: string;
  port: number;
}

/**
 * Listens, with the app registered in the process's shutdown registry: on SIGTERM/SIGINT it stops
 * accepting, drains in-flight requests, then the resources registered before it close (see
 * `runProcess`). Its logger becomes the process's.
 */
export async function listen(
  context: ProcessContext,
  app: FastifyInstance,
  options: ListenOptions,
): Promise<string> {
  context.shutdown.add('http server', () => app.close());
  context.logger = {
    info: (message) => app.log.info(message),
    error: (object, message) => app.log.error(object, message),
  };
  return app.listen({ host: options.host, port: options.port });
}
