import { describe, expect, it } from '@jest/globals';
import type { MastEvent } from '@mast/proto';
import {
  type DeploymentTarget,
  type PolicyInput,
  type RolloutPolicy,
  rolloutsForEvent,
  validatePolicy,
  validateTarget,
} from './policies.js';

const cluster: DeploymentTarget = {
  name: 'prod',
  kind: 'KUBERNETES',
  namespace: 'ml',
  imageRepository: 'registry.example.com:5000/models',
  kserve: false,
  creationTimestamp: 1,
  lastUpdatedTimestamp: 1,
};
const local: DeploymentTarget = {
  name: 'local',
  kind: 'LOCAL',
  kserve: false,
  creationTimestamp: 1,
  lastUpdatedTimestamp: 1,
};

const policy: PolicyInput = {
  name: 'churn-prod',
  modelName: 'churn',
  trigger: { kind: 'STAGE', value: 'production' },
  targetName: 'prod',
  replicas: 2,
  resources: { cpuRequest: '500m', memoryLimit: '1Gi' },
  strategy: 'ROLLING',
};

function invalidMessage(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect((error as { code: string }).code).toBe('INVALID_PARAMETER_VALUE');
    return (error as Error).message;
  }
  throw new Error('expected INVALID_PARAMETER_VALUE');
}

describe('deployment targets', () => {
  it('accepts a Kubernetes namespace with an image repository, and a bare local target', () => {
    expect(validateTarget(cluster)).toEqual(cluster);
    expect(validateTarget(local)).toEqual(local);
  });

  it('refuses names Kubernetes refuses, missing namespace or repository, and cluster fields on local', () => {
    expect(invalidMessage(() => validateTarget({ ...cluster, name: 'Prod_1' }))).toMatch(
      /Invalid target name 'Prod_1'/,
    );
    expect(invalidMessage(() => validateTarget({ ...cluster, namespace: undefined }))).toMatch(
      /needs a namespace/,
    );
    expect(invalidMessage(() => validateTarget({ ...cluster, imageRepository: undefined }))).toMatch(
      /needs an image_repository/,
    );
    expect(invalidMessage(() => validateTarget({ ...cluster, imageRepository: 'reg/models:v1' }))).toMatch(
      /without a tag or digest/,
    );
    expect(invalidMessage(() => validateTarget({ ...local, namespace: 'ml' }))).toMatch(/LOCAL target/);
    expect(invalidMessage(() => validateTarget({ ...cluster, kind: 'SAGEMAKER' as 'LOCAL' }))).toMatch(
      /Invalid target kind 'SAGEMAKER'/,
    );
  });
});

describe('rollout policies', () => {
  it("normalises a stage trigger to MLflow's capitalisation", () => {
    expect(validatePolicy(policy, cluster).trigger).toEqual({ kind: 'STAGE', value: 'Production' });
  });

  it.each([
    [{ trigger: { kind: 'STAGE', value: 'Archived' } }, /Staging or Production, not Archived/],
    [{ trigger: { kind: 'STAGE', value: 'prod' } }, /Invalid Model Version stage prod/],
    [{ trigger: { kind: 'ALIAS', value: 'latest' } }, /reserved/],
    [{ trigger: { kind: 'TAG', value: 'x' } }, /Invalid trigger kind 'TAG'/],
    [{ replicas: 0 }, /Invalid replicas 0/],
    [{ replicas: 1.5 }, /Invalid replicas 1.5/],
    [{ resources: { cpuRequest: 'lots' } }, /resources.cpu_request 'lots'/],
    [{ strategy: 'BLUE_GREEN' }, /Invalid strategy 'BLUE_GREEN'/],
    [{ strategy: 'CANARY' }, /needs canary.percent/],
    [{ strategy: 'CANARY', canary: { percent: 100, healthWindowSeconds: 60 } }, /canary.percent 100/],
    [{ canary: { percent: 10, healthWindowSeconds: 60 } }, /need strategy CANARY/],
    [
      { autoscaling: { minReplicas: 3, maxReplicas: 2, targetCpuUtilization: 80 } },
      /autoscaling.max_replicas 2: must be an integer from 3/,
    ],
    [{ name: 'Churn' }, /Invalid policy name 'Churn'/],
  ])('refuses %j', (change, message) => {
    expect(
      invalidMessage(() => validatePolicy({ ...policy, ...(change as Partial<PolicyInput>) }, cluster)),
    ).toMatch(message);
  });

  it('keeps a local target to one model server', () => {
    expect(invalidMessage(() => validatePolicy({ ...policy, targetName: 'local' }, local))).toMatch(
      /replicas 1/,
    );
    expect(validatePolicy({ ...policy, targetName: 'local', replicas: 1 }, local).replicas).toBe(1);
  });
});

describe('which registry events trigger which policies', () => {
  const policies: RolloutPolicy[] = [
    {
      ...(validatePolicy(policy, cluster) as RolloutPolicy),
      paused: false,
      creationTimestamp: 1,
      lastUpdatedTimestamp: 1,
    },
    {
      ...(validatePolicy(
        { ...policy, name: 'churn-champion', trigger: { kind: 'ALIAS', value: 'champion' } },
        cluster,
      ) as RolloutPolicy),
      paused: false,
      creationTimestamp: 1,
      lastUpdatedTimestamp: 1,
    },
    {
      ...(validatePolicy({ ...policy, name: 'churn-paused' }, cluster) as RolloutPolicy),
      paused: true,
      creationTimestamp: 1,
      lastUpdatedTimestamp: 1,
    },
  ];
  const envelope = { event_id: 'e', occurred_at: 1, source: 'registry' };

  it('a transition to the stage (any case) triggers the stage policies that are not paused', () => {
    const event = {
      ...envelope,
      type: 'MODEL_VERSION_STAGE_TRANSITIONED',
      payload: { name: 'churn', version: '3', from_stage: 'Staging', to_stage: 'PRODUCTION' },
    } as MastEvent;
    expect(rolloutsForEvent(event, policies)).toEqual([
      { policyName: 'churn-prod', modelName: 'churn', version: '3', cause: 'stage Production' },
    ]);
  });

  it('an alias set triggers the alias policy; other models, aliases, stages and events do not', () => {
    const alias = (name: string, a: string) =>
      ({ ...envelope, type: 'MODEL_ALIAS_SET', payload: { name, alias: a, version: '4' } }) as MastEvent;
    expect(rolloutsForEvent(alias('churn', 'champion'), policies)).toEqual([
      { policyName: 'churn-champion', modelName: 'churn', version: '4', cause: 'alias champion' },
    ]);
    expect(rolloutsForEvent(alias('churn', 'Champion'), policies)).toEqual([]);
    expect(rolloutsForEvent(alias('fraud', 'champion'), policies)).toEqual([]);
    const staging = {
      ...envelope,
      type: 'MODEL_VERSION_STAGE_TRANSITIONED',
      payload: { name: 'churn', version: '3', to_stage: 'Staging' },
    } as MastEvent;
    expect(rolloutsForEvent(staging, policies)).toEqual([]);
    const created = {
      ...envelope,
      type: 'MODEL_VERSION_CREATED',
      payload: { name: 'churn', version: '5' },
    } as MastEvent;
    expect(rolloutsForEvent(created, policies)).toEqual([]);
    const prompt = {
      ...envelope,
      type: 'MODEL_ALIAS_SET',
      payload: { name: 'churn', alias: 'champion', version: '1', is_prompt: true },
    } as MastEvent;
    expect(rolloutsForEvent(prompt, policies)).toEqual([]);
  });
});
