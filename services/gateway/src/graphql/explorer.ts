import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The GraphQL explorer a browser gets at `/graphql`: GraphiQL (npm `graphiql`, with React 18's UMD
 * builds), every asset served by Mast itself from `<graphql path>/explorer/`, so nothing is loaded from
 * outside the machine and nothing is reported anywhere (GraphiQL has no telemetry; Apollo's landing page,
 * which loads from Apollo's CDN, is disabled). A Content-Security-Policy of `'self'` enforces it.
 */

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

const ASSETS: Record<string, { file: () => string; type: string }> = {
  'react.production.min.js': {
    file: () => join(packageDir('react'), 'umd/react.production.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'react-dom.production.min.js': {
    file: () => join(packageDir('react-dom'), 'umd/react-dom.production.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'graphiql.min.js': {
    file: () => join(dirname(require.resolve('graphiql/graphiql.min.js')), 'graphiql.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'graphiql.min.css': {
    file: () => join(dirname(require.resolve('graphiql/graphiql.min.js')), 'graphiql.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

const INIT = `(function () {
  var url = window.location.pathname;
  var fetcher = GraphiQL.createFetcher({ url: url });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
`;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mast GraphQL explorer</title>
<link rel="stylesheet" href="${base}/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the GraphQL explorer…</div>
<script src="${base}/react.production.min.js"></script>
<script src="${base}/react-dom.production.min.js"></script>
<script src="${base}/graphiql.min.js"></script>
<script src="${base}/init.js"></script>
</body>
</html>
`;
}

/** Whether a request is a browser opening `/graphql` (GET, HTML accepted, no query). */
export function wantsExplorer(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  const accept = String(request.headers.accept ?? '');
  if (!accept.includes('text/html')) return false;
  const query = request.query as Record<string, unknown> | undefined;
  return query?.query === undefined && query?.extensions === undefined;
}

/** Sends the explorer page for `GET <path>` (relative asset URLs, so `--static-prefix` works). */
export function sendExplorer(reply: FastifyReply, path: string): FastifyReply {
  const base = `${path.split('/').pop()}/explorer`;
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(page(base));
}

/** Serves the explorer's assets under `<path>/explorer/`. */
export function registerExplorerAssets(app: FastifyInstance, path: string): void {
  const cache = new Map<string, Buffer>();
  app.get(`${path}/explorer/:asset`, async (request, reply) => {
    const { asset } = request.params as { asset: string };
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'public, max-age=86400');
    if (asset === 'init.js') return reply.type('text/javascript; charset=utf-8').send(INIT);
    const known = ASSETS[asset];
    if (known === undefined) {
      return reply
        .code(404)
        .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No explorer asset ${asset}` });
    }
    let body = cache.get(asset);
    if (body === undefined) {
      body = readFileSync(known.file());
      cache.set(asset, body);
    }
    return reply.type(known.type).send(body);
  });
}
