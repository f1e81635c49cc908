import { missingParameter, RequestReader } from '@mast/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { joinArtifactPath, safeArtifactPath } from '../domain/artifact-path.js';
import type { ArtifactRoots } from '../run-roots.js';
import { type ArtifactRoot, listArtifacts, resolveArtifactRoot } from '../storage/run-root.js';
import { API_PREFIXES, type ArtifactContext } from './context.js';
import { sendFile } from './send-file.js';

/** The artifact root of a run or logged model, from the tracking service's `artifact_uri`. */
async function artifactRoot(
  context: ArtifactContext,
  roots: ArtifactRoots,
  noun: string,
  id: string,
): Promise<ArtifactRoot> {
  return resolveArtifactRoot(
    context.storage,
    context.serveArtifacts,
    `${noun} '${id}'`,
    await roots.artifactUri(id),
  );
}

/**
 * MLflow's listing of a directory of a run's or logged model's artifacts (`path` safe, relative to its
 * root): `{root_uri, files}`, without `files` when there are none.
 */
async function listing(root: ArtifactRoot, path: string): Promise<object> {
  const files = (await listArtifacts(root, path)).map((entry) =>
    entry.isDir
      ? { path: entry.path, is_dir: true }
      : { path: entry.path, is_dir: false, file_size: entry.size },
  );
  return files.length > 0 ? { root_uri: root.uri, files } : { root_uri: root.uri };
}

/** Streams one file of a root (`path` safe, relative to it) as MLflow's UI downloads do. */
function download(
  context: ArtifactContext,
  request: FastifyRequest,
  reply: FastifyReply,
  root: ArtifactRoot,
  path: string,
): Promise<FastifyReply> {
  return sendFile(request, reply, root.store, joinArtifactPath(root.path, path), {
    presignedDownloads: context.presignedDownloads,
  });
}

function runIdOf(reader: RequestReader): string {
  const runId = reader.string('run_id') ?? reader.string('run_uuid');
  if (runId === undefined) throw missingParameter('run_id');
  return runId;
}

function modelIdOf(request: FastifyRequest): string {
  return (request.params as { model_id: string }).model_id;
}

/**
 * The tracking-side artifact routes, which need the run's root: `GET /mlflow/artifacts/list` (paths
 * relative to the run root, spec §1.2) and the UI's `GET /get-artifact` download.
 */
export function runArtifactRoutes(app: FastifyInstance, context: ArtifactContext, runs: ArtifactRoots): void {
  for (const prefix of API_PREFIXES) {
    app.get(`${prefix}/mlflow/artifacts/list`, async (request) => {
      const reader = RequestReader.of(request.query);
      const runId = runIdOf(reader);
      const path = safeArtifactPath(reader.string('path') ?? '', { allowRoot: true });
      return listing(await artifactRoot(context, runs, 'Run', runId), path);
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
      return download(context, request, reply, await artifactRoot(context, runs, 'Run', runId), path);
    },
  });
}

/**
 * MLflow 3's logged-model artifact routes, which need the model's root: ListLoggedModelArtifacts
 * (`GET /mlflow/logged-models/{model_id}/artifacts/directories`; MLflow accepts `page_token` and
 * answers every file in one page) and the UI's download, under `/ajax-api/2.0` only as in MLflow.
 */
export function loggedModelArtifactRoutes(
  app: FastifyInstance,
  context: ArtifactContext,
  models: ArtifactRoots,
): void {
  for (const prefix of API_PREFIXES) {
    app.get(`${prefix}/mlflow/logged-models/:model_id/artifacts/directories`, async (request) => {
      const raw = RequestReader.of(request.query).string('artifact_directory_path');
      const path = safeArtifactPath(raw ?? '', { allowRoot: true });
      return listing(await artifactRoot(context, models, 'Logged model', modelIdOf(request)), path);
    });
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: '/ajax-api/2.0/mlflow/logged-models/:model_id/artifacts/files',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const raw = RequestReader.of(request.query).string('artifact_file_path', { required: true });
      const path = safeArtifactPath(raw);
      const root = await artifactRoot(context, models, 'Logged model', modelIdOf(request));
      return download(context, request, reply, root, path);
    },
  });
}
