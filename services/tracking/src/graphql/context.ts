/**
 * The GraphQL context the tracking resolvers receive: any per-request object. The subgraph keeps its
 * per-request DataLoaders in a WeakMap keyed by it, so the gateway's context (in-process wiring) and the
 * subgraph server's own (HTTP wiring) both work, and the loaders die with the request.
 */
export type GraphContext = object;
