import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REST_ROUTES } from './rest-proxy.js';

/** Where `npm run build` puts the web UI (`services/ui/dist`), from this module in `src/` or `dist/`. */
const WEB_UI_DIST = fileURLToPath(new URL('../../ui/dist', import.meta.url));

/**
 * Paths that are the API's, never the UI's: each service's REST roots (from the descriptors) plus
 * what every process serves. An unknown path under them keeps MLflow's JSON 404.
 */
const API_ROOTS = [
  ...new Set(REST_ROUTES.map((route) => `/${route.prefix.split('/')[1]}`)),
  '/graphql',
  '/health',
  '/metrics',
  '/version',
  '/ready',
];

/**
 * The UI's routes (services/ui/src/app.tsx) whose segments are names that may hold dots: a registered
 * model `my.model`, an artifact path `plots/loss.png`. Under them a dot is no file extension.
 */
const DOTTED_ROUTE_ROOTS = ['/experiments/', '/models/'];

/**
 * The UI's Content-Security-Policy: code, styles and data from this origin only (charts draw on a
 * canvas; images may be data or blob URLs of artifacts).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ');

/** Files of the UI's `public/` folder, which Vite copies unhashed to the build's root, by type. */
const PUBLIC_FILES: Record<string, string> = { 'favicon.svg': 'image/svg+xml' };

const NOT_BUILT =
  'The Mast web UI is not built. Run `npm run build` in the Mast repository, then restart the server. ' +
  'The MLflow REST API (/api/2.0/mlflow/...) and GraphQL (/graphql) work without it.\n';

/** Whether a path (without its query) is under one of the API roots. */
function isApiPath(path: string): boolean {
  return API_ROOTS.some((root) => path === root || path.startsWith(`${root}/`));
}

/**
 * Whether a path asks for a file the build does not have (`/favicon.ico`, `/foo.js`: its last segment
 * has an extension; `/assets/` is served before this): a 404, never the app's page.
 */
function isMissingFile(path: string): boolean {
  if (path === '/index.html' || DOTTED_ROUTE_ROOTS.some((root) => path.startsWith(root))) return false;
  return /\.[a-z0-9]+$/i.test(path.slice(path.lastIndexOf('/') + 1));
}

/** Whether a request's URL is under `--static-prefix` (createHttpApp routes the others to its 404). */
function underPrefix(url: string, prefix: string | undefined): boolean {
  return !prefix || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
}

function uiHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin');
}

export interface WebUiOptions {
  /** The built UI (default `WEB_UI_DIST`). */
  root?: string;
  /** `--static-prefix` (`/mlflow`): the UI's base URL, written into its `<base href>`. */
  staticPrefix?: string;
}

/**
 * Serves the web UI (services/ui) at `/`: hashed files under `/assets/` as immutable, the files of
 * its `public/` folder (`/favicon.svg`), and `index.html`
 * (never cached, so a new build is picked up) for `/` and every client route that is neither an API
 * path nor a file (a missing `/favicon.ico` is a 404, not the app's page),
 * with `<base href>` set to the static prefix so its relative asset and `/graphql` URLs resolve under
 * any route. Without a build, `/` answers 404 with a plain message saying how to build it, and client
 * routes MLflow's JSON 404.
 */
export async function registerWebUi(app: FastifyInstance, options: WebUiOptions = {}): Promise<void> {
  const root = options.root ?? WEB_UI_DIST;
  const indexFile = `${root}/index.html`;
  const href = `${options.staticPrefix ?? ''}/`.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const headWithBase = `<head>\n    <base href="${href}" />`;
  if (existsSync(`${root}/assets`))
    await app.register(fastifyStatic, {
      root: `${root}/assets`,
      prefix: '/assets/',
      decorateReply: false,
      // Vite names every asset by its content hash: a changed file is a new URL.
      immutable: true,
      maxAge: '365d',
      setHeaders: (response) => {
        response.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
        response.setHeader('x-content-type-options', 'nosniff');
      },
    });
  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    if (!underPrefix(request.originalUrl, options.staticPrefix) || isApiPath(path) || isMissingFile(path))
      return reply.callNotFound();
    let index: string;
    try {
      // Read per request (a few KB): a rebuilt UI is served without a restart.
      index = await readFile(indexFile, 'utf8');
    } catch {
      if (path !== '/') return reply.callNotFound();
      return reply.code(404).type('text/plain; charset=utf-8').send(NOT_BUILT);
    }
    return uiHeaders(reply)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(index.replace('<head>', headWithBase));
  };
  for (const [name, type] of Object.entries(PUBLIC_FILES))
    app.get(`/${name}`, async (_request, reply) => {
      let file: Buffer;
      try {
        file = await readFile(`${root}/${name}`);
      } catch {
        return reply.callNotFound();
      }
      // Unhashed: revalidated daily, so a new build's icon shows within a day.
      return uiHeaders(reply).header('cache-control', 'public, max-age=86400').type(type).send(file);
    });
  app.get('/', sendIndex);
  app.get('/*', sendIndex);
}
