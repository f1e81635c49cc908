/** The GraphQL context the artifact resolvers receive: any per-request object (they keep no state on it). */
export type GraphContext = object;
