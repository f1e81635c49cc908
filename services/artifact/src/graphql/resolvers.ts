import { LongScalar, withErrorCodes } from '@mast/common';
import { safeArtifactPath } from '../domain/artifact-path.js';
import { getArtifactUrl, loggedModelArtifactUrl } from '../domain/artifact-uri.js';
import type { ArtifactStorage } from '../storage/artifact-storage.js';
import { artifactDownloadUrl, listArtifacts, resolveArtifactRoot } from '../storage/run-root.js';
import type { ArtifactFile, Resolvers } from './generated/types.js';

export interface ArtifactResolverServices {
  storage: ArtifactStorage;
  /** MLflow's `--serve-artifacts`: proxied (`mlflow-artifacts:/`) roots are readable only when true. */
  serveArtifacts: boolean;
  /** Give S3 files presigned download URLs instead of this server's download routes. */
  presignedDownloads: boolean;
}

/**
 * The files directly under `path` of an artifact root, for GraphQL; `owner` names the run or model in
 * errors, `directUrl` is its download route for files of direct roots.
 */
async function artifactFiles(
  services: ArtifactResolverServices,
  owner: string,
  uri: string,
  rawPath: string | null | undefined,
  directUrl: (path: string) => string,
): Promise<ArtifactFile[]> {
  const path = safeArtifactPath(rawPath ?? '', { allowRoot: true });
  const root = await resolveArtifactRoot(services.storage, services.serveArtifacts, owner, uri);
  const entries = await listArtifacts(root, path);
  return Promise.all(
    entries.map(
      async (entry): Promise<ArtifactFile> => ({
        path: entry.path,
        isDir: entry.isDir,
        fileSize: entry.isDir ? null : (entry.size ?? null),
        downloadUrl: entry.isDir
          ? null
          : await artifactDownloadUrl(root, entry.path, services.presignedDownloads, directUrl),
      }),
    ),
  );
}

/**
 * The artifact subgraph's resolvers: `Run.artifacts` and `LoggedModel.artifacts`, from the
 * `artifactUri` / `artifactLocation` the gateway fetched from the tracking subgraph (`@requires`), read
 * with the same storage and rules as the REST routes.
 */
export function createResolvers(services: ArtifactResolverServices): Resolvers {
  const resolvers: Resolvers = {
    Long: LongScalar,
    Run: {
      artifacts: (run, args) =>
        artifactFiles(services, `Run '${run.id}'`, run.artifactUri, args.path, (file) =>
          getArtifactUrl(run.id, file),
        ),
    },
    LoggedModel: {
      artifacts: (model, args) =>
        artifactFiles(services, `Logged model '${model.id}'`, model.artifactLocation, args.path, (file) =>
          loggedModelArtifactUrl(model.id, file),
        ),
    },
  };
  return withErrorCodes(resolvers);
}
