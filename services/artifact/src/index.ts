export {
  type ArtifactDependencies,
  artifactCapabilities,
  artifactDependencies,
  artifactStorageOptions,
  openArtifactStorage,
  registerArtifacts,
} from './plugin.js';
export {
  artifactUriFromRunsGet,
  httpRunArtifactRoots,
  injectRunArtifactRoots,
  type RunArtifactRoots,
} from './run-roots.js';
export { ArtifactStorage, type ArtifactStorageOptions } from './storage/artifact-storage.js';
export type { ArtifactStore } from './storage/store.js';
