import { buildSubgraphSchema } from '@apollo/subgraph';
import { type GraphQLSchema, parse } from 'graphql';
import type { ArtifactStorage } from '../storage/artifact-storage.js';
import { artifactSdl } from './generated/schema.js';
import { createResolvers } from './resolvers.js';

/** The subgraph's name in the supergraph. */
export const ARTIFACT_SUBGRAPH = 'artifact';

export interface ArtifactSubgraphDependencies {
  storage: ArtifactStorage;
  /** MLflow's `--serve-artifacts`: proxied roots are readable only when true. */
  serveArtifacts: boolean;
  /** Give S3 files presigned download URLs (as the REST downloads redirect to them). */
  presignedDownloads?: boolean;
}

/** The artifact subgraph's SDL (Federation 2), as composed into the supergraph. */
export function artifactTypeDefs() {
  return parse(artifactSdl);
}

/**
 * The artifact subgraph as an executable schema: `Run.artifacts` added to the tracking subgraph's `Run`
 * entity. It keeps no per-request state, so any context object will do.
 */
export function artifactSubgraphSchema(deps: ArtifactSubgraphDependencies): GraphQLSchema {
  const resolvers = createResolvers({
    storage: deps.storage,
    serveArtifacts: deps.serveArtifacts,
    presignedDownloads: deps.presignedDownloads ?? false,
  });
  return buildSubgraphSchema({
    typeDefs: artifactTypeDefs(),
    // The generated resolver types are stricter than @apollo/subgraph's map type; they are the same shape.
    resolvers: resolvers as Parameters<typeof buildSubgraphSchema>[0] extends { resolvers?: infer R }
      ? R
      : never,
  });
}
