import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newDeployment, transition } from '../src/domain/deployment-state.js';
import { KubeClient } from '../src/kube/client.js';
import type { RolloutRequest } from '../src/kube/manifests.js';
import { DEPLOY_WORKER_RULES } from '../src/kube/rbac.js';
import { rolloutDeployment } from '../src/kube/rollout.js';
import { type FakeKubeApiServer, startFakeKube, typeOfKind } from '../src/testing/fake-kube/index.js';

const PODS = typeOfKind('v1', 'Pod');
const DEPLOYMENTS = typeOfKind('apps/v1', 'Deployment');
const GOOD = `registry.example.com/models/iris@sha256:${'a'.repeat(64)}`;
const BAD = `registry.example.com/models/iris@sha256:${'b'.repeat(64)}`;

function request(image: string, overrides: Partial<RolloutRequest> = {}): RolloutRequest {
  return {
    name: 'iris',
    namespace: 'ml',
    image,
    replicas: 2,
    progressDeadlineSeconds: 120,
    minReadySeconds: 5,
    ...overrides,
  };
}

function built() {
  const t = new Date('2026-01-01T00:00:00Z');
  let h = newDeployment(t, 'alias champion set on iris v2');
  h = transition(h, 'BUILDING', 'build started', t);
  return transition(h, 'BUILT', 'image pushed', t);
}

let fake: FakeKubeApiServer;
let client: KubeClient;

beforeEach(async () => {
  fake = await startFakeKube();
  client = new KubeClient(fake.kubeConfig());
});
// Every request a rollout made is one the deploy worker's Role in the Helm chart grants.
afterEach(async () => {
  await fake.close();
  expect(fake.requestsOutside(DEPLOY_WORKER_RULES)).toEqual([]);
});

/** Rolls `rolloutRequest` out as the deploy job does (a built image, 30 s of job time); a failure rolls back to `lastGood`. */
function rollout(rolloutRequest: RolloutRequest, lastGood?: RolloutRequest) {
  return rolloutDeployment({
    client,
    request: rolloutRequest,
    ...(lastGood === undefined ? {} : { lastGood }),
    history: built(),
    jobTimeoutMs: 30_000,
  });
}

async function deploymentImage(): Promise<string | undefined> {
  const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
  return d?.spec.template.spec.containers[0].image;
}

