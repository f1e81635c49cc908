import { createHttpApp, type HttpApp, type MastConfig, openDatabase } from '@mast/common';
import { prepareTrackingDatabase, registerTracking, type TrackingDatabase } from '@mast/tracking';

export interface AllInOne extends HttpApp {
  /** Closes the app, then the database pool. */
  close(): Promise<void>;
}

/**
 * The all-in-one process (`mast server`): every service's routes on one Fastify app and one port,
 * sharing one database pool. The composition root for the embedded default.
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

/** `GET /api/3.0/mlflow/server-info`: what the Python client asks to discover server features. */
function registerServerInfo({ app }: HttpApp): void {
  for (const prefix of ['/api/3.0', '/ajax-api/3.0']) {
    app.get(`${prefix}/mlflow/server-info`, async () => ({
      store_type: 'SqlStore',
      workspaces_enabled: false,
      trace_archival_enabled: false,
      multipart_uploads_enabled: false,
      multipart_downloads_enabled: false,
    }));
  }
}
