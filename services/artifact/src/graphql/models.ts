/**
 * A `Run` as the artifact subgraph receives it from the gateway: its key and the tracking subgraph's
 * `artifactUri` (`@requires`).
 */
export interface RunModel {
  id: string;
  artifactUri: string;
}
