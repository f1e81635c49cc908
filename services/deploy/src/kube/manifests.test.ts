import { describe, expect, it } from '@jest/globals';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service } from 'kubernetes-models/v1';
import {
  type RolloutRequest,
  renderDeployment,
  renderInferenceService,
  renderManifests,
  validateRolloutRequest,
} from './manifests.js';

const image = `registry.example.com:5000/models/iris@sha256:${'a'.repeat(64)}`;
const full: RolloutRequest = {
  name: 'iris',
  namespace: 'ml',
  image,
  replicas: 3,
  port: 9000,
  resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
  strategy: { type: 'RollingUpdate', maxSurge: '25%', maxUnavailable: 0 },
  autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 75 },
  pdb: { minAvailable: 1 },
  labels: { 'mast.dev/model': 'iris', 'mast.dev/version': '3' },
  env: { MLFLOW_MODEL: 'iris' },
};

describe('renderManifests', () => {
  it('renders schema-valid Deployment, Service, HPA and PDB (kubernetes-models)', () => {
    const [deployment, service, hpa, pdb] = renderManifests(full);
    expect(() => new Deployment(deployment as any).validate()).not.toThrow();
    expect(() => new Service(service as any).validate()).not.toThrow();
    expect(() => new HorizontalPodAutoscaler(hpa as any).validate()).not.toThrow();
    expect(() => new PodDisruptionBudget(pdb as any).validate()).not.toThrow();
    // The validator does catch a wrong shape.
    const broken = { ...deployment, spec: { ...(deployment as any).spec, replicas: 'three' } };
    expect(() => new Deployment(broken as any).validate()).toThrow();
    expect(renderManifests({ ...full, autoscaling: undefined, pdb: undefined }).map((o) => o.kind)).toEqual([
      'Deployment',
      'Service',
    ]);
  });

  it('keeps selectors stable and free of version labels; the HPA owns replicas', () => {
    const d = renderDeployment(full);
    expect(d.spec!.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'iris',
      'mast.dev/track': 'stable',
    });
    expect(d.spec!.template.metadata!.labels).toMatchObject({
      'mast.dev/version': '3',
      'mast.dev/track': 'stable',
    });
    expect(d.spec!.replicas).toBeUndefined();
    expect(renderDeployment({ ...full, autoscaling: undefined }).spec!.replicas).toBe(3);
    const canary = renderDeployment(full, 'canary', 1);
    expect(canary.metadata!.name).toBe('iris-canary');
    expect(canary.spec!.replicas).toBe(1);
    expect(canary.spec!.selector.matchLabels!['mast.dev/track']).toBe('canary');
  });

  it('passes the port to the model server and probes its health routes on it', () => {
    const container = renderDeployment(full).spec!.template.spec!.containers[0];
    expect(container.ports).toEqual([{ name: 'http', containerPort: 9000, protocol: 'TCP' }]);
    expect(container.env).toEqual([
      { name: 'MAST_PORT', value: '9000' },
      { name: 'MLFLOW_MODEL', value: 'iris' },
    ]);
    expect(
      [container.startupProbe, container.readinessProbe, container.livenessProbe].map(
        (p) => p!.httpGet!.path,
      ),
    ).toEqual(['/ping', '/v2/health/ready', '/v2/health/live']);
  });

  it('renders a custom-predictor InferenceService, with canaryTrafficPercent only for a canary', () => {
    const isvc = renderInferenceService({ ...full, kserve: true }) as any;
    expect(isvc.spec.predictor).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
      scaleMetric: 'cpu',
      scaleTarget: 75,
    });
    expect(isvc.spec.predictor.containers[0]).toMatchObject({ name: 'kserve-container', image });
    expect(isvc.spec.predictor.canaryTrafficPercent).toBeUndefined();
    expect(
      (renderInferenceService({ ...full, kserve: true }, 10) as any).spec.predictor.canaryTrafficPercent,
    ).toBe(10);
    expect(renderManifests({ ...full, kserve: true }).map((o) => o.kind)).toEqual(['InferenceService']);
  });

  it("pulls the image with the target's Secret, on Deployments and InferenceServices alike", () => {
    const withSecret = { ...full, imagePullSecrets: ['registry-creds'] };
    const pod = renderDeployment(withSecret).spec!.template.spec!;
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-creds' }]);
    expect(() => new Deployment(renderDeployment(withSecret) as any).validate()).not.toThrow();
    expect(
      (renderInferenceService({ ...withSecret, kserve: true }) as any).spec.predictor.imagePullSecrets,
    ).toEqual([{ name: 'registry-creds' }]);
    // Without one the field is absent, so server-side apply does not claim it.
    expect(renderDeployment(full).spec!.template.spec!).not.toHaveProperty('imagePullSecrets');
  });

  it.each([
    [
      { image: 'registry.example.com/models/iris:3' },
      "image must be pinned by digest (repo@sha256:<64 hex>), got 'registry.example.com/models/iris:3'.",
    ],
    [{ name: 'Iris_Model' }, 'name must be a DNS-1123 label of at most 56 characters.'],
    [{ replicas: 0 }, 'replicas must be a positive integer, got 0.'],
    [{ port: 70000 }, 'port must be 1-65535, got 70000.'],
    [
      { progressDeadlineSeconds: 10, minReadySeconds: 10 },
      'progressDeadlineSeconds (10) must be greater than minReadySeconds (10).',
    ],
    [
      { pdb: { minAvailable: 1, maxUnavailable: 1 } },
      'pdb needs exactly one of minAvailable and maxUnavailable.',
    ],
    [{ env: { 'BAD NAME': 'x' } }, "env name 'BAD NAME' is not valid."],
    [{ canary: { trafficPercent: 120 } }, 'Canary traffic percent must be an integer 0-100, got 120.'],
  ] as Array<[Partial<RolloutRequest>, string]>)('refuses %j', (change, message) => {
    expect(() => validateRolloutRequest({ ...full, ...change })).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(message) }),
    );
  });
});
