import type { DeploymentTransition } from '../domain/deployment-state.js';
import type { DeploymentTarget, RolloutPolicy } from '../domain/policies.js';
import type { DeploymentView } from '../service/deploy.js';

/** What the deploy subgraph's resolvers return for each object type (codegen's mappers). */
export type DeploymentTargetModel = DeploymentTarget;
export type RolloutPolicyModel = RolloutPolicy;
export type DeploymentModel = DeploymentView;
export type DeploymentTransitionModel = DeploymentTransition;

/** A model version as deploy knows it: the registry's key, resolved by the registry subgraph. */
export interface ModelVersionReference {
  name: string;
  version: string;
}
