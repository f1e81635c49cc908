import type { FastifyRequest } from 'fastify';

/**
 * The path a request reached this app under: what `--static-prefix` stripped from its URL
 * (createHttpApp's `rewriteUrl` keeps the original in `originalUrl`); '' when nothing was. A path the
 * server hands back to clients (a redirect's `Location`) goes under it, as MLflow's routes under
 * `--static-prefix` do.
 */
export function requestBasePath(request: Pick<FastifyRequest, 'url' | 'originalUrl'>): string {
  const { url, originalUrl } = request;
  return originalUrl !== url && originalUrl.endsWith(url) ? originalUrl.slice(0, -url.length) : '';
}

/**
 * A `Location` an upstream at `upstreamBase` (its base URL's path, '' for none) gave, as the client of
 * a proxy serving that upstream at `publicBase` must follow it: a root-relative path under the
 * upstream's base moves under the proxy's (Apache's ProxyPassReverse); anything else (absolute URLs,
 * `//host/...`, relative paths, paths outside the upstream's base) is kept.
 */
export function proxiedLocation(location: string, upstreamBase: string, publicBase: string): string {
  if (!location.startsWith('/') || location.startsWith('//')) return location;
  const rest = location.slice(upstreamBase.length);
  if (!location.startsWith(upstreamBase) || !(rest === '' || /^[/?#]/.test(rest))) return location;
  return `${publicBase}${rest}` || '/';
}
