import { MlflowError, type PeerLink, peerRest } from '@mast/common';

/**
 * Where a run or a logged model keeps its artifacts. The tracking service owns both; the artifact
 * service asks it (through its REST API) instead of reading its tables.
 */
export interface ArtifactRoots {
  /** The entity's `artifact_uri`; RESOURCE_DOES_NOT_EXIST for an unknown one. */
  artifactUri(id: string): Promise<string>;
}

/** Runs' artifact roots (tracking's `runs/get`). */
export type RunArtifactRoots = ArtifactRoots;
/** Logged models' artifact roots (tracking's `GET logged-models/{model_id}`). */
export type LoggedModelArtifactRoots = ArtifactRoots;

/** How to ask tracking for one kind of entity and where its answer holds the artifact URI. */
interface TrackingLookup {
  /** `Run`, `Logged model`: how messages name the entity. */
  noun: string;
  request(id: string): { path: string; query?: Record<string, string> };
  artifactUri(body: Record<string, unknown>): unknown;
  notFound(id: string): string;
}

const RUN_LOOKUP: TrackingLookup = {
  noun: 'Run',
  request: (runId) => ({ path: '/api/2.0/mlflow/runs/get', query: { run_id: runId } }),
  artifactUri: (body) => (body as { run?: { info?: { artifact_uri?: unknown } } }).run?.info?.artifact_uri,
  notFound: (runId) => `Run with id=${runId} not found`,
};

const LOGGED_MODEL_LOOKUP: TrackingLookup = {
  noun: 'Logged model',
  request: (modelId) => ({ path: `/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}` }),
  artifactUri: (body) =>
    (body as { model?: { info?: { artifact_uri?: unknown } } }).model?.info?.artifact_uri,
  notFound: (modelId) => `Logged model with ID '${modelId}' not found.`,
};

/** Reads tracking's answer: the artifact URI, or the tracking service's error passed on. */
function artifactUriFromTracking(lookup: TrackingLookup, status: number, text: string, id: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const record = (body ?? {}) as Record<string, unknown>;
  if (status === 200) {
    const uri = lookup.artifactUri(record);
    if (typeof uri === 'string' && uri !== '') return uri;
    throw new MlflowError('INTERNAL_ERROR', `${lookup.noun} '${id}' has no artifact URI.`);
  }
  const message = typeof record.message === 'string' ? record.message : lookup.notFound(id);
  if (status === 404) throw MlflowError.notFound(message);
  if (status === 400 && record.error_code === 'INVALID_PARAMETER_VALUE')
    throw MlflowError.invalidParameter(message);
  throw new MlflowError(
    'TEMPORARILY_UNAVAILABLE',
    `The tracking service could not look up ${lookup.noun.toLowerCase()} '${id}' (HTTP ${status}).`,
  );
}

/**
 * Asks the tracking service (in process on the all-in-one app, over HTTP in a cluster:
 * `MAST_TRACKING_URL`); an unreachable tracking service is a 503 naming it. `timeoutMs`: default 10 s.
 */
function artifactRootsVia(lookup: TrackingLookup, link: PeerLink, timeoutMs?: number): ArtifactRoots {
  const tracking = peerRest('tracking', link, timeoutMs);
  return {
    async artifactUri(id) {
      const { status, text } = await tracking.request(lookup.request(id));
      return artifactUriFromTracking(lookup, status, text, id);
    },
  };
}

/** Runs' artifact roots from the tracking service. */
export function runArtifactRootsVia(link: PeerLink, timeoutMs?: number): RunArtifactRoots {
  return artifactRootsVia(RUN_LOOKUP, link, timeoutMs);
}

/** Logged models' artifact roots from the tracking service. */
export function loggedModelArtifactRootsVia(link: PeerLink, timeoutMs?: number): LoggedModelArtifactRoots {
  return artifactRootsVia(LOGGED_MODEL_LOOKUP, link, timeoutMs);
}
