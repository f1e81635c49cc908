import type { ExperimentStore } from '../store/experiment-store.js';
import type { LoggedModelStore } from '../store/logged-model-store.js';
import type { RunStore } from '../store/run-store.js';

/** What the tracking routes need, built once by the composition root. */
export interface TrackingContext {
  experiments: ExperimentStore;
  runs: RunStore;
  loggedModels: LoggedModelStore;
  /** Milliseconds since the epoch; injected so tests can pin time. */
  clock: () => number;
}
