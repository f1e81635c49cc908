import { MlflowError } from '@mast/common';
import { joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import { proxyArtifactUrl } from '../domain/artifact-uri.js';
import type { ArtifactStorage, StoreLocation } from './artifact-storage.js';

/** How long a presigned download URL stays valid. */
export const PRESIGNED_DOWNLOAD_SECONDS = 900;

/** Where a run or a logged model keeps its artifacts, resolved to a store this server can read. */
export interface ArtifactRoot extends StoreLocation {
  /** The run's or logged model's `artifact_uri`, as the tracking service has it. */
  uri: string;
  /**
   * `proxied`: under the artifact proxy's destination (`mlflow-artifacts:/…`), downloadable from the
   * proxy route; `direct`: an allowed `s3://…` or local root, downloadable from `/get-artifact` (runs)
   * or `logged-models/{model_id}/artifacts/files`.
   */
  kind: 'proxied' | 'direct';
}

/**
 * Where artifacts live: behind the proxy (`mlflow-artifacts:/…`, served from the destination while the
 * proxy is on) or a direct root the server is allowed to read. `owner` names the run or logged model in
 * messages (`Run 'abc'`).
 */
export async function resolveArtifactRoot(
  storage: ArtifactStorage,
  serveArtifacts: boolean,
  owner: string,
  uri: string,
): Promise<ArtifactRoot> {
  const location = storage.parse(uri);
  switch (location.kind) {
    case 'proxied':
      if (!serveArtifacts) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `${owner} keeps its artifacts behind the artifact proxy (${uri}), which is disabled (--no-serve-artifacts).`,
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
        `${owner} keeps its artifacts at ${uri}; Mast reads only S3 and local artifact roots ('${location.scheme}' is not supported).`,
      );
  }
}

/** One entry of an artifact listing, its path relative to the artifact root. */
export interface ArtifactEntry {
  path: string;
  isDir: boolean;
  /** Bytes; absent for directories. */
  size?: number;
}

/** The files and directories directly under `path` (safe, relative to the root), sorted by name. */
export async function listArtifacts(root: ArtifactRoot, path: string): Promise<ArtifactEntry[]> {
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
 * Where a client downloads an artifact file (`path` relative to the root): a presigned URL when
 * enabled for an S3 store, else this server's proxy route (proxied roots) or `directUrl`, the owner's
 * download route (direct roots). Server-relative URLs start with `/`.
 */
export async function artifactDownloadUrl(
  root: ArtifactRoot,
  path: string,
  presignedDownloads: boolean,
  directUrl: (path: string) => string,
): Promise<string> {
  const full = joinArtifactPath(root.path, path);
  const presigned = await presignedDownload({ store: root.store, path: full }, presignedDownloads);
  if (presigned !== undefined) return presigned;
  return root.kind === 'proxied' ? proxyArtifactUrl(full) : directUrl(path);
}
