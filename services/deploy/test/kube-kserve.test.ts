import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newDeployment, transition } from '../src/domain/deployment-state.js';
import { KubeClient } from '../src/kube/client.js';
import type { RolloutRequest } from '../src/kube/manifests.js';
import { DEPLOY_WORKER_RULES, KSERVE_RULES } from '../src/kube/rbac.js';
import { rolloutDeployment } from '../src/kube/rollout.js';
import { type FakeKubeApiServer, startFakeKube } from '../src/testing/fake-kube/index.js';

const GOOD = `registry.example.com/models/iris@sha256:${'a'.repeat(64)}`;
const BAD = `registry.example.com/models/iris@sha256:${'b'.repeat(64)}`;
const request = (image: string): RolloutRequest => ({
  name: 'iris',
  namespace: 'ml',
  image,
  kserve: true,
  autoscaling: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80 },
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
});

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

describe('KServe InferenceService rollout (fake Kubernetes API server over HTTP)', () => {
  it('applies a custom-predictor InferenceService and waits for Ready', async () => {
    const result = await fake.drive(
      rolloutDeployment({ client, request: request(GOOD), history: built(), jobTimeoutMs: 30_000 }),
    );
    expect(result.history.state).toBe('LIVE');
    expect(result.history.transitions.at(-1)!.reason).toBe('inference service "iris" is ready');
    const isvc = await client.read<any>('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris');
    expect(isvc.spec.predictor).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
      scaleMetric: 'cpu',
      scaleTarget: 80,
      containers: [
        {
          name: 'kserve-container',
          image: GOOD,
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: 'http' } },
        },
      ],
    });
    expect(isvc.status.observedGeneration).toBe(isvc.metadata.generation);
    expect(isvc.status.url).toBe('http://iris.ml.example.com');
    // Discovery found the CRD's path; the write was a server-side apply by mast-deploy.
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      'GET /apis/serving.kserve.io/v1beta1',
    );
    const apply = fake.requests.find((r) => r.method === 'PATCH')!;
    expect(apply.path).toBe('/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/iris');
    expect(apply.contentType).toBe('application/apply-patch+yaml');
  });

  it('rolls back a model that fails to load, with the KServe failure as the reason', async () => {
    await fake.drive(
      rolloutDeployment({ client, request: request(GOOD), history: built(), jobTimeoutMs: 30_000 }),
    );
    fake.setImageBehaviour(BAD, { kind: 'unpullable' });
    const result = await fake.drive(
      rolloutDeployment({
        client,
        request: request(BAD),
        lastGood: request(GOOD),
        history: built(),
        jobTimeoutMs: 30_000,
      }),
    );
    expect(result.failure).toEqual({
      reason: 'ModelLoadFailed',
      message: 'inference service "iris" failed: revision iris-predictor-00002: container image not pullable',
    });
    expect(result.history.state).toBe('ROLLED_BACK');
    const isvc = await client.read<any>('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris');
    expect(isvc.spec.predictor.containers[0].image).toBe(GOOD);
    expect(isvc.status.components.predictor.latestRolledoutRevision).toBe('iris-predictor-00003');
  });
});
