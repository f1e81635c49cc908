import { artifactLocationConfig, databaseConfig, defineService, graphqlConfig } from '@mast/common';
import type { Kysely } from 'kysely';
import { createTracking, prepareTrackingDatabase, TRACKING_SUBGRAPH, trackingTypeDefs } from './plugin.js';
import { trackingMigrations } from './store/migrations/index.js';
import type { TrackingDatabase } from './store/schema.js';

/**
 * The tracking service: experiments, runs, metrics, params, tags, datasets, logged models and traces in the
 * `tracking` schema; MLflow's tracking REST API and the tracking subgraph.
 */
export const trackingService = defineService({
  name: 'tracking',
  config: [databaseConfig, artifactLocationConfig, graphqlConfig],
  migrations: trackingMigrations,
  rest: {
    apiPaths: [
      '/mlflow/experiments/',
      '/mlflow/runs/',
      '/mlflow/metrics/',
      '/mlflow/logged-models',
      '/mlflow/traces',
      // The web UI's span download (a redirect to the artifact service).
      '/mlflow/get-trace-artifact',
      '/mast/runs/',
    ],
    // MLflow 3's API level (traces, ...), served by tracking as it arrives.
    paths: ['/api/3.0/mlflow/', '/ajax-api/3.0/mlflow/'],
  },
  subgraph: { name: TRACKING_SUBGRAPH, typeDefs: trackingTypeDefs },
  async create({ config, db }) {
    const deps = {
      db: db as Kysely<TrackingDatabase>,
      defaultArtifactRoot: config.defaultArtifactRoot,
      graphLimits: { maxPageSize: config.graphql.maxPageSize },
    };
    // Migrated by the process already; this makes sure the Default experiment exists.
    await prepareTrackingDatabase(deps);
    const tracking = createTracking(deps);
    return { registerRest: (app) => tracking.registerRest(app), subgraph: tracking.subgraph };
  },
});
