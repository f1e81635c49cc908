import { ExperimentKeyStore } from '../store/experiment-key-store.js';
import { GraphStore } from '../store/graph-store.js';
import type { TrackingExecutor } from '../store/schema.js';
import { AssessmentService } from './assessments.js';
import { ExperimentService } from './experiments.js';
import { LoggedModelService } from './logged-models.js';
import { RunService } from './runs.js';
import { ScorerService } from './scorers.js';
import { TraceService } from './traces.js';
import { ViewService } from './views.js';

export { AssessmentService } from './assessments.js';
export { DEFAULT_EXPERIMENT_ID, ExperimentService, type TagInput } from './experiments.js';
export { LoggedModelService } from './logged-models.js';
export { type LogBatchInput, type MetricInput, RunService } from './runs.js';
export { ScorerService } from './scorers.js';
export { type TraceInput, TraceService } from './traces.js';
export { type SaveViewInput, ViewService } from './views.js';

/** Everything the tracking adapters (REST routes, GraphQL resolvers) call, built once per process. */
export interface TrackingServices {
  experiments: ExperimentService;
  runs: RunService;
  loggedModels: LoggedModelService;
  /** MLflow traces, V3 and legacy V2. */
  traces: TraceService;
  /** Assessments (feedback, expectations) of traces. */
  assessments: AssessmentService;
  /** MLflow 3's registered scorers of experiments, versioned by name. */
  scorers: ScorerService;
  /** The web UI's saved views. */
  views: ViewService;
  /** Batched reads for GraphQL's DataLoaders and metric downsampling. */
  graph: GraphStore;
  /** Distinct metric, param and tag keys per experiment (GraphQL's `experimentKeys`, CSV exports' columns). */
  experimentKeys: ExperimentKeyStore;
  /** Milliseconds since the epoch. */
  clock: () => number;
}

/** Builds the tracking services on one database (the composition root's pool). */
export function createTrackingServices(deps: {
  db: TrackingExecutor;
  defaultArtifactRoot: string;
  clock?: () => number;
}): TrackingServices {
  const clock = deps.clock ?? Date.now;
  return {
    experiments: new ExperimentService(deps.db, deps.defaultArtifactRoot, clock),
    runs: new RunService(deps.db, clock),
    loggedModels: new LoggedModelService(deps.db, clock),
    traces: new TraceService(deps.db),
    assessments: new AssessmentService(deps.db, clock),
    scorers: new ScorerService(deps.db, clock),
    views: new ViewService(deps.db, clock),
    graph: new GraphStore(deps.db),
    experimentKeys: new ExperimentKeyStore(deps.db),
    clock,
  };
}
