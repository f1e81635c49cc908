export { toGraphQLError, withErrorCodes } from './errors.js';
export { DoubleScalar, LongScalar } from './scalars.js';
export { registerSubgraphEndpoint } from './subgraph-endpoint.js';
