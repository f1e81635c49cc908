import { missingParameter, RequestReader } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import type { RunArtifactRoots } from '../run-roots.js';
import { listRunArtifacts, type RunRoot, resolveRunRoot } from '../storage/run-root.js';
import { API_PREFIXES, type ArtifactContext } from './context.js';
import { sendFile } from './send-file.js';

/** The run's artifact root, from the tracking service's `artifact_uri`. */
async function runRoot(context: ArtifactContext, runs: RunArtifactRoots, runId: string): Promise<RunRoot> {
  return resolveRunRoot(context.storage, context.serveArtifacts, runId, await runs.artifactUri(runId));
}

function runIdOf(reader: RequestReader): string {
  const runId = reader.string('run_id') ?? reader.string('run_uuid');
  if (runId === undefined) throw missingParameter('run_id');
  return runId;
}

/**
 * The tracking-side artifact routes, which need the run's root: `GET /mlflow/artifacts/list` (paths
 * relative to the run root, spec §1.2) and the UI's `GET /get-artifact` download.
 */
export function runArtifactRoutes(
  app: FastifyInstance,
  context: ArtifactContext,
  runs: RunArtifactRoots,
): void {
  for (const prefix of API_PREFIXES) {
    app.get(`${prefix}/mlflow/artifacts/list`, async (request) => {
      const reader = RequestReader.of(request.query);
      const runId = runIdOf(reader);
      const path = safeArtifactPath(reader.string('path') ?? '', { allowRoot: true });
      const root = await runRoot(context, runs, runId);
      const files = (await listRunArtifacts(root, path)).map((entry) =>
        entry.isDir
          ? { path: entry.path, is_dir: true }
          : { path: entry.path, is_dir: false, file_size: entry.size },
      );
      return files.length > 0 ? { root_uri: root.uri, files } : { root_uri: root.uri };
    });
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: '/get-artifact',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const reader = RequestReader.of(request.query);
      const runId = runIdOf(reader);
      const path = safeArtifactPath(reader.string('path', { required: true }));
      const root = await runRoot(context, runs, runId);
      return sendFile(request, reply, root.store, joinArtifactPath(root.path, path), {
        presignedDownloads: context.presignedDownloads,
      });
    },
  });
}
