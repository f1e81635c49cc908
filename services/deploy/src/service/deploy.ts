import { randomUUID } from 'node:crypto';
import {
  decodePageToken,
  encodePageToken,
  inTransaction,
  isUniqueViolation,
  MlflowError,
  type QueueConnection,
} from '@mast/common';
import type { MastEvent } from '@mast/proto';
import type { Kysely } from 'kysely';
import {
  type DeploymentState,
  type DeploymentTransition,
  newDeployment,
  transition,
} from '../domain/deployment-state.js';
import {
  type DeploymentTarget,
  type PolicyRequest,
  type RolloutPolicy,
  rolloutsForEvent,
  type TargetInput,
  type TargetKind,
  validatePolicy,
  validateTarget,
} from '../domain/policies.js';
import {
  countDeploymentsByState,
  type DeploymentFilter,
  type DeploymentRecord,
  deploymentsOfEvent,
  findDeployment,
  findPolicy,
  findTarget,
  insertDeployment,
  insertPolicy,
  insertTarget,
  listPolicies,
  listTargets,
  liveDeployment,
  liveDeploymentsOnTargetKind,
  lockTarget,
  otherLiveDeployments,
  recordTransition,
  searchDeployments,
  setEndpoint,
  setPolicyPaused,
  type TransitionOutputs,
  transitionsOf,
  unfinishedDeployments,
} from '../store/deploy-store.js';
import type { DeployDatabase } from '../store/schema.js';

/** The queue of deployment pipeline jobs: one job per deployment, its id the deployment id. */
export const DEPLOYMENT_JOBS_QUEUE = 'deploy-pipeline';

/** A deployment with its history, as the APIs return it. */
export interface DeploymentView extends DeploymentRecord {
  transitions: DeploymentTransition[];
}

/** The registry as deploy needs it: whether a model or a version exists (through the registry's REST API). */
export interface ModelVersionLookup {
  exists(modelName: string, version: string): Promise<boolean>;
  modelExists(modelName: string): Promise<boolean>;
}

export interface DeployServiceDependencies {
  db: Kysely<DeployDatabase>;
  queues: QueueConnection;
  registry: ModelVersionLookup;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
}

export const SEARCH_DEPLOYMENTS_DEFAULT = 100;
export const SEARCH_DEPLOYMENTS_MAX = 1000;

function notFound(what: string): MlflowError {
  return MlflowError.notFound(what);
}

/**
 * Deployment targets, rollout policies and deployments (issue 12): the one service layer REST and
 * GraphQL call. Deployments are created by registry events (`handleRegistryEvent`), by hand
 * (`deployVersion`) or as a rollback (`rollback`), and moved through their states by the pipeline
 * worker (`transition`); each is one job on `DEPLOYMENT_JOBS_QUEUE`.
 */
export class DeployService {
  private readonly db: Kysely<DeployDatabase>;
  private readonly now: () => number;

  constructor(private readonly deps: DeployServiceDependencies) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  // Targets

