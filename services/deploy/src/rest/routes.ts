import {
  invalidParameter,
  type RequestReader,
  readMaxResults,
  requireJsonContentType,
  rpc,
  toWireJson,
} from '@mast/common';
import type { FastifyInstance } from 'fastify';
import { DEPLOYMENT_STATES, type DeploymentState } from '../domain/deployment-state.js';
import type {
  DeploymentTarget,
  PolicyRequest,
  RolloutPolicy,
  Strategy,
  TargetInput,
  TargetKind,
  TriggerKind,
} from '../domain/policies.js';
import {
  type DeploymentView,
  type DeployService,
  SEARCH_DEPLOYMENTS_DEFAULT,
  SEARCH_DEPLOYMENTS_MAX,
} from '../service/deploy.js';

/** Mast's deployment API, under every MLflow API prefix (`/api/2.0/mast/deployments/...`). */
const BASE = '/mast/deployments';

export function toWireTarget(target: DeploymentTarget) {
  return {
    name: target.name,
    kind: target.kind,
    namespace: target.namespace,
    image_repository: target.imageRepository,
    kserve: target.kserve,
    pull_secret: target.pullSecret,
    description: target.description,
    creation_timestamp: target.creationTimestamp,
    last_updated_timestamp: target.lastUpdatedTimestamp,
  };
}

export function toWirePolicy(policy: RolloutPolicy) {
  return {
    name: policy.name,
    model_name: policy.modelName,
    trigger: { kind: policy.trigger.kind, value: policy.trigger.value },
    target_name: policy.targetName,
    replicas: policy.replicas,
    resources: {
      cpu_request: policy.resources.cpuRequest,
      cpu_limit: policy.resources.cpuLimit,
      memory_request: policy.resources.memoryRequest,
      memory_limit: policy.resources.memoryLimit,
    },
    autoscaling: policy.autoscaling && {
      min_replicas: policy.autoscaling.minReplicas,
      max_replicas: policy.autoscaling.maxReplicas,
      target_cpu_utilization: policy.autoscaling.targetCpuUtilization,
    },
    strategy: policy.strategy,
    canary: policy.canary && {
      percent: policy.canary.percent,
      health_window_seconds: policy.canary.healthWindowSeconds,
    },
    paused: policy.paused,
    creation_timestamp: policy.creationTimestamp,
    last_updated_timestamp: policy.lastUpdatedTimestamp,
  };
}

export function toWireDeployment(deployment: DeploymentView) {
  return {
    deployment_id: deployment.deploymentId,
    model_name: deployment.modelName,
    version: deployment.modelVersion,
    target_name: deployment.targetName,
    policy_name: deployment.policyName,
    state: deployment.state,
    cause: deployment.cause,
    image: deployment.image,
    endpoint: deployment.endpoint,
    source_event_id: deployment.sourceEventId,
    previous_deployment_id: deployment.previousDeploymentId,
    creation_timestamp: deployment.creationTimestamp,
    last_updated_timestamp: deployment.lastUpdatedTimestamp,
    transitions: deployment.transitions.map((step) => ({
      from_state: step.from ?? undefined,
      to_state: step.to,
      timestamp: step.at.getTime(),
      reason: step.reason,
    })),
  };
}

function readTarget(reader: RequestReader): TargetInput {
  return {
    name: reader.string('name', { required: true }),
    kind: reader.string('kind', { required: true }).toUpperCase() as TargetKind,
    namespace: reader.string('namespace'),
    imageRepository: reader.string('image_repository'),
    kserve: reader.boolean('kserve') ?? false,
    pullSecret: reader.string('pull_secret'),
    description: reader.string('description'),
  };
}

