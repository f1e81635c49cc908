import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { ExtraSubgraph } from './harness.js';

export interface FakeModelVersion {
  name: string;
  version: number;
  runId: string;
}

/**
 * A stand-in for the registry service's subgraph: model versions that reference tracking's `Run` entity,
 * and a `Run.modelVersions` field contributed to tracking's entity. Counts `_entities` resolutions.
 */
export function fakeRegistrySubgraph(
  versions: FakeModelVersion[],
): ExtraSubgraph & { referencesResolved: () => number } {
  let resolved = 0;
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    "A registered model version (test subgraph)."
    type ModelVersion {
      "Model name."
      name: String!
      "Version number."
      version: Int!
      "The run that produced it."
      run: Run
    }
    type Run @key(fields: "id") {
      id: ID!
      "Model versions whose source run is this run."
      modelVersions: [ModelVersion!]!
    }
    type Query {
      "Every model version."
      modelVersions: [ModelVersion!]!
    }
  `);
  const schema = buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: { modelVersions: () => versions },
      ModelVersion: { run: (version: FakeModelVersion) => ({ __typename: 'Run', id: version.runId }) },
      Run: {
        __resolveReference: (reference: { id: string }) => {
          resolved += 1;
          return reference;
        },
        modelVersions: (run: { id: string }) => versions.filter((v) => v.runId === run.id),
      },
    } as any,
  });
  return { name: 'registry', typeDefs, schema, referencesResolved: () => resolved };
}
