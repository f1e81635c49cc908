import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { proxiedLocation, type RestRoute, requestBasePath, restRoutes, routeMatches } from '@mast/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SERVICES } from './services.js';

/**
 * Which service owns which MLflow REST paths, from the service descriptors (each service's API paths
 * under every API prefix, and its absolute paths): the longest matching prefix among the services the
 * gateway knows a URL for wins.
 */
export const REST_ROUTES: ReadonlyArray<RestRoute> = restRoutes(SERVICES);

/** Headers that describe one connection, not the message: never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface RestProxyOptions {
  /** Base URLs of the services by name (`tracking`, `artifact`, ...); only these are routed to. */
  services: Record<string, string>;
  /** Which service owns which path prefix (default: REST_ROUTES, from the descriptors). */
  routes?: ReadonlyArray<RestRoute>;
}

/**
 * Forwards MLflow REST paths to the services that own them, streaming request and response bodies both
 * ways (an 800 MB artifact upload never sits in the gateway's memory). A service that cannot be reached
 * is a 503 TEMPORARILY_UNAVAILABLE, which MLflow clients retry.
 */
export async function registerRestProxy(app: FastifyInstance, options: RestProxyOptions): Promise<void> {
  const routes = (options.routes ?? REST_ROUTES)
    .filter((route) => options.services[route.service] !== undefined)
    .sort((a, b) => b.prefix.length - a.prefix.length);
  if (routes.length === 0) return;
  const targets = new Map(Object.entries(options.services).map(([name, url]) => [name, new URL(url)]));
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  app.addHook('onClose', async () => {
    agents.http.destroy();
    agents.https.destroy();
  });

  async function forward(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = request.raw.url ?? request.url;
    const route = routes.find((r) => routeMatches(r, path));
    if (!route) {
      return reply.code(404).send({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No route for ${request.method} ${path.split('?')[0]}`,
      });
    }
    const target = targets.get(route.service)!;
    const upstreamBase = target.pathname.replace(/\/+$/, '');
    const url = new URL(upstreamBase + path, target);
    const headers = forwardable(request.headers);
    const forwardedFor = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${request.ip}` : request.ip;
    headers['x-forwarded-host'] ??= request.headers.host ?? '';
    headers['x-forwarded-proto'] ??= request.protocol;
    const https = url.protocol === 'https:';
    // Fastify leaves a body without Content-Type unread: forward the raw stream then.
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    const body = (request.body as Readable | undefined) ?? (hasBody ? request.raw : undefined);

    await new Promise<void>((resolve) => {
      const upstream = (https ? httpsRequest : httpRequest)(
        url,
        { method: request.method, headers, agent: https ? agents.https : agents.http },
        (response) => {
          reply.code(response.statusCode ?? 502);
          for (const [name, value] of Object.entries(forwardable(response.headers)))
            reply.header(name, value);
          // A service's redirect to one of its paths is followed through this gateway (and its
          // --static-prefix), not at the service's own address.
          const location = response.headers.location;
          if (location !== undefined)
            reply.header('location', proxiedLocation(location, upstreamBase, requestBasePath(request)));
          reply.send(response);
          resolve();
        },
      );
      upstream.on('error', (error) => {
        if (!reply.sent) {
          request.log.warn({ err: error, service: route.service }, 'upstream service unreachable');
          reply.code(503).send({
            error_code: 'TEMPORARILY_UNAVAILABLE',
            message: `The ${route.service} service is unavailable (${(error as NodeJS.ErrnoException).code ?? 'connection failed'}); retry later.`,
          });
        }
        resolve();
      });
      if (body) {
        pipeline(body, upstream).catch((error: Error) => upstream.destroy(error));
      } else {
        upstream.end();
      }
    });
    return reply;
  }

  await app.register(async (scope) => {
    // Bodies are forwarded as they arrive: no parsing, no size limit beyond the owning service's.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const roots = new Set(routes.map((route) => route.prefix.split('/').slice(0, 2).join('/')));
    for (const root of roots) {
      if (routes.some((route) => route.prefix.startsWith(`${root}/`))) scope.all(`${root}/*`, forward);
      if (routes.some((route) => route.prefix === root)) scope.all(root, forward);
    }
  });
}
