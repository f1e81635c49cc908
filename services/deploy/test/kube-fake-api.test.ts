import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpClient } from '@mast/test-support';
import { KubeApiError, KubeClient } from '../src/kube/client.js';
import { renderDeployment, renderHorizontalPodAutoscaler, renderService } from '../src/kube/manifests.js';
import { type FakeKubeApiServer, startFakeKube, typeOfKind } from '../src/testing/fake-kube/index.js';

const DEPLOYMENTS = typeOfKind('apps/v1', 'Deployment');
const request = {
  name: 'iris',
  namespace: 'ml',
  image: `r.example.com/iris@sha256:${'a'.repeat(64)}`,
  replicas: 2,
};

let fake: FakeKubeApiServer;
let client: KubeClient;
let http: HttpClient;

beforeAll(async () => {
  fake = await startFakeKube();
  client = new KubeClient(fake.kubeConfig());
  http = new HttpClient(fake.url);
  await client.apply(renderDeployment(request));
});
afterAll(() => fake.close());

// The fake's own protocol behaviour, which the rollout tests rely on (spec deploy.md §6.2).
describe('the fake Kubernetes API server over HTTP', () => {
  it('serves discovery for core, apps, autoscaling, policy and KServe', async () => {
    expect((await http.request('GET', '/api')).body.versions).toEqual(['v1']);
    const groups = (await http.request('GET', '/apis')).body.groups.map(
      (g: any) => g.preferredVersion.groupVersion,
    );
    expect(groups).toEqual(['apps/v1', 'autoscaling/v2', 'policy/v1', 'serving.kserve.io/v1beta1']);
    const apps = (await http.request('GET', '/apis/apps/v1')).body;
    expect(apps.resources.map((r: any) => r.name)).toEqual([
      'deployments',
      'deployments/status',
      'deployments/scale',
      'replicasets',
    ]);
    expect((await http.request('GET', '/apis/batch/v1')).body).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
    });
  });

  it('never bumps the generation for status writes or no-op applies', async () => {
    const before = fake.store.get(DEPLOYMENTS, 'ml', 'iris')!;
    fake.store.writeStatus(DEPLOYMENTS, 'ml', 'iris', { observedGeneration: 1, replicas: 7 });
    await client.apply(renderDeployment(request));
    const after = fake.store.get(DEPLOYMENTS, 'ml', 'iris')!;
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    const changed = await client.apply(renderDeployment({ ...request, replicas: 3 }));
    expect(changed.metadata?.generation).toBe(before.metadata.generation! + 1);
  });

  it('answers an apply that takes a field another manager owns with 409 Conflict unless forced', async () => {
    fake.store.mergePatch(DEPLOYMENTS, 'ml', 'iris', { spec: { replicas: 9 } }, 'hpa-controller');
    const error = await client
      .apply(renderDeployment({ ...request, replicas: 2 }), { force: false })
      .catch((e) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({
      status: 409,
      reason: 'Conflict',
      causes: [{ field: '.spec.replicas', message: 'conflict with "hpa-controller" using apps/v1' }],
    });
    expect(error.message).toBe(
      'apply Deployment ml/iris refused by the Kubernetes API server: 409 Conflict: Apply failed with 1 conflict: conflict with "hpa-controller" using apps/v1: .spec.replicas',
    );
    const forced = await client.apply(renderDeployment({ ...request, replicas: 2 }));
    expect((forced as any).spec.replicas).toBe(2);
    expect((forced.metadata?.managedFields ?? []).map((f) => f.manager)).toEqual(['mast-deploy']);
  });

  it('drops fields the manager stopped applying', async () => {
    await client.apply({
      ...renderDeployment(request),
      metadata: { ...renderDeployment(request).metadata, annotations: { 'mast.dev/model-version': '3' } },
    });
    expect(fake.store.get(DEPLOYMENTS, 'ml', 'iris')!.metadata.annotations).toMatchObject({
      'mast.dev/model-version': '3',
    });
    await client.apply(renderDeployment(request));
    expect(
      fake.store.get(DEPLOYMENTS, 'ml', 'iris')!.metadata.annotations?.['mast.dev/model-version'],
    ).toBeUndefined();
  });

  it('refuses an apply without fieldManager, force on a merge patch, and an unknown patch type', async () => {
    const path = '/apis/apps/v1/namespaces/ml/deployments/iris';
    const body = JSON.stringify(renderDeployment(request));
    const noManager = await http.request('PATCH', path, body, {
      'content-type': 'application/apply-patch+yaml',
    });
    expect(noManager.status).toBe(400);
    expect(noManager.body.message).toContain('fieldManager: Required value');
    const forced = await http.request('PATCH', `${path}?force=true`, '{}', {
      'content-type': 'application/merge-patch+json',
    });
    expect(forced.body).toMatchObject({ code: 400, reason: 'BadRequest' });
    const json = await http.request('PATCH', path, '[]', { 'content-type': 'application/json-patch+json' });
    expect(json.body).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
  });

  it('validates Deployments (422 Invalid with causes) and honours dryRun', async () => {
    const invalid = renderDeployment({ ...request, name: 'broken' });
    invalid.spec!.progressDeadlineSeconds = 5;
    const error = await client.apply(invalid).catch((e) => e);
    expect(error).toMatchObject({
      status: 422,
      reason: 'Invalid',
      causes: [expect.objectContaining({ field: 'spec.progressDeadlineSeconds' })],
    });
    await client.apply(renderDeployment({ ...request, name: 'dry' }), { dryRun: true });
    expect(await client.read('apps/v1', 'Deployment', 'ml', 'dry')).toBeUndefined();
  });

  it('creates with POST (409 AlreadyExists the second time) and replaces with PUT only at the current resourceVersion', async () => {
    const path = '/api/v1/namespaces/ml/services';
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'extra' },
      spec: { ports: [{ port: 80 }] },
    };
    const created = await http.request('POST', path, service);
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ namespace: 'ml', generation: 1 });
    expect((await http.request('POST', path, service)).body).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
    });
    const stale = { ...created.body, metadata: { ...created.body.metadata, resourceVersion: '1' } };
    expect((await http.request('PUT', `${path}/extra`, stale)).body).toMatchObject({
      code: 409,
      reason: 'Conflict',
    });
    const replaced = await http.request('PUT', `${path}/extra`, {
      ...created.body,
      spec: { ports: [{ port: 81 }] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.metadata.generation).toBe(2);
  });

  it('deletes an HPA as the API server does: Status Success, a DELETED watch event, then 404 NotFound', async () => {
    const scaled = {
      ...request,
      autoscaling: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80 },
    };
    const live = await client.apply(renderHorizontalPodAutoscaler(scaled)!);
    const path = '/apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/iris';
    const events: Array<{ type: string; rv: string }> = [];
    const watch = await fetch(
      `${fake.url}/apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers?watch=true&resourceVersion=${live.metadata!.resourceVersion}`,
    );
    const reader = watch.body!.getReader();

    // Neither a dry run nor a stale precondition removes it; an unknown propagation policy is invalid.
    expect((await http.request('DELETE', `${path}?dryRun=All`)).status).toBe(200);
    const stale = await http.request('DELETE', path, { preconditions: { uid: 'not-its-uid' } });
    expect(stale.body).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "iris": Precondition failed: UID in precondition: not-its-uid, UID in object meta: ${live.metadata!.uid}`,
    });
    expect((await http.request('DELETE', `${path}?propagationPolicy=Sideways`)).body).toMatchObject({
      code: 422,
      reason: 'Invalid',
      details: { kind: 'DeleteOptions' },
    });
    expect(await client.read('autoscaling/v2', 'HorizontalPodAutoscaler', 'ml', 'iris')).toBeDefined();

    const deleted = await http.request('DELETE', `${path}?propagationPolicy=Background`, {
      preconditions: { uid: live.metadata!.uid },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: 'iris',
        group: 'autoscaling',
        kind: 'horizontalpodautoscalers',
        uid: live.metadata!.uid,
      },
    });
    const { value } = await reader.read();
    for (const line of new TextDecoder().decode(value).trim().split('\n')) {
      const event = JSON.parse(line);
      events.push({ type: event.type, rv: event.object.metadata.resourceVersion });
    }
    await reader.cancel();
    expect(events).toEqual([{ type: 'DELETED', rv: fake.store.currentRv() }]);

    const again = await http.request('DELETE', path);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'horizontalpodautoscalers.autoscaling "iris" not found',
      reason: 'NotFound',
      details: { name: 'iris', group: 'autoscaling', kind: 'horizontalpodautoscalers' },
      code: 404,
    });
    expect(await client.delete('autoscaling/v2', 'HorizontalPodAutoscaler', 'ml', 'iris')).toBe(false);
    // The core group has no suffix in messages.
    await client.apply(renderService(request));
    await client.delete('v1', 'Service', 'ml', 'iris');
    expect((await http.request('DELETE', '/api/v1/namespaces/ml/services/iris')).body.message).toBe(
      'services "iris" not found',
    );
  });

  it('lists with label selectors and reads, deletes, 404s', async () => {
    const { items, resourceVersion } = await client.list('apps/v1', 'Deployment', 'ml', {
      labelSelector: 'app.kubernetes.io/name=iris,mast.dev/track in (stable)',
    });
    expect(items.map((i) => i.metadata?.name)).toEqual(['iris']);
    expect(resourceVersion).toBe(fake.store.currentRv());
    expect(
      (await client.list('apps/v1', 'Deployment', 'ml', { labelSelector: 'mast.dev/track!=stable' })).items,
    ).toEqual([]);
    expect(await client.delete('apps/v1', 'Deployment', 'ml', 'iris')).toBe(true);
    expect(await client.delete('apps/v1', 'Deployment', 'ml', 'iris')).toBe(false);
    expect(await client.read('apps/v1', 'Deployment', 'ml', 'iris')).toBeUndefined();
  });
});
