import { buildSubgraphSchema } from '@apollo/subgraph';
import { withErrorCodes } from '@mast/common';
import { type GraphQLSchema, parse } from 'graphql';
import type { TrackingServices } from '../service/index.js';
import type { DownsampleStrategy } from '../store/graph-store.js';
import type { GraphContext } from './context.js';
import { trackingSdl } from './generated/schema.js';
import { Loaders } from './loaders.js';
import { loggedModelResolvers } from './logged-model-resolvers.js';
import { createResolvers, DEFAULT_GRAPH_LIMITS, type GraphLimits, type GraphServices } from './resolvers.js';
import { traceResolvers } from './trace-resolvers.js';
import { viewResolvers } from './view-resolvers.js';

/** The subgraph's name in the supergraph. */
export const TRACKING_SUBGRAPH = 'tracking';

/** The tracking subgraph's SDL (Federation 2), as composed into the supergraph. */
export function trackingTypeDefs() {
  return parse(trackingSdl);
}

/**
 * The tracking subgraph as an executable schema. Per-request DataLoaders live in a WeakMap keyed by the
 * GraphQL context object, created on first use: whoever executes the schema (the gateway in-process, or
 * the subgraph's own HTTP server) only has to pass a fresh context object per request.
 */
export function trackingSubgraphSchema(
  services: TrackingServices,
  options: {
    limits?: Partial<GraphLimits>;
    downsampleStrategy?: DownsampleStrategy;
  } = {},
): GraphQLSchema {
  const loaders = new WeakMap<GraphContext, Loaders>();
  const graphServices: GraphServices = {
    ...services,
    limits: { ...DEFAULT_GRAPH_LIMITS, ...options.limits },
    loaders(context) {
      let current = loaders.get(context);
      if (!current) {
        current = new Loaders(services.graph, services.traces, options.downsampleStrategy);
        loaders.set(context, current);
      }
      return current;
    },
    resetLoaders(context) {
      loaders.delete(context);
    },
  };
  const base = createResolvers(graphServices);
  const loggedModels = withErrorCodes(loggedModelResolvers(graphServices));
  const traces = withErrorCodes(traceResolvers(graphServices));
  const views = withErrorCodes(viewResolvers(services));
  const resolvers = {
    ...base,
    ...loggedModels,
    ...traces,
    ...views,
    Query: { ...base.Query, ...loggedModels.Query, ...traces.Query, ...views.Query },
    Experiment: { ...base.Experiment, ...traces.Experiment },
    Mutation: { ...base.Mutation, ...views.Mutation },
  };
  return buildSubgraphSchema({
    typeDefs: trackingTypeDefs(),
    // The generated resolver types are stricter than @apollo/subgraph's map type; they are the same shape.
    resolvers: resolvers as Parameters<typeof buildSubgraphSchema>[0] extends { resolvers?: infer R }
      ? R
      : never,
  });
}
