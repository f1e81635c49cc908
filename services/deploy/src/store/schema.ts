import type { Kysely, Transaction } from 'kysely';

/** Table types of the `deploy` schema: the one source for row shapes (see migrations/). */
export interface TargetsTable {
  name: string;
  kind: string;
  namespace: string | null;
  image_repository: string | null;
  kserve: boolean;
  pull_secret: string | null;
  description: string | null;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface RolloutPoliciesTable {
  name: string;
  model_name: string;
  trigger_kind: string;
  trigger_value: string;
  target_name: string;
  replicas: number;
  resources: string;
  autoscaling: string | null;
  strategy: string;
  canary: string | null;
  paused: boolean;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface DeploymentsTable {
  deployment_id: string;
  policy_name: string | null;
  target_name: string;
  model_name: string;
  model_version: string;
  cause: string;
  source_event_id: string | null;
  state: string;
  image: string | null;
  endpoint: string | null;
  spec: string | null;
  previous_deployment_id: string | null;
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export interface DeploymentTransitionsTable {
  deployment_id: string;
  seq: number;
  from_state: string | null;
  to_state: string;
  timestamp: number;
  reason: string;
}

export interface DeployDatabase {
  'deploy.targets': TargetsTable;
  'deploy.rollout_policies': RolloutPoliciesTable;
  'deploy.deployments': DeploymentsTable;
  'deploy.deployment_transitions': DeploymentTransitionsTable;
}

/** The pool or a transaction on it. */
export type DeployExecutor = Kysely<DeployDatabase> | Transaction<DeployDatabase>;
