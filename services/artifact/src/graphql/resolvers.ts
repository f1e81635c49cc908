import { LongScalar, withErrorCodes } from '@mast/common';
import { safeArtifactPath } from '../domain/artifact-path.js';
import type { ArtifactStorage } from '../storage/artifact-storage.js';
import { listRunArtifacts, resolveRunRoot, runArtifactDownloadUrl } from '../storage/run-root.js';
import type { ArtifactFile, Resolvers } from './generated/types.js';

export interface ArtifactResolverServices {
  storage: ArtifactStorage;
  /** MLflow's `--serve-artifacts`: proxied (`mlflow-artifacts:/`) roots are readable only when true. */
  serveArtifacts: boolean;
  /** Give S3 files presigned download URLs instead of this server's download routes. */
  presignedDownloads: boolean;
}

/**
 * The artifact subgraph's resolvers: `Run.artifacts`, from the `artifactUri` the gateway fetched from
 * the tracking subgraph (`@requires`), read with the same storage and rules as the REST routes.
 */
export function createResolvers(services: ArtifactResolverServices): Resolvers {
  const resolvers: Resolvers = {
    Long: LongScalar,
    Run: {
      async artifacts(run, args) {
        const path = safeArtifactPath(args.path ?? '', { allowRoot: true });
        const root = await resolveRunRoot(services.storage, services.serveArtifacts, run.id, run.artifactUri);
        const entries = await listRunArtifacts(root, path);
        return Promise.all(
          entries.map(
            async (entry): Promise<ArtifactFile> => ({
              path: entry.path,
              isDir: entry.isDir,
              fileSize: entry.isDir ? null : (entry.size ?? null),
              downloadUrl: entry.isDir
                ? null
                : await runArtifactDownloadUrl(root, run.id, entry.path, services.presignedDownloads),
            }),
          ),
        );
      },
    },
  };
  return withErrorCodes(resolvers);
}
