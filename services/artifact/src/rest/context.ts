import { MlflowError } from '@mast/common';
import type { FastifyRequest } from 'fastify';
import type { LoggedModelArtifactRoots, RunArtifactRoots } from '../run-roots.js';
import type { ArtifactStorage } from '../storage/artifact-storage.js';

/** What the artifact routes share. */
export interface ArtifactContext {
  storage: ArtifactStorage;
  runs?: RunArtifactRoots;
  loggedModels?: LoggedModelArtifactRoots;
  serveArtifacts: boolean;
  maxUploadBytes: number;
  presignedDownloads: boolean;
}

/** Every prefix MLflow registers its RPCs under (`/api/2.0`, `/ajax-api/2.0`, `/api/2.0/preview`). */
export { API_PREFIXES } from '@mast/common';

/** The greedy `<path:artifact_path>` part of a route (Fastify's `*`, already URL-decoded once). */
export function wildcard(request: FastifyRequest): string {
  return (request.params as { '*'?: string })['*'] ?? '';
}

/** MLflow answers proxy routes with 503 when it runs with `--no-serve-artifacts`. */
export function requireServing(context: ArtifactContext, request: FastifyRequest): void {
  if (context.serveArtifacts) return;
  throw new MlflowError(
    'TEMPORARILY_UNAVAILABLE',
    `Endpoint ${request.routeOptions.url} is disabled: the server runs with --no-serve-artifacts. ` +
      'To enable the artifact proxy, run `mast server` with --serve-artifacts.',
  );
}
