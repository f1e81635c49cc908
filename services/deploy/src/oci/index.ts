/** The daemonless model-image builder (issue 12): what the `build` worker uses. */
export {
  type AuthChallenge,
  credentialsFromDockerConfig,
  type DockerConfigJson,
  parseChallenge,
  type RegistryCredentials,
} from './auth.js';
export {
  type BuildModelImageOptions,
  type BuiltImage,
  buildModelImage,
  type ModelLabels,
  modelLabels,
} from './build.js';
export { BuildCache } from './cache.js';
export { type BlobOutcome, type BlobSource, RegistryClient, type RegistryClientOptions } from './client.js';
export { OciError } from './errors.js';
export { GZIP_LEVEL } from './layer.js';
export { classifyManifest, MANIFEST_ACCEPT, MEDIA_TYPES, type MediaTypeFamily } from './media-types.js';
export { type Platform, parsePlatform } from './platform.js';
export { type ImageReference, parseReference } from './reference.js';
export { MODEL_DIR, SERVING_PORT, type ServingDefaults, servingDefaults } from './serving.js';
