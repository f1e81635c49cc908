/**
 * The span download of MLflow's web UI (`get_trace_artifact_handler`): tracking redirects it to the
 * proxy download of the trace's `traces.json` with `?trace_data=true`, and the artifact service then
 * answers a missing file as MLflow's handler does instead of as a plain missing artifact.
 */
import { MlflowError, TRACE_DATA_QUERY } from '@mast/common';

/** Whether a proxy download's query asks for trace span data (`trace_data=true`). */
export function isTraceDataRequest(query: unknown): boolean {
  return (query as Record<string, unknown> | null)?.[TRACE_DATA_QUERY] === 'true';
}

/**
 * Whether the span data file at hand counts as absent: no file, or an empty one (MLflow's
 * `try_read_trace_data` in `mlflow/store/artifact/artifact_repo.py` raises `MlflowTraceDataNotFound`
 * for both).
 */
export function isTraceDataMissing(size: number | undefined): boolean {
  return size === undefined || size === 0;
}

/**
 * MLflow's `MlflowTraceDataNotFound(artifact_path=...)` (`mlflow/exceptions.py`): 404 NOT_FOUND
 * "Trace data not found for path=<path>". MLflow names the file's absolute path on the server's disk;
 * Mast names its path in the artifact store, not where the store lives.
 */
export function traceDataNotFound(path: string): MlflowError {
  return new MlflowError('NOT_FOUND', `Trace data not found for path=${path}`);
}
