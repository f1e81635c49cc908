import { MlflowError, missingParameter, RequestReader } from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import type { RunArtifactRoots } from '../run-roots.js';
import type { StoreLocation } from '../storage/artifact-storage.js';
import { API_PREFIXES, type ArtifactContext } from './context.js';
import { sendFile } from './send-file.js';

interface RunRoot extends StoreLocation {
  /** The run's `artifact_uri`, as the tracking service has it. */
  uri: string;
}

/**
 * Where a run's artifacts live: behind the proxy (`mlflow-artifacts:/…`, served from the destination
 * while the proxy is on) or a direct root the server is allowed to read.
 */
async function runRoot(context: ArtifactContext, runs: RunArtifactRoots, runId: string): Promise<RunRoot> {
  const uri = await runs.artifactUri(runId);
  const location = context.storage.parse(uri);
  switch (location.kind) {
    case 'proxied':
      if (!context.serveArtifacts) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `Run '${runId}' keeps its artifacts behind the artifact proxy (${uri}), which is disabled (--no-serve-artifacts).`,
        );
      }
      return {
        uri,
        store: context.storage.destination,
        path: safeArtifactPath(location.path, { allowRoot: true }),
      };
    case 'local':
    case 's3':
      return { uri, ...(await context.storage.resolveDirect(location, uri)) };
    default:
      throw new MlflowError(
        'NOT_IMPLEMENTED',
        `Run '${runId}' keeps its artifacts at ${uri}; Mast reads only S3 and local artifact roots ('${location.scheme}' is not supported).`,
      );
  }
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
      const entries = await root.store.list(joinArtifactPath(root.path, path));
      const files = entries.map((entry) => {
        const relative = joinArtifactPath(path, entry.name);
        return entry.isDir
          ? { path: relative, is_dir: true }
          : { path: relative, is_dir: false, file_size: entry.size };
      });
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
