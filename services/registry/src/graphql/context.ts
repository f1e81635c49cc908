/**
 * The GraphQL context the registry resolvers receive: any per-request object. Per-request DataLoaders
 * live in a WeakMap keyed by it, so both wirings (in-process gateway, the subgraph's own server) work.
 */
export type GraphContext = object;
