/**
 * A `Run` as the artifact subgraph receives it from the gateway: its key and the tracking subgraph's
 * `artifactUri` (`@requires`).
 */
export interface RunModel {
  id: string;
  artifactUri: string;
}

/**
 * A `LoggedModel` as the artifact subgraph receives it from the gateway: its key and the tracking
 * subgraph's `artifactLocation` (`@requires`).
 */
export interface LoggedModelModel {
  id: string;
  artifactLocation: string;
}
