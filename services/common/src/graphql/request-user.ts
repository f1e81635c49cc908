import type { IncomingHttpHeaders } from 'node:http';

/** The user of a request that names none. */
export const ANONYMOUS_USER = 'anonymous';

/**
 * The header that names the user: what an authenticating proxy in front of Mast sets (oauth2-proxy's
 * `X-Forwarded-User`), and what the gateway passes to a subgraph over HTTP.
 */
export const USER_HEADER = 'x-forwarded-user';

/** The GraphQL context of a request: who sent it (subgraphs also key per-request DataLoaders on it). */
export interface RequestContext {
  user: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text ? text : undefined;
}

/**
 * Who sent a request: the user an authenticating proxy names (`X-Forwarded-User`, or oauth2-proxy's
 * `X-Auth-Request-User`), else the user of `Authorization: Basic`, else `anonymous`. Mast checks no
 * password: the proxy in front of it authenticates.
 */
export function requestUser(headers: IncomingHttpHeaders): string {
  const named = header(headers, USER_HEADER) ?? header(headers, 'x-auth-request-user');
  if (named) return named;
  const basic = /^Basic\s+(\S+)$/i.exec(header(headers, 'authorization') ?? '');
  const user = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] : undefined;
  return user ? user : ANONYMOUS_USER;
}

export function requestContext(headers: IncomingHttpHeaders): RequestContext {
  return { user: requestUser(headers) };
}