describe('rolloutDeployment (fake Kubernetes API server over HTTP)', () => {
  it('rolls a healthy image out to LIVE, pinned by digest, with probes, Service, HPA and PDB applied', async () => {
    const transitions: string[] = [];
    const result = await fake.drive(
      rolloutDeployment({
        client,
        request: request(GOOD, {
          autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
          pdb: { minAvailable: 1 },
        }),
        history: built(),
        jobTimeoutMs: 30_000,
        onTransition: (h) => {
          transitions.push(h.state);
        },
      }),
    );
    expect(result.failure).toBeUndefined();
    expect(result.history.state).toBe('LIVE');
    expect(transitions).toEqual(['ROLLING_OUT', 'LIVE']);
    expect(result.history.transitions.at(-1)!.reason).toBe('deployment "iris" successfully rolled out');

    const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    const container = d.spec.template.spec.containers[0];
    expect(container.image).toBe(GOOD);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(container.livenessProbe.httpGet.path).toBe('/v2/health/live');
    expect(container.startupProbe.httpGet.path).toBe('/ping');
    expect(container.env).toContainEqual({ name: 'MAST_PORT', value: '8080' });
    expect(d.spec.replicas).toBeUndefined(); // the HPA owns it
    expect(d.metadata.managedFields.map((f: any) => [f.manager, f.operation])).toContainEqual([
      'mast-deploy',
      'Apply',
    ]);
    expect(d.status).toMatchObject({
      observedGeneration: d.metadata.generation,
      updatedReplicas: 1,
      availableReplicas: 1,
    });
    expect(d.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetAvailable' }),
    );
    const service = await client.read<any>('v1', 'Service', 'ml', 'iris');
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'iris' });
    expect(
      (await client.read<any>('autoscaling/v2', 'HorizontalPodAutoscaler', 'ml', 'iris')).spec.maxReplicas,
    ).toBe(5);
    expect((await client.read<any>('policy/v1', 'PodDisruptionBudget', 'ml', 'iris')).spec.minAvailable).toBe(
      1,
    );

    // Every write was a server-side apply by mast-deploy with force.
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(4);
    for (const p of patches) {
      expect(p.contentType).toBe('application/apply-patch+yaml');
      expect(p.query.get('fieldManager')).toBe('mast-deploy');
      expect(p.query.get('force')).toBe('true');
    }
  });

  it('re-applying the same spec is idempotent: no generation bump, no new revision', async () => {
    await fake.drive(rollout(request(GOOD)));
    const before = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    const again = await fake.drive(rollout(request(GOOD)));
    expect(again.history.state).toBe('LIVE');
    const after = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
  });

  it('rolls a crash-looping image back early: old image in the Deployment, rollback watched to healthy, old version serving throughout', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'crashloop' });
    let minGoodReady = Number.POSITIVE_INFINITY;
    fake.clock.onAdvance(() => {
      const ready = fake.store
        .list(PODS, 'ml', () => true)
        .filter(
          (p) =>
            p.spec.containers[0].image === GOOD &&
            p.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        );
      minGoodReady = Math.min(minGoodReady, ready.length);
    });
    const start = fake.clock.now();
    const result = await fake.drive(rollout(request(BAD), request(GOOD)));
    expect(result.history.transitions.map((t) => t.to).slice(3)).toEqual([
      'ROLLING_OUT',
      'FAILED',
      'ROLLED_BACK',
    ]);
    expect(result.failure).toMatchObject({
      reason: 'CrashLoopBackOff',
      pod: { container: 'model-server', reason: 'CrashLoopBackOff' },
    });
    expect(result.failure!.message).toMatch(
      /^deployment "iris" cannot roll out: pod iris-\w+-\w+ container model-server is CrashLoopBackOff \(restarts: 3\)/,
    );
    expect(result.history.transitions.at(-1)!.reason).toBe(
      `re-applied last-good image ${GOOD}: deployment "iris" successfully rolled out`,
    );
    // Detected long before the 120 s progress deadline (restart 3 comes at about 22 s of fake time).
    expect(fake.clock.now() - start).toBeLessThan(60_000);
    expect(await deploymentImage()).toBe(GOOD);
    const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    expect(d.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    // The controller re-adopted the old template (FoundNewReplicaSet) as revision 3.
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(minGoodReady).toBe(2);
    const pods = fake.store.list(PODS, 'ml', () => true);
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual([GOOD, GOOD]);
  });

  it('fails early on an unpullable image and rolls back', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'unpullable' });
    const result = await fake.drive(rollout(request(BAD), request(GOOD)));
    // ErrImagePull turns into ImagePullBackOff after 5 s of fake time; which one the watch sees first
    // depends on how far the clock ran while the apply was in flight. Both fail at once.
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(result.failure?.reason);
    expect(result.failure?.message).toContain(`image "${BAD}"`);
    expect(result.history.state).toBe('ROLLED_BACK');
    expect(await deploymentImage()).toBe(GOOD);
  });

  it('fails on ProgressDeadlineExceeded for pods that never become ready, then rolls back', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'never-ready' });
    const start = fake.clock.now();
    const result = await fake.drive(rollout(request(BAD), request(GOOD)), 2000);
    expect(result.failure).toEqual({
      reason: 'ProgressDeadlineExceeded',
      message: 'deployment "iris" exceeded its progress deadline',
    });
    expect(fake.clock.now() - start).toBeGreaterThan(120_000);
    expect(result.history.transitions.slice(-2).map((t) => [t.to, t.reason])).toEqual([
      ['FAILED', 'deployment "iris" exceeded its progress deadline'],
      ['ROLLED_BACK', `re-applied last-good image ${GOOD}: deployment "iris" successfully rolled out`],
    ]);
    expect(await deploymentImage()).toBe(GOOD);
  });

  it('fails on the job timeout when the cluster never decides, and still rolls back', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'never-ready' });
    // Fake time crawls (100 ms a step): the 600 s progress deadline is thousands of steps away, so the
    // 0.4 s wall-clock budget ends the watch first.
    const failing = rolloutDeployment({
      client,
      request: request(BAD, { progressDeadlineSeconds: 600 }),
      lastGood: request(GOOD),
      history: built(),
      jobTimeoutMs: 400,
    });
    const result = await fake.drive(failing, 100, 5000);
    expect(result.failure?.reason).toBe('JobTimeout');
    expect(result.failure?.message).toMatch(
      /^deployment "iris" did not finish within 0.4 s: Waiting for deployment "iris" rollout to finish/,
    );
  });

  it('reports a refused apply (403 Forbidden) clearly and rolls nothing back', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.injectFailure({
      method: 'PATCH',
      plural: 'deployments',
      status: 403,
      reason: 'Forbidden',
      message:
        'deployments.apps "iris" is forbidden: User "system:serviceaccount:mast:deploy" cannot patch resource "deployments" in API group "apps" in the namespace "ml"',
    });
    const result = await rollout(request(BAD), request(GOOD));
    expect(result.history.state).toBe('FAILED');
    expect(result.failure).toEqual({
      reason: 'Forbidden',
      message:
        'apply Deployment ml/iris refused by the Kubernetes API server: 403 Forbidden: deployments.apps "iris" is forbidden: User "system:serviceaccount:mast:deploy" cannot patch resource "deployments" in API group "apps" in the namespace "ml"',
    });
    expect(fake.requests.filter((r) => r.method === 'PATCH' && r.status === 403)).toHaveLength(1);
    expect(await deploymentImage()).toBe(GOOD);
  });

  it('rolls back when a later object is refused (422 Invalid) after the Deployment was applied', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.injectFailure({
      method: 'PATCH',
      plural: 'services',
      status: 422,
      reason: 'Invalid',
      message: 'Service "iris" is invalid: spec.ports[0].port: Invalid value',
    });
    const result = await fake.drive(rollout(request(BAD), request(GOOD)));
    expect(result.failure?.reason).toBe('Invalid');
    expect(result.failure?.message).toContain(
      'apply Service ml/iris refused by the Kubernetes API server: 422 Invalid',
    );
    expect(result.history.state).toBe('ROLLED_BACK');
    expect(await deploymentImage()).toBe(GOOD);
  });

  it('refuses a request whose image is a tag before sending anything', async () => {
    const result = await rolloutDeployment({
      client,
      request: request('registry.example.com/models/iris:latest'),
      history: built(),
    });
    expect(result.history.state).toBe('FAILED');
    expect(result.failure?.message).toBe(
      "Invalid rollout for 'iris': image must be pinned by digest (repo@sha256:<64 hex>), got 'registry.example.com/models/iris:latest'.",
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('stops without rolling back when someone else rolls over the Deployment (Superseded)', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'never-ready' });
    const OTHER = `registry.example.com/models/iris@sha256:${'c'.repeat(64)}`;
    const inFlight = rollout(request(BAD), request(GOOD));
    for (
      let i = 0;
      i < 500 &&
      fake.store.get(DEPLOYMENTS, 'ml', 'iris')?.metadata.annotations?.[
        'deployment.kubernetes.io/revision'
      ] !== '2';
      i++
    ) {
      await fake.tick(1000);
    }
    fake.store.mergePatch(
      DEPLOYMENTS,
      'ml',
      'iris',
      { spec: { template: { spec: { containers: [{ name: 'model-server', image: OTHER }] } } } },
      'kubectl-edit',
    );
    const result = await fake.drive(inFlight);
    expect(result.failure?.reason).toBe('Superseded');
    // Which of the two signs the watch sees first depends on timing; both mean someone else's rollout.
    expect(result.failure?.message).toMatch(
      /^deployment "iris" was rolled over by someone else: (desired revision \(2\) is different from the running revision \(3\)|its pods no longer run .*@sha256:b{64})$/,
    );
    expect(result.history.state).toBe('FAILED');
    expect(await deploymentImage()).toBe(OTHER);
  });

  it('never reports success before the controller observed the new generation', async () => {
    await fake.drive(rollout(request(GOOD)));
    const NEXT = `registry.example.com/models/iris@sha256:${'d'.repeat(64)}`;
    fake.deployments.paused = true;
    let settled = false;
    const inFlight = rollout(request(NEXT), request(GOOD));
    void inFlight.finally(() => {
      settled = true;
    });
    // The status still describes the old, complete rollout: only the generation gate holds the waiter.
    await fake.tick(1000, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stale = fake.store.get(DEPLOYMENTS, 'ml', 'iris')!;
    expect(stale.metadata.generation).toBe(stale.status.observedGeneration + 1);
    expect(stale.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(settled).toBe(false);
    fake.deployments.paused = false;
    const result = await fake.drive(inFlight);
    expect(result.history.state).toBe('LIVE');
    expect(await deploymentImage()).toBe(NEXT);
  });

  it('fails on pods unschedulable for longer than the limit (fake-clock time) and rolls back', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'unschedulable' });
    const result = await fake.drive(
      rolloutDeployment({
        client,
        request: request(BAD),
        lastGood: request(GOOD),
        history: built(),
        jobTimeoutMs: 30_000,
        unschedulableForMs: 30_000,
        now: () => new Date(fake.clock.now()),
      }),
    );
    expect(result.failure?.reason).toBe('Unschedulable');
    expect(result.failure?.message).toMatch(
      /is unschedulable: 0\/3 nodes are available: 3 Insufficient memory\.$/,
    );
    expect(result.history.state).toBe('ROLLED_BACK');
    // Transition times come from the injected clock.
    expect(result.history.transitions.at(-1)!.at.getTime()).toBeLessThanOrEqual(fake.clock.now());
    expect(await deploymentImage()).toBe(GOOD);
  });

  const SCALED: Partial<RolloutRequest> = {
    autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
    pdb: { minAvailable: 1 },
  };
  const hpa = () => client.read<any>('autoscaling/v2', 'HorizontalPodAutoscaler', 'ml', 'iris');
  const pdb = () => client.read<any>('policy/v1', 'PodDisruptionBudget', 'ml', 'iris');
  /** The DELETEs the fake answered, as `status plural/name`. */
  const deletes = () =>
    fake.requests
      .filter((r) => r.method === 'DELETE')
      .map((r) => `${r.status} ${r.path.split('/').slice(-2).join('/')}`);

  it('rolls back a failed rollout whose spec added an HPA and PDB: ROLLED_BACK with neither left', async () => {
    await fake.drive(rollout(request(GOOD)));
    fake.setImageBehaviour(BAD, { kind: 'crashloop' });
    const result = await fake.drive(rollout(request(BAD, SCALED), request(GOOD)));
    expect(result.failure?.reason).toBe('CrashLoopBackOff');
    expect(result.history.state).toBe('ROLLED_BACK');
    expect(result.history.transitions.at(-1)!.reason).toBe(
      `re-applied last-good image ${GOOD} and deleted HorizontalPodAutoscaler ml/iris, PodDisruptionBudget ml/iris: deployment "iris" successfully rolled out`,
    );
    // The failed spec did create both (201 applies), and the rollback deleted them.
    const created = fake.requests.filter((r) => r.method === 'PATCH' && r.status === 201);
    expect(created.map((r) => r.path.split('/').at(-2))).toEqual(
      expect.arrayContaining(['horizontalpodautoscalers', 'poddisruptionbudgets']),
    );
    expect(deletes()).toEqual(['200 horizontalpodautoscalers/iris', '200 poddisruptionbudgets/iris']);
    expect(await hpa()).toBeUndefined();
    expect(await pdb()).toBeUndefined();
    expect(await deploymentImage()).toBe(GOOD);
    // Without the HPA the last-good replica count is Mast's again.
    const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    expect(d.spec.replicas).toBe(2);
    expect(d.status).toMatchObject({ replicas: 2, availableReplicas: 2 });
  });

  it('restores the HPA and PDB the last-good spec had when a rollout that changed or dropped them fails', async () => {
    await fake.drive(rollout(request(GOOD, SCALED)));
    const before = { hpa: (await hpa()).metadata.uid, pdb: (await pdb()).metadata.uid };
    fake.setImageBehaviour(BAD, { kind: 'never-ready' });
    // The new spec scales further and has no PDB: the rollout changes the HPA and deletes the PDB.
    const failing = request(BAD, {
      autoscaling: { minReplicas: 3, maxReplicas: 8, targetCPUUtilizationPercentage: 50 },
    });
    const failingRollout = rollout(failing, request(GOOD, SCALED));
    const during: Array<{ maxReplicas?: number; pdb: boolean }> = [];
    fake.clock.onAdvance(() => {
      const live = fake.store.get(typeOfKind('autoscaling/v2', 'HorizontalPodAutoscaler'), 'ml', 'iris');
      const budget = fake.store.get(typeOfKind('policy/v1', 'PodDisruptionBudget'), 'ml', 'iris');
      during.push({ maxReplicas: live?.spec.maxReplicas, pdb: budget !== undefined });
    });
    const result = await fake.drive(failingRollout, 2000);
    expect(result.failure?.reason).toBe('ProgressDeadlineExceeded');
    expect(result.history.state).toBe('ROLLED_BACK');
    expect(result.history.transitions.find((t) => t.to === 'ROLLING_OUT')!.reason).toBe(
      `applying Deployment ml/iris, Service ml/iris, HorizontalPodAutoscaler ml/iris with image ${BAD}, then deleting PodDisruptionBudget ml/iris`,
    );
    expect(during).toContainEqual({ maxReplicas: 8, pdb: false });
    expect(deletes()).toEqual(['200 poddisruptionbudgets/iris']);
    // The rollback re-applied both: the HPA's fields are the last-good ones, the PDB exists again.
    expect((await hpa()).spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect((await hpa()).spec.metrics[0].resource.target.averageUtilization).toBe(70);
    expect((await hpa()).metadata.uid).toBe(before.hpa);
    const restored = await pdb();
    expect(restored.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'iris' } },
    });
    expect(restored.metadata.uid).not.toBe(before.pdb);
    expect(result.history.transitions.at(-1)!.reason).toBe(
      `re-applied last-good image ${GOOD}: deployment "iris" successfully rolled out`,
    );
    expect(await deploymentImage()).toBe(GOOD);
  });

  it('deletes the HPA and PDB of the last-good spec when the new spec has none, and goes LIVE', async () => {
    await fake.drive(rollout(request(GOOD, SCALED)));
    const NEXT = `registry.example.com/models/iris@sha256:${'e'.repeat(64)}`;
    const result = await fake.drive(rollout(request(NEXT, { replicas: 3 }), request(GOOD, SCALED)));
    expect(result.history.state).toBe('LIVE');
    expect(deletes()).toEqual(['200 horizontalpodautoscalers/iris', '200 poddisruptionbudgets/iris']);
    expect(await hpa()).toBeUndefined();
    expect(await pdb()).toBeUndefined();
    const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    expect(d.spec.replicas).toBe(3);
    expect(d.status.availableReplicas).toBe(3);
  });

  it('leaves the replica count an HPA chose alone when re-applying', async () => {
    const scaled = request(GOOD, {
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 },
    });
    await fake.drive(rollout(scaled));
    fake.store.mergePatch(DEPLOYMENTS, 'ml', 'iris', { spec: { replicas: 4 } }, 'horizontal-pod-autoscaler');
    const result = await fake.drive(rollout(scaled));
    expect(result.history.state).toBe('LIVE');
    const d = await client.read<any>('apps/v1', 'Deployment', 'ml', 'iris');
    expect(d.spec.replicas).toBe(4);
    expect(d.status.availableReplicas).toBe(4);
  });
});
