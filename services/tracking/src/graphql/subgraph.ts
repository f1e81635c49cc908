import { buildSubgraphSchema } from '@apollo/subgraph';
import { type GraphQLSchema, parse } from 'graphql';
import type { Kysely } from 'kysely';
import { ExperimentStore } from '../store/experiment-store.js';
import { type DownsampleStrategy, GraphStore } from '../store/graph-store.js';
import { RunStore } from '../store/run-store.js';
import type { TrackingDatabase } from '../store/schema.js';
import type { GraphContext } from './context.js';
import { trackingSdl } from './generated/schema.js';
import { Loaders } from './loaders.js';
import { createResolvers, DEFAULT_GRAPH_LIMITS, type GraphLimits } from './resolvers.js';

/** The subgraph's name in the supergraph. */
export const TRACKING_SUBGRAPH = 'tracking';

export interface TrackingSubgraphDependencies {
  db: Kysely<TrackingDatabase>;
  defaultArtifactRoot: string;
  clock?: () => number;
  limits?: Partial<GraphLimits>;
  /** How metric histories are read (tests force one; `auto` picks the cheapest). */
  downsampleStrategy?: DownsampleStrategy;
}

/** The tracking subgraph's SDL (Federation 2), as composed into the supergraph. */
export function trackingTypeDefs() {
  return parse(trackingSdl);
}

/**
 * The tracking subgraph as an executable schema. Per-request DataLoaders live in a WeakMap keyed by the
 * GraphQL context object, created on first use: whoever executes the schema (the gateway in-process, or
 * the subgraph's own HTTP server) only has to pass a fresh context object per request.
 */
export function trackingSubgraphSchema(deps: TrackingSubgraphDependencies): GraphQLSchema {
  const graph = new GraphStore(deps.db);
  const loaders = new WeakMap<GraphContext, Loaders>();
  const resolvers = createResolvers({
    experiments: new ExperimentStore(deps.db, deps.defaultArtifactRoot),
    runs: new RunStore(deps.db),
    graph,
    clock: deps.clock ?? Date.now,
    limits: { ...DEFAULT_GRAPH_LIMITS, ...deps.limits },
    loaders(context) {
      let current = loaders.get(context);
      if (!current) {
        current = new Loaders(graph, deps.downsampleStrategy);
        loaders.set(context, current);
      }
      return current;
    },
    resetLoaders(context) {
      loaders.delete(context);
    },
  });
  return buildSubgraphSchema({
    typeDefs: trackingTypeDefs(),
    // The generated resolver types are stricter than @apollo/subgraph's map type; they are the same shape.
    resolvers: resolvers as Parameters<typeof buildSubgraphSchema>[0] extends { resolvers?: infer R }
      ? R
      : never,
  });
}
