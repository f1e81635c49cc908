export { toGraphQLError, withErrorCodes } from './errors.js';
export {
  ANONYMOUS_USER,
  type RequestContext,
  requestContext,
  requestUser,
  USER_HEADER,
} from './request-user.js';
export { DoubleScalar, LongScalar } from './scalars.js';
export { registerSubgraphEndpoint } from './subgraph-endpoint.js';
