import { createHttpApp, type HttpApp, type MastConfig, openDatabase } from '@mast/common';
import {
  prepareTrackingDatabase,
  registerTracking,
  TRACKING_SUBGRAPH,
  type TrackingDatabase,
  trackingSubgraph,
  trackingTypeDefs,
} from '@mast/tracking';
import { registerGraphQL } from './graphql/server.js';
import { inProcessGateway } from './graphql/supergraph.js';
import { registerServerInfo } from './server-info.js';

export interface AllInOne extends HttpApp {
  /** Closes the app, then the database pool. */
  close(): Promise<void>;
}

/**
 * The all-in-one process (`mast server`): every service's routes on one Fastify app and one port,
 * sharing one database pool, plus the federated GraphQL API at `/graphql` with every subgraph executed
 * in-process. The composition root for the embedded default.
 */
export async function buildAllInOne(config: MastConfig): Promise<AllInOne> {
  const database = await openDatabase<TrackingDatabase>({
    uri: config.backendStoreUri,
    poolSize: config.dbPoolSize,
  });
  try {
    const tracking = { db: database.db, defaultArtifactRoot: config.defaultArtifactRoot };
    await prepareTrackingDatabase(tracking);
    const http = createHttpApp({
      logLevel: config.logLevel,
      bodyLimit: config.bodyLimit,
      readinessChecks: [database.ping],
    });
    await registerTracking(http.app, tracking);
    registerServerInfo(http);
    // GraphQL: the subgraphs composed and executed in this process (no HTTP hop).
    const graphqlConfig = config.graphql;
    const gateway = inProcessGateway([
      {
        name: TRACKING_SUBGRAPH,
        typeDefs: trackingTypeDefs(),
        schema: trackingSubgraph({ ...tracking, limits: { maxPageSize: graphqlConfig.maxPageSize } }),
      },
    ]);
    await registerGraphQL(http.app, gateway, {
      config: graphqlConfig,
      metrics: http.metrics,
      logger: http.app.log,
    });
    return {
      ...http,
      close: async () => {
        await http.app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
