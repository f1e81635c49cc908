export { artifactService } from './descriptor.js';
export {
  ARTIFACT_SUBGRAPH,
  type ArtifactDependencies,
  type ArtifactServiceConfig,
  type ArtifactSubgraphDependencies,
  artifactCapabilities,
  artifactDependencies,
  artifactStorageOptions,
  artifactSubgraph,
  artifactTypeDefs,
  openArtifactStorage,
  registerArtifactSubgraph,
  registerArtifacts,
} from './plugin.js';
export {
  type ArtifactRoots,
  type LoggedModelArtifactRoots,
  loggedModelArtifactRootsVia,
  type RunArtifactRoots,
  runArtifactRootsVia,
} from './run-roots.js';
export { ArtifactStorage, type ArtifactStorageOptions } from './storage/artifact-storage.js';
export type { ArtifactStore } from './storage/store.js';
