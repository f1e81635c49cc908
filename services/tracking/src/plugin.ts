import { migrateToLatest, registerSubgraphEndpoint, requireJsonContentType, toWireJson } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Kysely } from 'kysely';
import type { GraphLimits } from './graphql/resolvers.js';
import { trackingSubgraphSchema } from './graphql/subgraph.js';
import { experimentRoutes } from './rest/experiments.js';
import { loggedModelRoutes } from './rest/logged-models.js';
import { runRoutes } from './rest/runs.js';
import { runExportRoutes } from './rest/runs-export.js';
import { scorerRoutes } from './rest/scorers.js';
import { traceRoutes } from './rest/traces.js';
import { createTrackingServices } from './service/index.js';
import type { DownsampleStrategy } from './store/graph-store.js';
import { trackingMigrations } from './store/migrations/index.js';
import type { TrackingDatabase } from './store/schema.js';

export interface TrackingDependencies {
  db: Kysely<TrackingDatabase>;
  /** Root under which experiments get their artifact location (`mlflow-artifacts:/` by default). */
  defaultArtifactRoot: string;
  /** Milliseconds since the epoch; injected so tests can pin time. */
  clock?: () => number;
  /** The subgraph's limits (page size, points, comparisons); defaults apply to what is not given. */
  graphLimits?: Partial<GraphLimits>;
  /** How metric histories are read (tests force one; `auto` picks the cheapest). */
  downsampleStrategy?: DownsampleStrategy;
}

/** The tracking service, built once per process by its composition root. */
export interface Tracking {
  /** Registers MLflow's tracking REST API on an app, in its own scope (JSON-only, NaN-aware output). */
  registerRest(app: FastifyInstance): Promise<void>;
  /** Serves the subgraph at `/graphql` (the standalone process; the gateway calls it). */
  registerSubgraph(app: FastifyInstance): void;
  /** The tracking subgraph (Federation 2), executable in-process by the all-in-one gateway. */
  subgraph: GraphQLSchema;
}

/** Builds the tracking services once; REST and GraphQL both call them. */
export function createTracking(deps: TrackingDependencies): Tracking {
  const services = createTrackingServices(deps);
  const subgraph = trackingSubgraphSchema(services, {
    limits: deps.graphLimits,
    downsampleStrategy: deps.downsampleStrategy,
  });
  return {
    async registerRest(app) {
      await app.register(async (scope) => {
        scope.addHook('onRequest', requireJsonContentType);
        scope.setReplySerializer(toWireJson);
        experimentRoutes(scope, services);
        runRoutes(scope, services);
        loggedModelRoutes(scope, services);
        runExportRoutes(scope, services);
        traceRoutes(scope, services);
        scorerRoutes(scope, services);
      });
    },
    registerSubgraph(app) {
      registerSubgraphEndpoint(app, subgraph);
    },
    subgraph,
  };
}

/** Migrates the `tracking` schema and makes sure the Default experiment exists. */
export async function prepareTrackingDatabase(deps: TrackingDependencies): Promise<void> {
  await migrateToLatest(deps.db as Kysely<unknown>, trackingMigrations);
  await createTrackingServices(deps).experiments.ensureDefault();
}

export { TRACKING_SUBGRAPH, trackingTypeDefs } from './graphql/subgraph.js';
