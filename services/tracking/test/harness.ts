import { createHttpApp, type Database } from '@mast/common';
import { type Backend, HttpClient, openTestDatabase } from '@mast/test-support';
import type { FastifyInstance } from 'fastify';
import { createTracking, prepareTrackingDatabase } from '../src/plugin.js';
import type { TrackingDatabase } from '../src/store/schema.js';

export interface TrackingServer {
  client: HttpClient;
  app: FastifyInstance;
  database: Database<TrackingDatabase>;
  close(): Promise<void>;
}

/**
 * The tracking service (REST and its GraphQL subgraph at `/graphql`) on a fresh database of the given
 * backend, listening on a loopback port.
 */
export async function startTrackingServer(
  backend: Backend,
  defaultArtifactRoot = 'mlflow-artifacts:/',
): Promise<TrackingServer> {
  const database = await openTestDatabase<TrackingDatabase>(backend);
  const deps = { db: database.db, defaultArtifactRoot };
  await prepareTrackingDatabase(deps);
  const { app } = createHttpApp({
    logLevel: 'silent',
    bodyLimit: 32 * 1024 * 1024,
    readinessChecks: [database.ping],
  });
  const tracking = createTracking(deps);
  await tracking.registerRest(app);
  tracking.registerSubgraph(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    client: new HttpClient(address),
    app,
    database,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
