import {
  ARTIFACT_SUBGRAPH,
  artifactCapabilities,
  artifactDependencies,
  artifactSubgraph,
  artifactTypeDefs,
  injectRunArtifactRoots,
  openArtifactStorage,
  registerArtifacts,
} from '@mast/artifact';
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
  /** Closes the app, then the artifact store and the database pool. */
  close(): Promise<void>;
}

/**
 * The all-in-one process (`mast server`): every service's routes on one Fastify app and one port,
 * sharing one database pool and one artifact store, plus the federated GraphQL API at `/graphql` with every subgraph executed
 * in-process. The composition root for the embedded default.
 */
export async function buildAllInOne(config: MastConfig): Promise<AllInOne> {
  const database = await openDatabase<TrackingDatabase>({
    uri: config.backendStoreUri,
    poolSize: config.dbPoolSize,
    statementTimeoutMs: config.dbStatementTimeoutMs,
  });
  const storage = await openArtifactStorage(config).catch(async (error: unknown) => {
    await database.close();
    throw error;
  });
  try {
    const tracking = { db: database.db, defaultArtifactRoot: config.defaultArtifactRoot };
    await prepareTrackingDatabase(tracking);
    const http = createHttpApp({
      logLevel: config.logLevel,
      bodyLimit: config.bodyLimit,
      readinessChecks: [database.ping, () => storage.ping()],
    });
    await registerTracking(http.app, tracking);
    const artifacts = artifactDependencies(config, storage, injectRunArtifactRoots(http.app));
    await registerArtifacts(http.app, artifacts);
    registerServerInfo(http, artifactCapabilities(artifacts));
    // GraphQL: the subgraphs composed and executed in this process (no HTTP hop).
    const graphqlConfig = config.graphql;
    const gateway = inProcessGateway([
      {
        name: TRACKING_SUBGRAPH,
        typeDefs: trackingTypeDefs(),
        schema: trackingSubgraph({ ...tracking, limits: { maxPageSize: graphqlConfig.maxPageSize } }),
      },
      { name: ARTIFACT_SUBGRAPH, typeDefs: artifactTypeDefs(), schema: artifactSubgraph(artifacts) },
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
        await storage.close();
        await database.close();
      },
    };
  } catch (error) {
    await storage.close();
    await database.close();
    throw error;
  }
}