  /** Creates a target. INVALID_PARAMETER_VALUE on bad fields, RESOURCE_ALREADY_EXISTS on a taken name. */
  async createTarget(input: TargetInput): Promise<DeploymentTarget> {
    const now = this.now();
    const target = { ...validateTarget(input), creationTimestamp: now, lastUpdatedTimestamp: now };
    try {
      await insertTarget(this.db, target);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Deployment target '${input.name}' already exists.`);
      }
      throw error;
    }
    return target;
  }

  async getTarget(name: string): Promise<DeploymentTarget> {
    const target = await findTarget(this.db, name);
    if (!target) throw notFound(`Deployment target '${name}' not found.`);
    return target;
  }

  listTargets(): Promise<DeploymentTarget[]> {
    return listTargets(this.db);
  }

  // Policies

  /**
   * Creates a rollout policy for an existing target and registered model. RESOURCE_DOES_NOT_EXIST for
   * an unknown target or model (MLflow's message for the model),
   * INVALID_PARAMETER_VALUE on bad fields, RESOURCE_ALREADY_EXISTS on a taken name.
   */
  async createPolicy(input: PolicyRequest): Promise<RolloutPolicy> {
    const target = await this.getTarget(input.targetName);
    if (input.modelName !== '' && !(await this.deps.registry.modelExists(input.modelName))) {
      throw notFound(`Registered Model with name=${input.modelName} not found`);
    }
    const now = this.now();
    const policy: RolloutPolicy = {
      ...validatePolicy(input, target),
      paused: input.paused ?? false,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
    };
    try {
      await insertPolicy(this.db, policy);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Rollout policy '${input.name}' already exists.`);
      }
      throw error;
    }
    return policy;
  }

  /** The policy, or undefined when there is none by that name. */
  findPolicy(name: string): Promise<RolloutPolicy | undefined> {
    return findPolicy(this.db, name);
  }

  async getPolicy(name: string): Promise<RolloutPolicy> {
    const policy = await findPolicy(this.db, name);
    if (!policy) throw notFound(`Rollout policy '${name}' not found.`);
    return policy;
  }

  /** Every policy, or those of one model. */
  listPolicies(modelName?: string): Promise<RolloutPolicy[]> {
    return listPolicies(this.db, modelName);
  }

  /** Pauses (registry events no longer trigger it) or resumes a policy. */
  async setPolicyPaused(name: string, paused: boolean): Promise<RolloutPolicy> {
    if (!(await setPolicyPaused(this.db, name, paused, this.now()))) {
      throw notFound(`Rollout policy '${name}' not found.`);
    }
    return this.getPolicy(name);
  }

  // Deployments

  async getDeployment(deploymentId: string): Promise<DeploymentView> {
    const deployment = UUID.test(deploymentId) ? await findDeployment(this.db, deploymentId) : undefined;
    if (!deployment) throw notFound(`Deployment '${deploymentId}' not found.`);
    return (await this.withTransitions([deployment]))[0];
  }

  /** Deployments matching `filter`, newest first, a page of `maxResults` after `pageToken`. */
  async searchDeployments(
    filter: DeploymentFilter,
    maxResults: number,
    pageToken?: string,
  ): Promise<{ deployments: DeploymentView[]; nextPageToken?: string }> {
    const offset = decodePageToken(pageToken);
    const rows = await searchDeployments(this.db, filter, offset, maxResults + 1);
    return {
      deployments: await this.withTransitions(rows.slice(0, maxResults)),
      nextPageToken: rows.length > maxResults ? encodePageToken(offset + maxResults) : undefined,
    };
  }

  /** The deployments of several model versions at once (GraphQL's `ModelVersion.deployments`). */
  async deploymentsOfVersions(
    versions: ReadonlyArray<{ name: string; version: string }>,
  ): Promise<DeploymentView[][]> {
    return Promise.all(
      versions.map(async ({ name, version }) =>
        this.withTransitions(
          await searchDeployments(
            this.db,
            { modelName: name, modelVersion: version },
            0,
            SEARCH_DEPLOYMENTS_MAX,
          ),
        ),
      ),
    );
  }

  private async withTransitions(rows: DeploymentRecord[]): Promise<DeploymentView[]> {
    const transitions = await transitionsOf(
      this.db,
      rows.map((row) => row.deploymentId),
    );
    return rows.map((row) => ({ ...row, transitions: transitions.get(row.deploymentId) ?? [] }));
  }

  /**
   * Deploys a model version to a target by hand (with a policy's settings when `policyName` is given,
   * else the target's defaults). RESOURCE_DOES_NOT_EXIST for an unknown target, policy or version.
   */
  async deployVersion(request: {
    modelName: string;
    version: string;
    targetName?: string;
    policyName?: string;
  }): Promise<DeploymentView> {
    const policy = request.policyName === undefined ? undefined : await this.getPolicy(request.policyName);
    if (policy && policy.modelName !== request.modelName) {
      throw MlflowError.invalidParameter(
        `Rollout policy '${policy.name}' is for model '${policy.modelName}', not '${request.modelName}'.`,
      );
    }
    if (policy && request.targetName !== undefined && request.targetName !== policy.targetName) {
      throw MlflowError.invalidParameter(
        `Rollout policy '${policy.name}' rolls out to target '${policy.targetName}', not '${request.targetName}': give target_name or policy_name, or matching ones.`,
      );
    }
    const targetName = request.targetName ?? policy?.targetName;
    if (targetName === undefined) throw MlflowError.invalidParameter('Give a target_name or a policy_name.');
    await this.getTarget(targetName);
    if (!(await this.deps.registry.exists(request.modelName, request.version))) {
      throw notFound(`Model Version (name=${request.modelName}, version=${request.version}) not found`);
    }
    const created = await this.create({
      policyName: policy?.name,
      targetName,
      modelName: request.modelName,
      modelVersion: request.version,
      cause: 'manual',
    });
    await this.enqueue([created]);
    return this.getDeployment(created.deploymentId);
  }

  /**
   * Rolls a target back to the version that served before `deploymentId` (a LIVE deployment): a new
   * deployment of the previous one's model version, with cause `rollback of <id>`. RESOURCE_CONFLICT (409) when
   * the deployment is not LIVE or nothing served before it.
   */
  async rollback(deploymentId: string): Promise<DeploymentView> {
    const current = await this.getDeployment(deploymentId);
    if (current.state !== 'LIVE') {
      throw new MlflowError(
        'RESOURCE_CONFLICT',
        `Deployment '${deploymentId}' is ${current.state}: only a LIVE deployment can be rolled back.`,
      );
    }
    const previous =
      current.previousDeploymentId === undefined
        ? undefined
        : await findDeployment(this.db, current.previousDeploymentId);
    if (!previous) {
      throw new MlflowError(
        'RESOURCE_CONFLICT',
        `Deployment '${deploymentId}' has no earlier version on target '${current.targetName}' to roll back to.`,
      );
    }
    const created = await this.create({
      policyName: current.policyName,
      targetName: current.targetName,
      modelName: previous.modelName,
      modelVersion: previous.modelVersion,
      cause: `rollback of ${deploymentId}`,
    });
    await this.enqueue([created]);
    return this.getDeployment(created.deploymentId);
  }

  /**
   * Creates the deployments a registry event triggers (policies of its model matching the stage or
   * alias, not paused) and enqueues their pipeline jobs. Idempotent on the event id: a redelivered
   * event finds the deployments it made and only re-enqueues them (job id = deployment id, so a job
   * the queue still holds is not added twice). Resolves with the event's deployments.
   */
  async handleRegistryEvent(event: MastEvent): Promise<DeploymentRecord[]> {
    const name = 'name' in event.payload ? event.payload.name : undefined;
    if (typeof name !== 'string') return [];
    const requests = rolloutsForEvent(event, await listPolicies(this.db, name));
    if (requests.length === 0) return [];
    for (const request of requests) {
      const policy = await findPolicy(this.db, request.policyName);
      if (!policy) continue;
      await this.create({
        policyName: policy.name,
        targetName: policy.targetName,
        modelName: request.modelName,
        modelVersion: request.version,
        cause: request.cause,
        sourceEventId: event.event_id,
      });
    }
    const deployments = await deploymentsOfEvent(this.db, event.event_id);
    await this.enqueue(deployments);
    return deployments;
  }

  private async create(fields: {
    policyName?: string;
    targetName: string;
    modelName: string;
    modelVersion: string;
    cause: string;
    sourceEventId?: string;
  }): Promise<DeploymentRecord> {
    return inTransaction(this.db, async (tx) => {
      const now = this.now();
      const live = await liveDeployment(tx, fields.targetName, fields.modelName);
      const history = newDeployment(new Date(now), describeCause(fields));
      const deployment: DeploymentRecord = {
        deploymentId: randomUUID(),
        ...fields,
        state: history.state,
        previousDeploymentId: live?.deploymentId,
        creationTimestamp: now,
        lastUpdatedTimestamp: now,
      };
      await insertDeployment(tx, deployment, history.transitions[0]);
      return deployment;
    });
  }

  /** Adds the deployments' pipeline jobs (a job the queue still holds is not added again). */
  private async enqueue(deployments: readonly DeploymentRecord[]): Promise<void> {
    const queue = this.deps.queues.queue<DeploymentJob>(DEPLOYMENT_JOBS_QUEUE);
    for (const deployment of deployments) {
      if (!PIPELINE_STATES.has(deployment.state)) continue;
      await queue.add(
        'deploy',
        { deploymentId: deployment.deploymentId },
        { jobId: deployment.deploymentId, attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
      );
    }
  }

  /** How many deployments are in each state (Prometheus). */
  countByState(): Promise<Record<string, number>> {
    return countDeploymentsByState(this.db);
  }

  /** The LIVE deployments on targets of one kind. */
  liveDeploymentsOn(kind: TargetKind): Promise<DeploymentRecord[]> {
    return liveDeploymentsOnTargetKind(this.db, kind);
  }

  /** Records where a LIVE deployment serves now. */
  setEndpoint(deploymentId: string, endpoint: string): Promise<void> {
    return setEndpoint(this.db, deploymentId, endpoint);
  }

  /**
   * Re-enqueues every deployment not yet LIVE, FAILED or ROLLED_BACK: run when a worker starts, so
   * deployments whose jobs were lost (the in-process queue of a restarted `mast server`) resume.
   */
  async resumeUnfinished(): Promise<number> {
    const unfinished = await unfinishedDeployments(this.db);
    await this.enqueue(unfinished);
    return unfinished.length;
  }

  /**
   * Moves a deployment to `to` for `reason` (the state machine's rules; RESOURCE_CONFLICT for a step it
   * does not allow), recording the image and endpoint when given. Row-locked, so concurrent callers
   * serialise. Going LIVE supersedes the deployment that served the model on the target before.
   */
  async transition(
    deploymentId: string,
    to: DeploymentState,
    reason: string,
    outputs: TransitionOutputs = {},
  ): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      const deployment = await findDeployment(tx, deploymentId, { forUpdate: true });
      if (!deployment) throw notFound(`Deployment '${deploymentId}' not found.`);
      // Deployments going LIVE on one target take turns: each sees the one before as LIVE and supersedes it.
      if (to === 'LIVE') await lockTarget(tx, deployment.targetName);
      const at = new Date(this.now());
      const next = transition({ state: deployment.state, transitions: [] }, to, reason, at);
      await recordTransition(tx, deploymentId, next.transitions[0], outputs);
      if (to !== 'LIVE') return;
      // One version serves a model on a target: the one that served before is now SUPERSEDED.
      for (const replaced of await otherLiveDeployments(
        tx,
        deployment.targetName,
        deployment.modelName,
        deploymentId,
      )) {
        const step = transition(
          { state: replaced.state, transitions: [] },
          'SUPERSEDED',
          `replaced by version ${deployment.modelVersion} (deployment ${deploymentId})`,
          at,
        );
        await recordTransition(tx, replaced.deploymentId, step.transitions[0]);
      }
    });
  }
}

/** A pipeline job's data. */
export interface DeploymentJob {
  deploymentId: string;
}

/** The states a pipeline job still has work in. */
const PIPELINE_STATES = new Set<DeploymentState>(['PENDING', 'BUILDING', 'BUILT', 'ROLLING_OUT']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describeCause(fields: {
  modelName: string;
  modelVersion: string;
  cause: string;
  targetName: string;
}): string {
  return `${fields.modelName} version ${fields.modelVersion} to target ${fields.targetName}: ${fields.cause}`;
}
