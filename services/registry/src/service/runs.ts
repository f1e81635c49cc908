import { MlflowError, type PeerLink, peerRest } from '@mast/common';

/** Looks up runs in the tracking service, which owns them (the registry never reads its tables). */
export interface Runs {
  /** The run's `artifact_uri`, or undefined when tracking does not know the run. */
  artifactUri(runId: string): Promise<string | undefined>;
}

/** Runs through tracking's REST API (`runs/get`): on the same app (all-in-one) or over HTTP (cluster). */
export function runsVia(link: PeerLink, timeoutMs?: number): Runs {
  const tracking = peerRest('tracking', link, timeoutMs);
  return {
    async artifactUri(runId) {
      const { status, text } = await tracking.request({
        path: '/api/2.0/mlflow/runs/get',
        query: { run_id: runId },
      });
      if (status === 404 || status === 400) return undefined;
      let uri: unknown;
      try {
        uri = JSON.parse(text)?.run?.info?.artifact_uri;
      } catch {
        // reported below
      }
      if (status === 200 && typeof uri === 'string') return uri;
      throw new MlflowError(
        'TEMPORARILY_UNAVAILABLE',
        `The tracking service could not look up run '${runId}' (HTTP ${status}).`,
      );
    },
  };
}