function readPolicy(reader: RequestReader): PolicyRequest {
  const trigger = reader.message('trigger', { required: true });
  const resources = reader.message('resources');
  const autoscaling = reader.message('autoscaling');
  const canary = reader.message('canary');
  return {
    name: reader.string('name', { required: true }),
    modelName: reader.string('model_name', { required: true }),
    trigger: {
      kind: trigger.string('kind', { required: true }).toUpperCase() as TriggerKind,
      value: trigger.string('value', { required: true }),
    },
    targetName: reader.string('target_name', { required: true }),
    replicas: reader.integer('replicas'),
    resources: {
      cpuRequest: resources?.string('cpu_request'),
      cpuLimit: resources?.string('cpu_limit'),
      memoryRequest: resources?.string('memory_request'),
      memoryLimit: resources?.string('memory_limit'),
    },
    autoscaling: autoscaling && {
      minReplicas: autoscaling.integer('min_replicas', { required: true }),
      maxReplicas: autoscaling.integer('max_replicas', { required: true }),
      targetCpuUtilization: autoscaling.integer('target_cpu_utilization'),
    },
    strategy: reader.string('strategy')?.toUpperCase() as Strategy | undefined,
    canary: canary && {
      percent: canary.integer('percent', { required: true }),
      healthWindowSeconds: canary.integer('health_window_seconds'),
    },
    paused: reader.boolean('paused'),
  };
}

/** `states` as one or more names; an unknown name is INVALID_PARAMETER_VALUE listing the valid ones. */
function readStates(reader: RequestReader): DeploymentState[] {
  return reader.stringList('states').map((state) => {
    const upper = state.toUpperCase();
    if (!(DEPLOYMENT_STATES as readonly string[]).includes(upper)) {
      throw invalidParameter(
        reader.path('states'),
        state,
        `Valid values are ${DEPLOYMENT_STATES.join(', ')}.`,
      );
    }
    return upper as DeploymentState;
  });
}

/** The deployment API: targets, rollout policies, deployments (issue 12). */
export async function registerDeployRoutes(app: FastifyInstance, service: DeployService): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireJsonContentType);
    scope.setReplySerializer(toWireJson);

    rpc(scope, 'POST', `${BASE}/targets/create`, async (reader) => ({
      target: toWireTarget(await service.createTarget(readTarget(reader))),
    }));
    rpc(scope, 'GET', `${BASE}/targets/get`, async (reader) => ({
      target: toWireTarget(await service.getTarget(reader.string('name', { required: true }))),
    }));
    rpc(scope, 'GET', `${BASE}/targets/list`, async () => ({
      targets: (await service.listTargets()).map(toWireTarget),
    }));

    rpc(scope, 'POST', `${BASE}/policies/create`, async (reader) => ({
      policy: toWirePolicy(await service.createPolicy(readPolicy(reader))),
    }));
    rpc(scope, 'GET', `${BASE}/policies/get`, async (reader) => ({
      policy: toWirePolicy(await service.getPolicy(reader.string('name', { required: true }))),
    }));
    rpc(scope, 'GET', `${BASE}/policies/list`, async (reader) => ({
      policies: (await service.listPolicies(reader.string('model_name'))).map(toWirePolicy),
    }));
    rpc(scope, 'POST', `${BASE}/policies/pause`, async (reader) => ({
      policy: toWirePolicy(await service.setPolicyPaused(reader.string('name', { required: true }), true)),
    }));
    rpc(scope, 'POST', `${BASE}/policies/resume`, async (reader) => ({
      policy: toWirePolicy(await service.setPolicyPaused(reader.string('name', { required: true }), false)),
    }));

    rpc(scope, 'POST', `${BASE}/create`, async (reader) => ({
      deployment: toWireDeployment(
        await service.deployVersion({
          modelName: reader.string('model_name', { required: true }),
          version: reader.id('version', { required: true }),
          targetName: reader.string('target_name'),
          policyName: reader.string('policy_name'),
        }),
      ),
    }));
    rpc(scope, 'GET', `${BASE}/get`, async (reader) => ({
      deployment: toWireDeployment(
        await service.getDeployment(reader.string('deployment_id', { required: true })),
      ),
    }));
    rpc(
      scope,
      'GET',
      `${BASE}/search`,
      async (reader) => {
        const page = await service.searchDeployments(
          {
            modelName: reader.string('model_name'),
            modelVersion: reader.id('version'),
            targetName: reader.string('target_name'),
            states: readStates(reader),
          },
          readMaxResults(reader, 'max_results', SEARCH_DEPLOYMENTS_DEFAULT, SEARCH_DEPLOYMENTS_MAX),
          reader.string('page_token'),
        );
        return { deployments: page.deployments.map(toWireDeployment), next_page_token: page.nextPageToken };
      },
      { expensive: true },
    );
    rpc(scope, 'POST', `${BASE}/rollback`, async (reader) => ({
      deployment: toWireDeployment(
        await service.rollback(reader.string('deployment_id', { required: true })),
      ),
    }));
  });
}
