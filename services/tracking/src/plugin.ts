import { migrateToLatest, registerSubgraphEndpoint, requireJsonContentType, toWireJson } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Kysely } from 'kysely';
import { type TrackingSubgraphDependencies, trackingSubgraphSchema } from './graphql/subgraph.js';
import type { TrackingContext } from './rest/context.js';
import { experimentRoutes } from './rest/experiments.js';
import { loggedModelRoutes } from './rest/logged-models.js';
import { runRoutes } from './rest/runs.js';
import { ExperimentStore } from './store/experiment-store.js';
import { LoggedModelStore } from './store/logged-model-store.js';
import { trackingMigrations } from './store/migrations/index.js';
import { RunStore } from './store/run-store.js';
import type { TrackingDatabase } from './store/schema.js';

export interface TrackingDependencies {
  db: Kysely<TrackingDatabase>;
  /** Root under which experiments get their artifact location (`mlflow-artifacts:/` by default). */
  defaultArtifactRoot: string;
  clock?: () => number;
}

export function createTrackingContext(deps: TrackingDependencies): TrackingContext {
  return {
    experiments: new ExperimentStore(deps.db, deps.defaultArtifactRoot),
    runs: new RunStore(deps.db),
    loggedModels: new LoggedModelStore(deps.db),
    clock: deps.clock ?? Date.now,
  };
}

/** Migrates the `tracking` schema and makes sure the Default experiment exists. */
export async function prepareTrackingDatabase(deps: TrackingDependencies): Promise<void> {
  await migrateToLatest(deps.db as Kysely<unknown>, trackingMigrations);
  await createTrackingContext(deps).experiments.ensureDefault((deps.clock ?? Date.now)());
}

/** Registers MLflow's tracking REST API on an app, in its own scope (JSON-only, NaN-aware output). */
export async function registerTracking(app: FastifyInstance, deps: TrackingDependencies): Promise<void> {
  const context = createTrackingContext(deps);
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireJsonContentType);
    scope.setReplySerializer(toWireJson);
    experimentRoutes(scope, context);
    runRoutes(scope, context);
    loggedModelRoutes(scope, context);
  });
}

export {
  TRACKING_SUBGRAPH,
  type TrackingSubgraphDependencies,
  trackingTypeDefs,
} from './graphql/subgraph.js';

/**
 * The tracking subgraph (Federation 2) for a gateway: executed in-process by the all-in-one server, or
 * served over HTTP by `registerTrackingSubgraph` in the standalone tracking process.
 */
export function trackingSubgraph(deps: TrackingSubgraphDependencies): GraphQLSchema {
  return trackingSubgraphSchema(deps);
}

/** Serves the tracking subgraph at `/graphql` (the standalone process; the gateway calls it). */
export function registerTrackingSubgraph(app: FastifyInstance, deps: TrackingSubgraphDependencies): void {
  registerSubgraphEndpoint(app, trackingSubgraphSchema(deps));
}
