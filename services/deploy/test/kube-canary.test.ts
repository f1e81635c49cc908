import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newDeployment, transition } from '../src/domain/deployment-state.js';
import { rolloutCanary } from '../src/kube/canary.js';
import { KubeClient } from '../src/kube/client.js';
import type { RolloutRequest } from '../src/kube/manifests.js';
import { DEPLOY_WORKER_RULES, KSERVE_RULES } from '../src/kube/rbac.js';
import { rolloutDeployment } from '../src/kube/rollout.js';
import { type FakeKubeApiServer, startFakeKube, typeOfKind } from '../src/testing/fake-kube/index.js';

const PODS = typeOfKind('v1', 'Pod');
const ISVC = typeOfKind('serving.kserve.io/v1beta1', 'InferenceService');
const STABLE = `registry.example.com/models/iris@sha256:${'a'.repeat(64)}`;
const NEXT = `registry.example.com/models/iris@sha256:${'b'.repeat(64)}`;

let fake: FakeKubeApiServer;
let client: KubeClient;

beforeEach(async () => {
  fake = await startFakeKube();
  client = new KubeClient(fake.kubeConfig());
});
// Every request a rollout made is one the deploy worker's Role in the Helm chart grants.
afterEach(async () => {
  await fake.close();
  expect(fake.requestsOutside([...DEPLOY_WORKER_RULES, ...KSERVE_RULES])).toEqual([]);
});

function built() {
  const t = new Date('2026-01-01T00:00:00Z');
  return transition(transition(newDeployment(t, 'alias set'), 'BUILDING', 'build', t), 'BUILT', 'built', t);
}

describe.each([
  ['Deployment', false],
  ['KServe InferenceService', true],
])('canary of a %s (fake Kubernetes API server over HTTP)', (_kind, kserve) => {
  const base = (image: string): RolloutRequest => ({
    name: 'iris',
    namespace: 'ml',
    image,
    replicas: 4,
    minReadySeconds: 5,
    progressDeadlineSeconds: 120,
    kserve,
  });
  const canary = (image: string): RolloutRequest => ({ ...base(image), canary: { trafficPercent: 25 } });

  async function stableLive(): Promise<void> {
    const result = await fake.drive(
      rolloutDeployment({ client, request: base(STABLE), history: built(), jobTimeoutMs: 30_000 }),
    );
    expect(result.history.state).toBe('LIVE');
  }

  const images = () =>
    fake.store
      .list(PODS, 'ml', () => true)
      .map(
        (p) =>
          `${p.metadata.labels!['mast.dev/track']}:${p.spec.containers[0].image === NEXT ? 'next' : 'stable'}`,
      );

  it('promotes a healthy canary after the health window', async () => {
    await stableLive();
    const split: string[][] = [];
    const traffic: unknown[] = [];
    fake.clock.onAdvance(() => {
      split.push(images().sort());
      traffic.push(fake.store.get(ISVC, 'ml', 'iris')?.status?.components?.predictor?.traffic);
    });
    const result = await fake.drive(
      rolloutCanary({
        client,
        request: canary(NEXT),
        lastGood: base(STABLE),
        healthWindowMs: 300,
        history: built(),
        jobTimeoutMs: 30_000,
      }),
      500,
    );
    expect(result.failure).toBeUndefined();
    expect(result.history.transitions.slice(3).map((t) => t.to)).toEqual(['ROLLING_OUT', 'LIVE']);
    expect(result.history.transitions.at(-1)!.reason).toMatch(
      /^canary promoted after a 0.3 s health window: /,
    );
    if (kserve) {
      const isvc = await client.read<any>('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris');
      expect(isvc.spec.predictor.containers[0]).toMatchObject({ name: 'kserve-container', image: NEXT });
      expect(isvc.spec.predictor.canaryTrafficPercent).toBeUndefined();
      expect(isvc.status.components.predictor).toMatchObject({
        latestRolledoutRevision: 'iris-predictor-00002',
        previousRolledoutRevision: 'iris-predictor-00001',
        traffic: [{ revisionName: 'iris-predictor-00002', percent: 100, latestRevision: true }],
      });
      // The canary split was served on the way: 25 % to the new revision, 75 % to the old.
      expect(traffic).toContainEqual([
        { revisionName: 'iris-predictor-00002', percent: 25, tag: 'latest', latestRevision: true },
        { revisionName: 'iris-predictor-00001', percent: 75, tag: 'prev', latestRevision: false },
      ]);
      const patches = fake.requests.filter(
        (r) => r.method === 'PATCH' && r.path.endsWith('/inferenceservices/iris'),
      );
      expect(patches).toHaveLength(3); // stable, canary at 25 %, promotion
    } else {
      // During the canary: 3 stable pods and 1 canary pod behind the one Service.
      expect(split).toContainEqual(['canary:next', 'stable:stable', 'stable:stable', 'stable:stable']);
      expect(images().sort()).toEqual(['stable:next', 'stable:next', 'stable:next', 'stable:next']);
      expect(await client.read('apps/v1', 'Deployment', 'ml', 'iris-canary')).toBeUndefined();
      const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
      expect(d.spec.replicas).toBe(4);
      expect(d.spec.template.spec.containers[0].image).toBe(NEXT);
    }
  });

  it('rolls a crash-looping canary back, the stable version serving throughout', async () => {
    await stableLive();
    fake.setImageBehaviour(NEXT, { kind: 'crashloop' });
    const result = await fake.drive(
      rolloutCanary({
        client,
        request: canary(NEXT),
        lastGood: base(STABLE),
        healthWindowMs: 300,
        history: built(),
        jobTimeoutMs: 30_000,
      }),
      500,
    );
    expect(result.history.transitions.slice(3).map((t) => t.to)).toEqual([
      'ROLLING_OUT',
      'FAILED',
      'ROLLED_BACK',
    ]);
    expect(result.failure?.reason).toBe(kserve ? 'ModelLoadFailed' : 'CrashLoopBackOff');
    if (kserve) {
      const isvc = await client.read<any>('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris');
      expect(isvc.spec.predictor.containers[0].image).toBe(STABLE);
      expect(isvc.spec.predictor.canaryTrafficPercent).toBeUndefined();
      expect(isvc.status.conditions).toContainEqual({ type: 'Ready', status: 'True' });
      expect(isvc.status.components.predictor.traffic).toEqual([
        { revisionName: 'iris-predictor-00003', percent: 100, latestRevision: true },
      ]);
    } else {
      expect(await client.read('apps/v1', 'Deployment', 'ml', 'iris-canary')).toBeUndefined();
      expect(images().sort()).toEqual(['stable:stable', 'stable:stable', 'stable:stable', 'stable:stable']);
      const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
      expect(d.spec.replicas).toBe(4);
      expect(d.status.availableReplicas).toBe(4);
    }
  });
});
