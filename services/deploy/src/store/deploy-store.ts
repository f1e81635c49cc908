import type { Selectable } from 'kysely';
import type { DeploymentState, DeploymentTransition } from '../domain/deployment-state.js';
import type { DeploymentTarget, RolloutPolicy, TargetKind, TriggerKind } from '../domain/policies.js';
import type { DeployExecutor, DeploymentsTable, RolloutPoliciesTable, TargetsTable } from './schema.js';

/** A deployment row as the service layer sees it. */
export interface DeploymentRecord {
  deploymentId: string;
  policyName?: string;
  targetName: string;
  modelName: string;
  modelVersion: string;
  cause: string;
  sourceEventId?: string;
  state: DeploymentState;
  image?: string;
  /** Where it serves once LIVE. */
  endpoint?: string;
  /** The rollout request applied (JSON, target-specific): the last-good spec of the next rollout. */
  spec?: string;
  previousDeploymentId?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

function targetOf(row: Selectable<TargetsTable>): DeploymentTarget {
  return {
    name: row.name,
    kind: row.kind as TargetKind,
    namespace: row.namespace ?? undefined,
    imageRepository: row.image_repository ?? undefined,
    kserve: row.kserve,
    pullSecret: row.pull_secret ?? undefined,
    description: row.description ?? undefined,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

function policyOf(row: Selectable<RolloutPoliciesTable>): RolloutPolicy {
  return {
    name: row.name,
    modelName: row.model_name,
    trigger: { kind: row.trigger_kind as TriggerKind, value: row.trigger_value },
    targetName: row.target_name,
    replicas: row.replicas,
    resources: JSON.parse(row.resources),
    autoscaling: row.autoscaling === null ? undefined : JSON.parse(row.autoscaling),
    strategy: row.strategy as RolloutPolicy['strategy'],
    canary: row.canary === null ? undefined : JSON.parse(row.canary),
    paused: row.paused,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

function deploymentOf(row: Selectable<DeploymentsTable>): DeploymentRecord {
  return {
    deploymentId: row.deployment_id,
    policyName: row.policy_name ?? undefined,
    targetName: row.target_name,
    modelName: row.model_name,
    modelVersion: row.model_version,
    cause: row.cause,
    sourceEventId: row.source_event_id ?? undefined,
    state: row.state as DeploymentState,
    image: row.image ?? undefined,
    endpoint: row.endpoint ?? undefined,
    spec: row.spec ?? undefined,
    previousDeploymentId: row.previous_deployment_id ?? undefined,
    creationTimestamp: Number(row.creation_timestamp),
    lastUpdatedTimestamp: Number(row.last_updated_timestamp),
  };
}

// Targets

/** Inserts a target; a second one with the same name is a unique violation (the caller maps it). */
export async function insertTarget(db: DeployExecutor, target: DeploymentTarget): Promise<void> {
  await db
    .insertInto('deploy.targets')
    .values({
      name: target.name,
      kind: target.kind,
      namespace: target.namespace ?? null,
      image_repository: target.imageRepository ?? null,
      kserve: target.kserve,
      pull_secret: target.pullSecret ?? null,
      description: target.description ?? null,
      creation_timestamp: target.creationTimestamp,
      last_updated_timestamp: target.lastUpdatedTimestamp,
    })
    .execute();
}

export async function findTarget(db: DeployExecutor, name: string): Promise<DeploymentTarget | undefined> {
  const row = await db.selectFrom('deploy.targets').selectAll().where('name', '=', name).executeTakeFirst();
  return row && targetOf(row);
}

export async function listTargets(db: DeployExecutor): Promise<DeploymentTarget[]> {
  return (await db.selectFrom('deploy.targets').selectAll().orderBy('name').execute()).map(targetOf);
}

// Policies

export async function insertPolicy(db: DeployExecutor, policy: RolloutPolicy): Promise<void> {
  await db
    .insertInto('deploy.rollout_policies')
    .values({
      name: policy.name,
      model_name: policy.modelName,
      trigger_kind: policy.trigger.kind,
      trigger_value: policy.trigger.value,
      target_name: policy.targetName,
      replicas: policy.replicas,
      resources: JSON.stringify(policy.resources),
      autoscaling: policy.autoscaling ? JSON.stringify(policy.autoscaling) : null,
      strategy: policy.strategy,
      canary: policy.canary ? JSON.stringify(policy.canary) : null,
      paused: policy.paused,
      creation_timestamp: policy.creationTimestamp,
      last_updated_timestamp: policy.lastUpdatedTimestamp,
    })
    .execute();
}

export async function findPolicy(db: DeployExecutor, name: string): Promise<RolloutPolicy | undefined> {
  const row = await db
    .selectFrom('deploy.rollout_policies')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row && policyOf(row);
}

/** Every policy, or a model's, by name. */
export async function listPolicies(db: DeployExecutor, modelName?: string): Promise<RolloutPolicy[]> {
  let query = db.selectFrom('deploy.rollout_policies').selectAll().orderBy('name');
  if (modelName !== undefined) query = query.where('model_name', '=', modelName);
  return (await query.execute()).map(policyOf);
}

/** Pauses or resumes a policy; false when there is no such policy. */
export async function setPolicyPaused(
  db: DeployExecutor,
  name: string,
  paused: boolean,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('deploy.rollout_policies')
    .set({ paused, last_updated_timestamp: now })
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// Deployments

/**
 * Inserts a deployment and its creation transition unless the same policy already has one for the same
 * registry event (a redelivered event): resolves with whether it was inserted.
 */
export async function insertDeployment(
  db: DeployExecutor,
  deployment: DeploymentRecord,
  created: DeploymentTransition,
): Promise<boolean> {
  const inserted = await db
    .insertInto('deploy.deployments')
    .values({
      deployment_id: deployment.deploymentId,
      policy_name: deployment.policyName ?? null,
      target_name: deployment.targetName,
      model_name: deployment.modelName,
      model_version: deployment.modelVersion,
      cause: deployment.cause,
      source_event_id: deployment.sourceEventId ?? null,
      state: deployment.state,
      image: deployment.image ?? null,
      endpoint: deployment.endpoint ?? null,
      spec: deployment.spec ?? null,
      previous_deployment_id: deployment.previousDeploymentId ?? null,
      creation_timestamp: deployment.creationTimestamp,
      last_updated_timestamp: deployment.lastUpdatedTimestamp,
    })
    .onConflict((conflict) => conflict.columns(['policy_name', 'source_event_id']).doNothing())
    .returning('deployment_id')
    .executeTakeFirst();
  if (!inserted) return false;
  await insertTransition(db, deployment.deploymentId, 0, created);
  return true;
}

async function insertTransition(
  db: DeployExecutor,
  deploymentId: string,
  seq: number,
  transition: DeploymentTransition,
): Promise<void> {
  await db
    .insertInto('deploy.deployment_transitions')
    .values({
      deployment_id: deploymentId,
      seq,
      from_state: transition.from,
      to_state: transition.to,
      timestamp: transition.at.getTime(),
      reason: transition.reason,
    })
    .execute();
}

/** The deployment, locked for the caller's transaction when `forUpdate`. */
export async function findDeployment(
  db: DeployExecutor,
  deploymentId: string,
  options: { forUpdate?: boolean } = {},
): Promise<DeploymentRecord | undefined> {
  let query = db.selectFrom('deploy.deployments').selectAll().where('deployment_id', '=', deploymentId);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && deploymentOf(row);
}

/** The deployments a registry event created. */
export async function deploymentsOfEvent(db: DeployExecutor, eventId: string): Promise<DeploymentRecord[]> {
  return (
    await db
      .selectFrom('deploy.deployments')
      .selectAll()
      .where('source_event_id', '=', eventId)
      .orderBy('creation_timestamp')
      .execute()
  ).map(deploymentOf);
}

export interface DeploymentFilter {
  modelName?: string;
  modelVersion?: string;
  targetName?: string;
  states?: readonly DeploymentState[];
}

/** Deployments matching the filter, newest first; `limit` rows from `offset`. */
export async function searchDeployments(
  db: DeployExecutor,
  filter: DeploymentFilter,
  offset: number,
  limit: number,
): Promise<DeploymentRecord[]> {
  let query = db.selectFrom('deploy.deployments').selectAll();
  if (filter.modelName !== undefined) query = query.where('model_name', '=', filter.modelName);
  if (filter.modelVersion !== undefined) query = query.where('model_version', '=', filter.modelVersion);
  if (filter.targetName !== undefined) query = query.where('target_name', '=', filter.targetName);
  if (filter.states && filter.states.length > 0) query = query.where('state', 'in', filter.states);
  const rows = await query
    .orderBy('creation_timestamp', 'desc')
    .orderBy('deployment_id')
    .offset(offset)
    .limit(limit)
    .execute();
  return rows.map(deploymentOf);
}

/** The newest LIVE deployment of a model on a target: what serves there now (the rollback's spec). */
export async function liveDeployment(
  db: DeployExecutor,
  targetName: string,
  modelName: string,
): Promise<DeploymentRecord | undefined> {
  const row = await db
    .selectFrom('deploy.deployments')
    .selectAll()
    .where('target_name', '=', targetName)
    .where('model_name', '=', modelName)
    .where('state', '=', 'LIVE')
    .orderBy('last_updated_timestamp', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && deploymentOf(row);
}

/**
 * Locks a target's row for the caller's transaction (FOR NO KEY UPDATE: deployments may still be
 * inserted against it), so that deployments going LIVE on it take turns.
 */
export async function lockTarget(db: DeployExecutor, name: string): Promise<void> {
  await db.selectFrom('deploy.targets').select('name').where('name', '=', name).forNoKeyUpdate().execute();
}

/** The LIVE deployments of a model on a target other than `except`, locked for the caller's transaction. */
export async function otherLiveDeployments(
  db: DeployExecutor,
  targetName: string,
  modelName: string,
  except: string,
): Promise<DeploymentRecord[]> {
  const rows = await db
    .selectFrom('deploy.deployments')
    .selectAll()
    .where('target_name', '=', targetName)
    .where('model_name', '=', modelName)
    .where('state', '=', 'LIVE')
    .where('deployment_id', '!=', except)
    .orderBy('deployment_id')
    .forUpdate()
    .execute();
  return rows.map(deploymentOf);
}

/** The LIVE deployments on targets of one kind (LOCAL: the model servers to start again after a restart). */
export async function liveDeploymentsOnTargetKind(
  db: DeployExecutor,
  kind: TargetKind,
): Promise<DeploymentRecord[]> {
  const rows = await db
    .selectFrom('deploy.deployments as d')
    .innerJoin('deploy.targets as t', 't.name', 'd.target_name')
    .selectAll('d')
    .where('t.kind', '=', kind)
    .where('d.state', '=', 'LIVE')
    .orderBy('d.creation_timestamp')
    .execute();
  return rows.map(deploymentOf);
}

/** Where a LIVE deployment serves now (a LOCAL model server started again on another port). */
export async function setEndpoint(db: DeployExecutor, deploymentId: string, endpoint: string): Promise<void> {
  await db
    .updateTable('deploy.deployments')
    .set({ endpoint })
    .where('deployment_id', '=', deploymentId)
    .execute();
}

/** How many deployments are in each state. */
export async function countDeploymentsByState(db: DeployExecutor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('deploy.deployments')
    .select((eb) => ['state', eb.fn.countAll().as('count')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
}

/** Deployments not yet in a final state (LIVE, ROLLED_BACK) nor FAILED: the ones a worker must finish. */
export async function unfinishedDeployments(db: DeployExecutor): Promise<DeploymentRecord[]> {
  return (
    await db
      .selectFrom('deploy.deployments')
      .selectAll()
      .where('state', 'in', ['PENDING', 'BUILDING', 'BUILT', 'ROLLING_OUT'])
      .orderBy('creation_timestamp')
      .execute()
  ).map(deploymentOf);
}

/** Every transition of the given deployments, oldest first per deployment. */
export async function transitionsOf(
  db: DeployExecutor,
  deploymentIds: readonly string[],
): Promise<Map<string, DeploymentTransition[]>> {
  const byDeployment = new Map<string, DeploymentTransition[]>(deploymentIds.map((id) => [id, []]));
  if (deploymentIds.length === 0) return byDeployment;
  const rows = await db
    .selectFrom('deploy.deployment_transitions')
    .selectAll()
    .where('deployment_id', 'in', deploymentIds)
    .orderBy('deployment_id')
    .orderBy('seq')
    .execute();
  for (const row of rows) {
    byDeployment.get(row.deployment_id)?.push({
      from: row.from_state as DeploymentState | null,
      to: row.to_state as DeploymentState,
      at: new Date(Number(row.timestamp)),
      reason: row.reason,
    });
  }
  return byDeployment;
}

/** Fields a transition may set besides the state. */
export interface TransitionOutputs {
  image?: string;
  endpoint?: string;
  spec?: string;
}

/**
 * Records a transition (the caller holds the deployment's row lock and checked the step with the state
 * machine): the new state, the outputs given, and the history row numbered after the last.
 */
export async function recordTransition(
  db: DeployExecutor,
  deploymentId: string,
  transition: DeploymentTransition,
  outputs: TransitionOutputs = {},
): Promise<void> {
  const last = await db
    .selectFrom('deploy.deployment_transitions')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('deployment_id', '=', deploymentId)
    .executeTakeFirstOrThrow();
  await db
    .updateTable('deploy.deployments')
    .set({
      state: transition.to,
      last_updated_timestamp: transition.at.getTime(),
      ...(outputs.image === undefined ? {} : { image: outputs.image }),
      ...(outputs.endpoint === undefined ? {} : { endpoint: outputs.endpoint }),
      ...(outputs.spec === undefined ? {} : { spec: outputs.spec }),
    })
    .where('deployment_id', '=', deploymentId)
    .execute();
  await insertTransition(db, deploymentId, Number(last.seq ?? -1) + 1, transition);
}
