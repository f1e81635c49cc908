import { canonicalStage, MlflowError, validateAliasName } from '@mast/common';
import type { MastEvent } from '@mast/proto';

/**
 * Deployment targets and rollout policies (issue 12): what they are, the rules their fields follow,
 * and which registry events trigger which policy. No I/O.
 */

export const TARGET_KINDS = ['KUBERNETES', 'LOCAL'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Where deployments run: a Kubernetes namespace (images pushed to `imageRepository`), or this machine. */
export interface DeploymentTarget {
  name: string;
  kind: TargetKind;
  /** KUBERNETES: the namespace the objects are applied in. */
  namespace?: string;
  /** KUBERNETES: `host[:port]/path` the model images are pushed to (`<repository>/<model>@sha256:…`). */
  imageRepository?: string;
  /** KUBERNETES: roll out a KServe InferenceService instead of a Deployment and a Service. */
  kserve: boolean;
  /** KUBERNETES: a `kubernetes.io/dockerconfigjson` Secret with the registry's credentials. */
  pullSecret?: string;
  description?: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

export const TRIGGER_KINDS = ['STAGE', 'ALIAS'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];
export const STRATEGIES = ['ROLLING', 'CANARY'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Kubernetes resource quantities of the model server container (unset: none asked). */
export interface Resources {
  cpuRequest?: string;
  cpuLimit?: string;
  memoryRequest?: string;
  memoryLimit?: string;
}

/** A HorizontalPodAutoscaler on CPU utilisation. */
export interface Autoscaling {
  minReplicas: number;
  maxReplicas: number;
  /** Percent of the CPU request, 1-100. */
  targetCpuUtilization: number;
}

/** A canary: `percent` of the replicas (or of the traffic, on KServe) on the new version for the health window. */
export interface Canary {
  percent: number;
  healthWindowSeconds: number;
}

/** Which model, on which registry change, goes to which target, and how. */
export interface RolloutPolicy {
  name: string;
  modelName: string;
  trigger: { kind: TriggerKind; value: string };
  targetName: string;
  replicas: number;
  resources: Resources;
  autoscaling?: Autoscaling;
  strategy: Strategy;
  canary?: Canary;
  paused: boolean;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

export type PolicyInput = Omit<RolloutPolicy, 'creationTimestamp' | 'lastUpdatedTimestamp' | 'paused'> & {
  paused?: boolean;
};

/** A policy as a client asks for it: unset fields take the defaults below. */
export type PolicyRequest = Omit<PolicyInput, 'replicas' | 'strategy' | 'autoscaling' | 'canary'> & {
  /** Default 1. */
  replicas?: number;
  /** Default ROLLING. */
  strategy?: Strategy;
  /** `targetCpuUtilization` default 80 (percent). */
  autoscaling?: Omit<Autoscaling, 'targetCpuUtilization'> & { targetCpuUtilization?: number };
  /** `healthWindowSeconds` default 60. */
  canary?: Omit<Canary, 'healthWindowSeconds'> & { healthWindowSeconds?: number };
};
export type TargetInput = Omit<DeploymentTarget, 'creationTimestamp' | 'lastUpdatedTimestamp'>;

/** Kubernetes' DNS-1123 label: policy names become Deployment and Service names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Kubernetes quantity (`500m`, `2`, `1.5Gi`). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** `host[:port]/path` without a tag or digest. */
const REPOSITORY = /^[a-zA-Z0-9.-]+(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;

export const MAX_REPLICAS = 1000;

function invalid(message: string): MlflowError {
  return MlflowError.invalidParameter(message);
}

/** A name Kubernetes accepts as an object name (≤ 63, lower-case letters, digits, `-`). */
export function checkDnsLabel(field: string, value: string): string {
  if (value.length === 0 || value.length > 63 || !DNS_LABEL.test(value)) {
    throw invalid(
      `Invalid ${field} '${value}': use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (a Kubernetes object name).`,
    );
  }
  return value;
}

function checkCount(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Invalid ${field} ${value}: must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** A target's fields, checked; throws INVALID_PARAMETER_VALUE naming the field. */
export function validateTarget(input: TargetInput): TargetInput {
  checkDnsLabel('target name', input.name);
  if (!TARGET_KINDS.includes(input.kind)) {
    throw invalid(`Invalid target kind '${input.kind}': must be one of ${TARGET_KINDS.join(', ')}.`);
  }
  if (input.kind === 'LOCAL') {
    if (input.namespace || input.imageRepository || input.kserve || input.pullSecret) {
      throw invalid(
        'A LOCAL target runs the model server on this machine: namespace, image_repository, kserve and pull_secret do not apply.',
      );
    }
    return input;
  }
  if (!input.namespace) throw invalid('A KUBERNETES target needs a namespace.');
  checkDnsLabel('namespace', input.namespace);
  if (!input.imageRepository) {
    throw invalid(
      'A KUBERNETES target needs an image_repository (host[:port]/path) to push model images to.',
    );
  }
  if (!REPOSITORY.test(input.imageRepository)) {
    throw invalid(
      `Invalid image_repository '${input.imageRepository}': expected host[:port]/path, lower-case, without a tag or digest.`,
    );
  }
  if (input.pullSecret !== undefined) checkDnsLabel('pull_secret', input.pullSecret);
  return input;
}

/**
 * A policy's fields with their defaults, checked against its target and normalised (a stage trigger in
 * MLflow's capitalisation: `production` → `Production`). Throws INVALID_PARAMETER_VALUE naming the field.
 */
export function validatePolicy(request: PolicyRequest, target: DeploymentTarget): PolicyInput {
  const input: PolicyInput = {
    ...request,
    replicas: request.replicas ?? 1,
    strategy: request.strategy ?? 'ROLLING',
    autoscaling: request.autoscaling && {
      ...request.autoscaling,
      targetCpuUtilization: request.autoscaling.targetCpuUtilization ?? 80,
    },
    canary: request.canary && {
      ...request.canary,
      healthWindowSeconds: request.canary.healthWindowSeconds ?? 60,
    },
  };
  checkDnsLabel('policy name', input.name);
  if (input.modelName.trim() === '') throw invalid('A rollout policy needs a model_name.');
  const trigger = { ...input.trigger };
  if (trigger.kind === 'STAGE') {
    trigger.value = canonicalStage(trigger.value);
    if (trigger.value !== 'Staging' && trigger.value !== 'Production') {
      throw invalid(`A rollout policy triggers on stage Staging or Production, not ${trigger.value}.`);
    }
  } else if (trigger.kind === 'ALIAS') {
    validateAliasName(trigger.value);
  } else {
    throw invalid(`Invalid trigger kind '${trigger.kind}': must be STAGE or ALIAS.`);
  }
  checkCount('replicas', input.replicas, 1, MAX_REPLICAS);
  for (const [field, value] of Object.entries(input.resources)) {
    if (value !== undefined && !QUANTITY.test(value)) {
      const wireName = field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      throw invalid(
        `Invalid resources.${wireName} '${value}': not a Kubernetes quantity (e.g. 500m, 2, 1Gi).`,
      );
    }
  }
  if (!STRATEGIES.includes(input.strategy)) {
    throw invalid(`Invalid strategy '${input.strategy}': must be ROLLING or CANARY.`);
  }
  if (input.autoscaling) {
    const { minReplicas, maxReplicas, targetCpuUtilization } = input.autoscaling;
    checkCount('autoscaling.min_replicas', minReplicas, 1, MAX_REPLICAS);
    checkCount('autoscaling.max_replicas', maxReplicas, minReplicas, MAX_REPLICAS);
    checkCount('autoscaling.target_cpu_utilization', targetCpuUtilization, 1, 100);
  }
  if (input.strategy === 'CANARY') {
    if (!input.canary)
      throw invalid('A CANARY policy needs canary.percent and canary.health_window_seconds.');
    checkCount('canary.percent', input.canary.percent, 1, 99);
    checkCount('canary.health_window_seconds', input.canary.healthWindowSeconds, 0, 86_400);
  } else if (input.canary) {
    throw invalid('canary settings need strategy CANARY.');
  }
  if (target.kind === 'LOCAL' && (input.strategy === 'CANARY' || input.autoscaling || input.replicas !== 1)) {
    throw invalid('A LOCAL target runs one model server: replicas 1, strategy ROLLING, no autoscaling.');
  }
  return { ...input, trigger };
}

/** A model version a registry event asks policies to roll out. */
export interface TriggeredRollout {
  policyName: string;
  modelName: string;
  version: string;
  /** Why, for the deployment's history: `stage Production`, `alias champion`. */
  cause: string;
}

/** The (model, version) an event moves into a trigger, and the trigger it matches; else undefined. */
function triggerOf(
  event: MastEvent,
): { kind: TriggerKind; value: string; name: string; version: string } | undefined {
  if (event.type === 'MODEL_VERSION_STAGE_TRANSITIONED') {
    const { name, version, to_stage: stage, is_prompt: prompt } = event.payload;
    if (name && version && stage && !prompt) return { kind: 'STAGE', value: stage, name, version };
  } else if (event.type === 'MODEL_ALIAS_SET') {
    const { name, version, alias, is_prompt: prompt } = event.payload;
    if (name && version && alias && !prompt) return { kind: 'ALIAS', value: alias, name, version };
  }
  return undefined;
}

/**
 * The rollouts a registry event triggers: a version moved to a policy's stage
 * (`MODEL_VERSION_STAGE_TRANSITIONED`, stages compared case-insensitively as MLflow does), or a
 * policy's alias set on a version (`MODEL_ALIAS_SET`), for the policy's model, unless the policy is
 * paused. Any other event, and any prompt's event, triggers nothing.
 */
export function rolloutsForEvent(event: MastEvent, policies: readonly RolloutPolicy[]): TriggeredRollout[] {
  const trigger = triggerOf(event);
  if (!trigger) return [];
  return policies
    .filter(
      (policy) =>
        !policy.paused &&
        policy.modelName === trigger.name &&
        policy.trigger.kind === trigger.kind &&
        (trigger.kind === 'STAGE'
          ? policy.trigger.value.toLowerCase() === trigger.value.toLowerCase()
          : policy.trigger.value === trigger.value),
    )
    .map((policy) => ({
      policyName: policy.name,
      modelName: trigger.name,
      version: trigger.version,
      cause: `${trigger.kind.toLowerCase()} ${policy.trigger.value}`,
    }));
}
