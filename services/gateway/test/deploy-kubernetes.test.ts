/**
 * Automated rollout to a KUBERNETES target, end to end in `mast server` (all-in-one): a version moved
 * to Production → the deploy worker downloads it, builds its image without a daemon and pushes it to a
 * real OCI registry (Debian's docker-registry, checked with skopeo) → server-side applies a Deployment
 * pinned by digest to a protocol-level fake Kubernetes API server over HTTP (simulated Deployment
 * controller on a fake clock) → LIVE. A crash-looping next version ends ROLLED_BACK with the previous
 * image back in the Deployment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { RegistryClient } from '../../deploy/src/oci/client.js';
import { type FakeKubeApiServer, startFakeKube } from '../../deploy/src/testing/fake-kube/index.js';
import {
  pushSyntheticImage,
  skopeoInspect,
  startRegistry,
  type TestRegistry,
} from '../../deploy/test/support/oci-registry.js';
import { logAndRegister } from '../../model-server/test/serve-support.js';
import { generateTestModels } from '../../model-server/test/support/models.js';
import { deploymentOf } from './deployments.js';
import { useAllInOne } from './harness.js';

const API = '/api/2.0/mlflow';
const DEPLOY = '/api/2.0/mast/deployments';

describe('automated rollout to Kubernetes (real OCI registry, fake Kubernetes API server over HTTP)', () => {
  let registry: TestRegistry;
  let kube: FakeKubeApiServer;
  let ticking = true;
  let ticker: NodeJS.Timeout;
  const dir = mkdtempSync(join(tmpdir(), 'mast-deploy-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');

  async function clusterImage(): Promise<string | undefined> {
    const deployment = kube.store.get(kube.deploymentsType, 'ml', 'churn-prod') as any;
    return deployment?.spec.template.spec.containers[0].image;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    await pushSyntheticImage(client, 'base/model-server', '1', 'oci');
    await pushSyntheticImage(client, 'base/python', '1', 'docker');
    kube = await startFakeKube();
    // The simulated controllers run on the fake clock: ten simulated seconds per 20 ms.
    ticker = setInterval(() => {
      if (ticking) void kube.tick(1000, 10);
    }, 20);
    writeFileSync(kubeconfig, kube.kubeConfig().exportConfig());
  });
  const mast = useAllInOne({
    name: 'mast-deploy-kube-server-',
    env: () => ({
      MAST_DEPLOY_MODEL_SERVER_IMAGE: `${registry.host}/base/model-server:1`,
      MAST_DEPLOY_PYTHON_IMAGE: `${registry.host}/base/python:1`,
      MAST_DEPLOY_INSECURE_REGISTRIES: registry.host,
      MAST_DEPLOY_PROGRESS_DEADLINE: '120',
      KUBECONFIG: kubeconfig,
    }),
  });
  afterAll(async () => {
    clearInterval(ticker);
    await kube?.close();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('Production → image pushed → Deployment applied → LIVE; a crash-looping version is rolled back', async () => {
    const models = await generateTestModels();
    await logAndRegister(mast.http.baseUrl, models.linear, 'churn');
    expect(
      (
        await mast.http.post(`${DEPLOY}/targets/create`, {
          name: 'prod',
          kind: 'KUBERNETES',
          namespace: 'ml',
          image_repository: `${registry.host}/models`,
        })
      ).status,
    ).toBe(200);
    const policy = await mast.http.post(`${DEPLOY}/policies/create`, {
      name: 'churn-prod',
      model_name: 'churn',
      target_name: 'prod',
      trigger: { kind: 'STAGE', value: 'production' },
      replicas: 2,
      resources: { cpu_request: '250m', memory_limit: '512Mi' },
    });
    expect(policy.status).toBe(200);

    await mast.http.post(`${API}/model-versions/transition-stage`, {
      name: 'churn',
      version: '1',
      stage: 'Production',
    });
    const live = await deploymentOf(mast.http, 'churn', '1', ['LIVE', 'FAILED', 'ROLLED_BACK']);
    expect(live.transitions.at(-1).reason).toBe('deployment "churn-prod" successfully rolled out');
    expect(live.transitions.map((t: { to_state: string }) => t.to_state)).toEqual([
      'PENDING',
      'BUILDING',
      'BUILT',
      'ROLLING_OUT',
      'LIVE',
    ]);
    expect(live.image).toMatch(new RegExp(`^${registry.host}/models/churn@sha256:[0-9a-f]{64}$`));
    expect(live.endpoint).toBe('http://churn-prod.ml.svc');
    // the registry holds the image, as skopeo sees it: the model server base, labelled with the version
    const inspected = await skopeoInspect(live.image);
    expect(inspected.Labels).toMatchObject({ 'io.mast.model.name': 'churn', 'io.mast.model.version': '1' });
    // the cluster runs it, pinned by digest, with the policy's replicas and resources
    const applied = kube.store.get(kube.deploymentsType, 'ml', 'churn-prod') as any;
    expect(applied.spec.replicas).toBe(2);
    expect(applied.spec.template.spec.containers[0]).toMatchObject({
      image: live.image,
      resources: { requests: { cpu: '250m' }, limits: { memory: '512Mi' } },
    });

    // version 2 crash-loops: hold the clock until its image is known, then make its pods crash
    ticking = false;
    await mast.http.post(`${API}/model-versions/transition-stage`, {
      name: 'churn',
      version: '2',
      stage: 'Production',
      archive_existing_versions: true,
    });
    const built = await deploymentOf(mast.http, 'churn', '2', [
      'BUILT',
      'ROLLING_OUT',
      'LIVE',
      'FAILED',
      'ROLLED_BACK',
    ]);
    expect(built.image).toBeDefined();
    kube.setImageBehaviour(built.image, { kind: 'crashloop' });
    ticking = true;
    const rolledBack = await deploymentOf(mast.http, 'churn', '2', ['LIVE', 'FAILED', 'ROLLED_BACK']);
    expect(rolledBack.state).toBe('ROLLED_BACK');
    expect(rolledBack.transitions.at(-2).reason).toMatch(/CrashLoopBackOff|crash/i);
    expect(await clusterImage()).toBe(live.image);

    // a rebuild of version 1 (a manual deploy) gives the same digest
    const again = await mast.http.post(`${DEPLOY}/create`, {
      model_name: 'churn',
      version: '1',
      policy_name: 'churn-prod',
    });
    expect(again.status).toBe(200);
    const redeployed = await deploymentOf(mast.http, 'churn', '1', ['LIVE', 'FAILED', 'ROLLED_BACK']);
    expect(redeployed.deployment_id).toBe(again.body.deployment.deployment_id);
    expect(redeployed.image).toBe(live.image);
  });
});
