export { type AllInOne, type AllInOneConfig, type AllInOneOptions, buildAllInOne } from './all-in-one.js';
export {
  buildGateway,
  type Gateway,
  type GatewayConfig,
  SUBGRAPH_SERVICES,
  subgraphUrls,
} from './cluster.js';
export { analyzeOperation, CostModel, operationLimitsPlugin } from './graphql/limits.js';
export { GRAPHQL_PATH, type GraphQLServerOptions, registerGraphQL } from './graphql/server.js';
export {
  COMMITTED_SUPERGRAPH,
  composeSupergraph,
  InProcessDataSource,
  inProcessGateway,
  type LocalSubgraph,
  readSupergraph,
  remoteGateway,
} from './graphql/supergraph.js';
export { REST_ROUTES, registerRestProxy } from './rest-proxy.js';
export {
  ALL_IN_ONE_CONFIG,
  GATEWAY_CONFIG,
  loadAllInOneConfig,
  SERVICE_REST_ROUTES,
  SERVICES,
  type ServicesSettings,
} from './services.js';
