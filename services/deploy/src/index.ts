export {
  DEFAULT_MODEL_SERVER_IMAGE,
  DEFAULT_PYTHON_IMAGE,
  type DeployConfig,
  deployConfig,
} from './config.js';
export { deployService } from './descriptor.js';
export * from './domain/canary.js';
export * from './domain/deployment-state.js';
export * from './domain/inference-service-status.js';
export * from './domain/pod-failure.js';
export * from './domain/policies.js';
export * from './domain/rollout-status.js';
export { DEPLOY_SUBGRAPH, deploySubgraphSchema, deployTypeDefs } from './graphql/subgraph.js';
export * from './kube/canary.js';
export * from './kube/client.js';
export * from './kube/manifests.js';
export * from './kube/rbac.js';
export * from './kube/rollout.js';
export * from './kube/rollout-watch.js';
export * from './kube/watch.js';
export * from './oci/index.js';
export { registerDeployRoutes } from './rest/routes.js';
export {
  DEPLOYMENT_JOBS_QUEUE,
  type DeploymentJob,
  type DeploymentView,
  DeployService,
  type DeployServiceDependencies,
  type ModelVersionLookup,
} from './service/deploy.js';
export * from './service/pipeline.js';
export { modelVersionsVia } from './service/registry-versions.js';
export type { DeploymentRecord } from './store/deploy-store.js';
export { DEPLOY_SCHEMA, deployMigrations } from './store/migrations/index.js';
export { stepsByTargetKind } from './targets/index.js';
export { LocalServers, type LocalServersOptions } from './targets/local.js';
