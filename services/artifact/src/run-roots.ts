import { MlflowError, type PeerLink, peerRest } from '@mast/common';

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

/**
 * Asks the tracking service's `runs/get` (in process on the all-in-one app, over HTTP in a cluster:
 * `MAST_TRACKING_URL`); an unreachable tracking service is a 503 naming it. `timeoutMs`: default 10 s.
 */
export function runArtifactRootsVia(link: PeerLink, timeoutMs?: number): RunArtifactRoots {
  const tracking = peerRest('tracking', link, timeoutMs);
  return {
    async artifactUri(runId) {
      const { status, text } = await tracking.request({ path: RUNS_GET, query: { run_id: runId } });
      return artifactUriFromRunsGet(status, text, runId);
    },
  };
}
