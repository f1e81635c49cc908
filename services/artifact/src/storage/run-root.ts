import { MlflowError } from '@mast/common';
import { joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import { getArtifactUrl, proxyArtifactUrl } from '../domain/artifact-uri.js';
import type { ArtifactStorage, StoreLocation } from './artifact-storage.js';

/** How long a presigned download URL stays valid. */
export const PRESIGNED_DOWNLOAD_SECONDS = 900;

/** Where a run keeps its artifacts, resolved to a store this server can read. */
export interface RunRoot extends StoreLocation {
  /** The run's `artifact_uri`, as the tracking service has it. */
  uri: string;
  /**
   * `proxied`: under the artifact proxy's destination (`mlflow-artifacts:/…`), downloadable from the
   * proxy route; `direct`: an allowed `s3://…` or local root, downloadable from `/get-artifact`.
   */
  kind: 'proxied' | 'direct';
}

/**
 * Where a run's artifacts live: behind the proxy (`mlflow-artifacts:/…`, served from the destination
 * while the proxy is on) or a direct root the server is allowed to read.
 */
export async function resolveRunRoot(
  storage: ArtifactStorage,
  serveArtifacts: boolean,
  runId: string,
  uri: string,
): Promise<RunRoot> {
  const location = storage.parse(uri);
  switch (location.kind) {
    case 'proxied':
      if (!serveArtifacts) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `Run '${runId}' keeps its artifacts behind the artifact proxy (${uri}), which is disabled (--no-serve-artifacts).`,
        );
      }
      return {
        uri,
        kind: 'proxied',
        store: storage.destination,
        path: safeArtifactPath(location.path, { allowRoot: true }),
      };
    case 'local':
    case 's3':
      return { uri, kind: 'direct', ...(await storage.resolveDirect(location, uri)) };
    default:
      throw new MlflowError(
        'NOT_IMPLEMENTED',
        `Run '${runId}' keeps its artifacts at ${uri}; Mast reads only S3 and local artifact roots ('${location.scheme}' is not supported).`,
      );
  }
}

/** One entry of a run's artifact listing, its path relative to the run's artifact root. */
export interface RunArtifactEntry {
  path: string;
  isDir: boolean;
  /** Bytes; absent for directories. */
  size?: number;
}

/** The files and directories directly under `path` (safe, relative to the run root), sorted by name. */
export async function listRunArtifacts(root: RunRoot, path: string): Promise<RunArtifactEntry[]> {
  const entries = await root.store.list(joinArtifactPath(root.path, path));
  return entries.map((entry) => ({
    path: joinArtifactPath(path, entry.name),
    isDir: entry.isDir,
    ...(entry.isDir ? {} : { size: entry.size }),
  }));
}

/**
 * A presigned GET URL for a file, when presigned downloads are enabled and the store has them (S3);
 * otherwise undefined (the file is streamed by this server).
 */
export async function presignedDownload(
  location: StoreLocation,
  presignedDownloads: boolean,
): Promise<string | undefined> {
  if (!presignedDownloads || !location.store.presignedDownloadUrl) return undefined;
  return location.store.presignedDownloadUrl(location.path, PRESIGNED_DOWNLOAD_SECONDS);
}

/**
 * Where a client downloads a run's artifact file (`path` relative to the run root): a presigned URL
 * when enabled for an S3 store, else this server's proxy route (proxied roots) or `/get-artifact`
 * (direct roots). Server-relative URLs start with `/`.
 */
export async function runArtifactDownloadUrl(
  root: RunRoot,
  runId: string,
  path: string,
  presignedDownloads: boolean,
): Promise<string> {
  const full = joinArtifactPath(root.path, path);
  const presigned = await presignedDownload({ store: root.store, path: full }, presignedDownloads);
  if (presigned !== undefined) return presigned;
  return root.kind === 'proxied' ? proxyArtifactUrl(full) : getArtifactUrl(runId, path);
}
