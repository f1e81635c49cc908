import { LongScalar, MlflowError } from '@mast/common';
import type { DeploymentTarget } from '../domain/policies.js';
import { type DeploymentView, type DeployService, SEARCH_DEPLOYMENTS_MAX } from '../service/deploy.js';
import type { Resolvers } from './generated/types.js';

/** `first` within 1..1000 (default 100), as the REST API's `max_results`. */
function pageSize(first: number | null | undefined): number {
  const size = first ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > SEARCH_DEPLOYMENTS_MAX) {
    throw MlflowError.invalidParameter(`Invalid first ${size}: must be from 1 to ${SEARCH_DEPLOYMENTS_MAX}.`);
  }
  return size;
}

/**
 * The deploy subgraph's resolvers: every field calls the same `DeployService` functions as the REST
 * API. Targets are looked up once per request and name (`targets`).
 */
export function createResolvers(service: DeployService): Resolvers {
  const targetOf = (name: string): Promise<DeploymentTarget> => service.getTarget(name);
  const deployment = async (id: string): Promise<DeploymentView | null> => {
    try {
      return await service.getDeployment(id);
    } catch (error) {
      if (error instanceof MlflowError && error.code === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw error;
    }
  };
  return {
    Long: LongScalar,
    Query: {
      deployment: (_parent, { id }) => deployment(id),
      deployments: async (_parent, args) =>
        (
          await service.searchDeployments(
            {
              modelName: args.modelName ?? undefined,
              modelVersion: args.version ?? undefined,
              targetName: args.targetName ?? undefined,
              states: args.states ?? undefined,
            },
            pageSize(args.first),
          )
        ).deployments,
      rolloutPolicies: (_parent, { modelName }) => service.listPolicies(modelName ?? undefined),
      deploymentTargets: () => service.listTargets(),
    },
    Mutation: {
      createDeploymentTarget: (_parent, { input }) =>
        service.createTarget({
          name: input.name,
          kind: input.kind,
          namespace: input.namespace ?? undefined,
          imageRepository: input.imageRepository ?? undefined,
          kserve: input.kserve ?? false,
          pullSecret: input.pullSecret ?? undefined,
          description: input.description ?? undefined,
        }),
      createRolloutPolicy: (_parent, { input }) =>
        service.createPolicy({
          name: input.name,
          modelName: input.modelName,
          trigger: { kind: input.triggerKind, value: input.triggerValue },
          targetName: input.targetName,
          replicas: input.replicas ?? undefined,
          resources: {
            cpuRequest: input.resources?.cpuRequest ?? undefined,
            cpuLimit: input.resources?.cpuLimit ?? undefined,
            memoryRequest: input.resources?.memoryRequest ?? undefined,
            memoryLimit: input.resources?.memoryLimit ?? undefined,
          },
          autoscaling: input.autoscaling
            ? {
                minReplicas: input.autoscaling.minReplicas,
                maxReplicas: input.autoscaling.maxReplicas,
                targetCpuUtilization: input.autoscaling.targetCpuUtilization ?? undefined,
              }
            : undefined,
          strategy: input.strategy ?? undefined,
          canary: input.canary
            ? {
                percent: input.canary.percent,
                healthWindowSeconds: input.canary.healthWindowSeconds ?? undefined,
              }
            : undefined,
          paused: input.paused ?? undefined,
        }),
      pauseRolloutPolicy: (_parent, { name }) => service.setPolicyPaused(name, true),
      resumeRolloutPolicy: (_parent, { name }) => service.setPolicyPaused(name, false),
      deployModelVersion: (_parent, args) =>
        service.deployVersion({
          modelName: args.modelName,
          version: args.version,
          targetName: args.targetName ?? undefined,
          policyName: args.policyName ?? undefined,
        }),
      rollbackDeployment: (_parent, { id }) => service.rollback(id),
    },
    Deployment: {
      id: (parent) => parent.deploymentId,
      version: (parent) => parent.modelVersion,
      modelVersion: (parent) => ({ name: parent.modelName, version: parent.modelVersion }),
      target: (parent) => targetOf(parent.targetName),
      policy: async (parent) =>
        parent.policyName === undefined ? null : ((await service.findPolicy(parent.policyName)) ?? null),
      previousDeployment: (parent) =>
        parent.previousDeploymentId === undefined ? null : deployment(parent.previousDeploymentId),
      image: (parent) => parent.image ?? null,
      endpoint: (parent) => parent.endpoint ?? null,
    },
    DeploymentTransition: {
      fromState: (parent) => parent.from,
      toState: (parent) => parent.to,
      timestamp: (parent) => parent.at.getTime(),
    },
    RolloutPolicy: {
      target: (parent) => targetOf(parent.targetName),
    },
    ModelVersion: {
      __resolveReference: (reference) => ({ name: reference.name, version: reference.version }),
      deployments: async (parent) => (await service.deploymentsOfVersions([parent]))[0],
    },
  };
}
