/** Resolvers' context: any per-request object (see the registry's). */
export type GraphContext = object;
