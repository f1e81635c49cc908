import { buildSubgraphSchema } from '@apollo/subgraph';
import { withErrorCodes } from '@mast/common';
import { type GraphQLSchema, parse } from 'graphql';
import type { DeployService } from '../service/deploy.js';
import { deploySdl } from './generated/schema.js';
import { createResolvers } from './resolvers.js';

/** The subgraph's name in the supergraph. */
export const DEPLOY_SUBGRAPH = 'deploy';

/** The deploy subgraph's SDL (Federation 2), as composed into the supergraph. */
export function deployTypeDefs() {
  return parse(deploySdl);
}

/** The deploy subgraph as an executable schema; MLflow errors become GraphQL errors with their codes. */
export function deploySubgraphSchema(service: DeployService): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: deployTypeDefs(),
    resolvers: withErrorCodes(createResolvers(service)) as Parameters<typeof buildSubgraphSchema>[0] extends {
      resolvers?: infer R;
    }
      ? R
      : never,
  });
}
