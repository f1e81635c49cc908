import { ANONYMOUS_USER, type RequestContext } from '@mast/common';

/**
 * The GraphQL context the tracking resolvers receive: any per-request object. The subgraph keeps its
 * per-request DataLoaders in a WeakMap keyed by it, so the gateway's context (in-process wiring) and the
 * subgraph server's own (HTTP wiring) both work, and the loaders die with the request.
 */
export type GraphContext = object;

/** The request's user (`requestUser`, set by whoever executes the schema); `anonymous` when none. */
export function contextUser(context: GraphContext): string {
  return (context as Partial<RequestContext>).user ?? ANONYMOUS_USER;
}
