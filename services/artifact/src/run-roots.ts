import { MlflowError } from '@mast/common';
import type { FastifyInstance } from 'fastify';

/**
 * Where a run keeps its artifacts. The tracking service owns runs; the artifact service asks it
 * (through its REST API) instead of reading its tables.
 */
export interface RunArtifactRoots {
  /** The run's `artifact_uri`; RESOURCE_DOES_NOT_EXIST for an unknown run. */
  artifactUri(runId: string): Promise<string>;
}

const RUNS_GET = '/api/2.0/mlflow/runs/get';

/** Reads a `runs/get` answer: the artifact URI, or the tracking service's error passed on. */
export function artifactUriFromRunsGet(status: number, text: string, runId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const record = (body ?? {}) as {
    run?: { info?: { artifact_uri?: unknown } };
    error_code?: unknown;
    message?: unknown;
  };
  if (status === 200) {
    const uri = record.run?.info?.artifact_uri;
    if (typeof uri === 'string' && uri !== '') return uri;
    throw new MlflowError('INTERNAL_ERROR', `Run '${runId}' has no artifact URI.`);
  }
  const message = typeof record.message === 'string' ? record.message : `Run with id=${runId} not found`;
  if (status === 404) throw MlflowError.notFound(message);
  if (status === 400 && record.error_code === 'INVALID_PARAMETER_VALUE')
    throw MlflowError.invalidParameter(message);
  throw new MlflowError(
    'TEMPORARILY_UNAVAILABLE',
    `The tracking service could not look up run '${runId}' (HTTP ${status}).`,
  );
}

export interface HttpRunArtifactRootsOptions {
  /** Gives up (503) after this long. */
  timeoutMs?: number;
}

/** Asks a tracking service over HTTP (cluster mode: `MAST_TRACKING_URL`). */
export function httpRunArtifactRoots(
  trackingUrl: string,
  options: HttpRunArtifactRootsOptions = {},
): RunArtifactRoots {
  const base = trackingUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async artifactUri(runId) {
      let response: Response;
      try {
        response = await fetch(`${base}${RUNS_GET}?${new URLSearchParams({ run_id: runId })}`, {
          signal: AbortSignal.timeout(timeoutMs),
          headers: { accept: 'application/json' },
        });
      } catch (error) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `The tracking service at ${base} is unreachable: ${(error as Error).message}.`,
        );
      }
      return artifactUriFromRunsGet(response.status, await response.text(), runId);
    },
  };
}

/**
 * Asks the tracking routes registered on the same app, in process (the all-in-one server): the same
 * REST contract without a network hop.
 */
export function injectRunArtifactRoots(app: FastifyInstance): RunArtifactRoots {
  return {
    async artifactUri(runId) {
      const response = await app.inject({ method: 'GET', url: RUNS_GET, query: { run_id: runId } });
      return artifactUriFromRunsGet(response.statusCode, response.body, runId);
    },
  };
}
