/**
 * The query parameter (`?trace_data=true`) that tracking's `get-trace-artifact` redirect adds to the
 * artifact proxy's download of a trace's `traces.json`, and by which the artifact service answers a
 * missing or empty file as MLflow's `get_trace_artifact_handler` does (404 "Trace data not found").
 */
export const TRACE_DATA_QUERY = 'trace_data';
