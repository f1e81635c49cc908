import {
  type ArtifactConfig,
  type ArtifactLocationConfig,
  registerSubgraphEndpoint,
  requireJsonContentType,
  type S3Config,
} from '@mast/common';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { parseArtifactLocation } from './domain/artifact-uri.js';
import { artifactSubgraphSchema } from './graphql/subgraph.js';
import type { ArtifactContext } from './rest/context.js';
import { proxyRoutes, uploadRoutes } from './rest/proxy.js';
import { loggedModelArtifactRoutes, runArtifactRoutes } from './rest/runs.js';
import type { LoggedModelArtifactRoots, RunArtifactRoots } from './run-roots.js';
import { ArtifactStorage, type ArtifactStorageOptions } from './storage/artifact-storage.js';

/** The settings the artifact service reads (its configuration fragments composed). */
export type ArtifactServiceConfig = ArtifactLocationConfig & ArtifactConfig & { s3: S3Config };

export interface ArtifactDependencies {
  storage: ArtifactStorage;
  /**
   * Looks up runs' artifact roots, for `/api/2.0/mlflow/artifacts/list` and `/get-artifact`; without
   * it those routes are not registered (an artifacts-only process).
   */
  runs?: RunArtifactRoots;
  /**
   * Looks up logged models' artifact roots, for `logged-models/{model_id}/artifacts/directories` and
   * `/files`; without it those routes are not registered.
   */
  loggedModels?: LoggedModelArtifactRoots;
  /** MLflow's `--serve-artifacts`: when false the `/mlflow-artifacts` routes answer 503. */
  serveArtifacts: boolean;
  /** Largest single upload, in bytes. */
  maxUploadBytes: number;
  /** Answer downloads from S3 with a redirect to a presigned URL instead of streaming them. */
  presignedDownloads?: boolean;
}

/**
 * The storage options a configuration describes. The default artifact root, when it is a direct root
 * (`s3://…` or a directory rather than `mlflow-artifacts:/`), is allowed to be served too: runs of
 * experiments created under it keep their artifacts there.
 */
export function artifactStorageOptions(config: ArtifactServiceConfig): ArtifactStorageOptions {
  const allowedRoots = [...config.artifactAllowedRoots];
  let defaultRoot: ReturnType<typeof parseArtifactLocation> | undefined;
  try {
    defaultRoot = parseArtifactLocation(config.defaultArtifactRoot);
  } catch {
    defaultRoot = undefined;
  }
  if (defaultRoot?.kind === 'local' || defaultRoot?.kind === 's3')
    allowedRoots.push(config.defaultArtifactRoot);
  return {
    destination: config.artifactsDestination,
    allowedRoots,
    s3: {
      endpointUrl: config.s3.endpointUrl,
      accessKeyId: config.s3.accessKeyId,
      secretAccessKey: config.s3.secretAccessKey,
      sessionToken: config.s3.sessionToken,
      region: config.s3.region,
      pathStyle: config.s3.pathStyle,
      timeoutMs: config.s3.timeoutMs,
      partSize: config.s3.partSize,
    },
  };
}

/** Opens the storage a configuration describes (creates a local destination directory). */
export function openArtifactStorage(config: ArtifactServiceConfig): Promise<ArtifactStorage> {
  return ArtifactStorage.open(artifactStorageOptions(config));
}

/** The plugin's dependencies from a configuration and an opened storage. */
export function artifactDependencies(
  config: ArtifactServiceConfig,
  storage: ArtifactStorage,
  tracking: { runs?: RunArtifactRoots; loggedModels?: LoggedModelArtifactRoots } = {},
): ArtifactDependencies {
  return {
    storage,
    ...tracking,
    serveArtifacts: config.serveArtifacts,
    maxUploadBytes: config.artifactMaxUploadBytes,
    presignedDownloads: config.s3.presignedDownloads,
  };
}

/** What `/api/3.0/mlflow/server-info` should advertise for artifacts. */
export function artifactCapabilities(deps: ArtifactDependencies): { multipartUploads: boolean } {
  return { multipartUploads: deps.serveArtifacts && deps.storage.destination.multipart !== undefined };
}

/**
 * Registers MLflow's artifact routes on an app, in two encapsulated scopes: JSON routes (download,
 * list, delete, multipart, run listings) and the upload route, whose scope takes a body of any content
 * type and leaves it unread so the handler streams `request.raw` into the store.
 */
export async function registerArtifacts(app: FastifyInstance, deps: ArtifactDependencies): Promise<void> {
  const context: ArtifactContext = {
    storage: deps.storage,
    runs: deps.runs,
    loggedModels: deps.loggedModels,
    serveArtifacts: deps.serveArtifacts,
    maxUploadBytes: deps.maxUploadBytes,
    presignedDownloads: deps.presignedDownloads ?? false,
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireJsonContentType);
    proxyRoutes(scope, context);
    if (deps.runs !== undefined) runArtifactRoutes(scope, context, deps.runs);
    if (deps.loggedModels !== undefined) loggedModelArtifactRoutes(scope, context, deps.loggedModels);
  });
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    uploadRoutes(scope, context);
  });
}

export {
  ARTIFACT_SUBGRAPH,
  type ArtifactSubgraphDependencies,
  artifactTypeDefs,
} from './graphql/subgraph.js';

/**
 * The artifact subgraph (Federation 2: `Run.artifacts` on tracking's `Run`) for a gateway: executed
 * in-process by the all-in-one server, or served over HTTP by `registerArtifactSubgraph`.
 */
export function artifactSubgraph(deps: ArtifactDependencies): GraphQLSchema {
  return artifactSubgraphSchema({
    storage: deps.storage,
    serveArtifacts: deps.serveArtifacts,
    presignedDownloads: deps.presignedDownloads ?? false,
  });
}

/** Serves the artifact subgraph at `/graphql` (the standalone process; the gateway calls it). */
export function registerArtifactSubgraph(app: FastifyInstance, deps: ArtifactDependencies): void {
  registerSubgraphEndpoint(app, artifactSubgraph(deps));
}
