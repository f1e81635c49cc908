import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseMlModel } from '@mast/common';
import { fetchModel, SUPPORTED_FLAVORS } from '@mast/model-server';
import { rolloutCanary } from '../kube/canary.js';
import { KubeClient } from '../kube/client.js';
import type { RolloutRequest } from '../kube/manifests.js';
import { rolloutDeployment } from '../kube/rollout.js';
import { buildModelImage } from '../oci/build.js';
import type { BuildCache } from '../oci/cache.js';
import { SERVING_PORT, servingDefaults } from '../oci/serving.js';
import type { DeploymentContext, DeploymentSteps, RolloutOutcome } from '../service/pipeline.js';
import { waitForTrackingServer } from './tracking-server.js';

export interface KubernetesStepsOptions {
  /** The cluster's credentials (in-cluster ServiceAccount or KUBECONFIG); undefined when there are none. */
  kubeConfig: () => KubeConfig | undefined;
  /** Where model files are downloaded from (see `waitForTrackingServer`). */
  trackingUri: () => string | undefined;
  /** Downloads of model versions, while an image is built. */
  dataDir: string;
  /** Base images: Mast's model server for flavors it runs (`onnx`), a Python with mlflow for the rest. */
  baseImages: { modelServer: string; python: string };
  /** A `kubernetes.io/dockerconfigjson` document with the registries' credentials. */
  registryAuth?: string;
  /** Registries spoken to over plain HTTP (`host:port`). */
  insecureRegistries?: readonly string[];
  /** Compressed layers and resolved bases kept between builds (rebuilds cost HEAD requests only). */
  cache?: BuildCache;
  /** Wall-clock budget of one rollout watch (default the progress deadline + 60 s). */
  jobTimeoutMs?: number;
  /** The Deployment's `progressDeadlineSeconds` (default 600). */
  progressDeadlineSeconds?: number;
}

/** A Kubernetes object name from a model name: lower-case, `-` for anything else, at most 56 characters. */
export function objectName(modelName: string): string {
  const name = modelName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 56)
    .replace(/-+$/, '');
  return name === '' ? 'model' : name;
}

/** Bytes as `12.3 MB`. */
function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * KUBERNETES targets: `build` downloads the version (`models:/<name>/<version>`) and pushes its image
 * to the target's `image_repository` without a Docker daemon (`buildModelImage`: the model server base
 * for flavors Mast runs, a Python base running MLflow's scoring server for the rest), tagged `v<version>`
 * and pinned by digest; `rollout` server-side-applies the Deployment and Service (or a KServe
 * InferenceService) named after the policy and watches it (`rolloutDeployment`), re-applying the spec of
 * the deployment that served before when it fails. A CANARY policy runs the new version next to the
 * serving one for its health window, then promotes it or removes it (`rolloutCanary`).
 */
export class KubernetesSteps implements DeploymentSteps {
  constructor(private readonly options: KubernetesStepsOptions) {}

  async build(context: DeploymentContext, signal: AbortSignal): Promise<{ image: string; reason: string }> {
    const { deployment, target } = context;
    if (!target.imageRepository) throw new Error(`target ${target.name} has no image_repository`);
    const trackingUri = await waitForTrackingServer(this.options.trackingUri, signal);
    await mkdir(this.options.dataDir, { recursive: true });
    const model = await fetchModel(`models:/${deployment.modelName}/${deployment.modelVersion}`, {
      trackingUri,
      downloadRoot: this.options.dataDir,
    });
    try {
      const mlmodel = parseMlModel(await readFile(join(model.dir, 'MLmodel'), 'utf8'));
      const flavors = Object.keys(mlmodel.flavors);
      const flavor = flavors.find((name) => (SUPPORTED_FLAVORS as readonly string[]).includes(name));
      const serving = servingDefaults(flavor ?? 'python_function');
      const built = await buildModelImage({
        base: flavor ? this.options.baseImages.modelServer : this.options.baseImages.python,
        target: `${target.imageRepository}/${objectName(deployment.modelName)}:v${deployment.modelVersion}`,
        modelDir: model.dir,
        labels: {
          name: deployment.modelName,
          version: deployment.modelVersion,
          runId: mlmodel.run_id,
          flavor: flavor ?? flavors.join(','),
          source: `models:/${deployment.modelName}/${deployment.modelVersion}`,
        },
        env: serving.env,
        entrypoint: serving.entrypoint,
        cmd: serving.cmd,
        exposedPorts: serving.exposedPorts,
        auth: this.options.registryAuth,
        insecureRegistries: this.options.insecureRegistries,
        cache: this.options.cache,
      });
      return {
        image: built.reference,
        reason: `pushed ${built.reference} (${megabytes(built.pushedBytes)} uploaded, ${built.reusedBlobs} blobs already there)`,
      };
    } finally {
      await model.remove();
    }
  }

  async rollout(context: DeploymentContext): Promise<RolloutOutcome> {
    const { deployment, target, policy, previous } = context;
    const kubeConfig = this.options.kubeConfig();
    if (!kubeConfig) {
      throw new Error(
        'no Kubernetes credentials: run the deploy worker in the cluster (a ServiceAccount) or set KUBECONFIG',
      );
    }
    if (!deployment.image) throw new Error('the deployment has no image');
    if (!target.namespace) throw new Error(`target ${target.name} has no namespace`);
    const name = policy?.name ?? objectName(deployment.modelName);
    const resources = policy?.resources ?? {};
    const request: RolloutRequest = {
      name,
      namespace: target.namespace,
      image: deployment.image,
      replicas: policy?.replicas ?? 1,
      port: SERVING_PORT,
      resources: {
        requests: quantities({ cpu: resources.cpuRequest, memory: resources.memoryRequest }),
        limits: quantities({ cpu: resources.cpuLimit, memory: resources.memoryLimit }),
      },
      autoscaling: policy?.autoscaling && {
        minReplicas: policy.autoscaling.minReplicas,
        maxReplicas: policy.autoscaling.maxReplicas,
        targetCPUUtilizationPercentage: policy.autoscaling.targetCpuUtilization,
      },
      labels: { 'mast.dev/model-version': deployment.modelVersion },
      kserve: target.kserve,
      imagePullSecrets: target.pullSecret ? [target.pullSecret] : undefined,
      progressDeadlineSeconds: this.options.progressDeadlineSeconds,
    };
    const lastGood = previous?.spec ? (JSON.parse(previous.spec) as RolloutRequest) : undefined;
    const common = {
      client: new KubeClient(kubeConfig),
      lastGood,
      // the library records its own steps from BUILT; the pipeline stores the outcome
      history: { state: 'BUILT' as const, transitions: [] },
      jobTimeoutMs: this.options.jobTimeoutMs,
    };
    // A canary needs a version serving next to it; the first rollout of a CANARY policy is a plain one.
    const result =
      policy?.strategy === 'CANARY' && policy.canary && lastGood
        ? await rolloutCanary({
            ...common,
            lastGood,
            request: { ...request, canary: { trafficPercent: policy.canary.percent } },
            healthWindowMs: policy.canary.healthWindowSeconds * 1000,
          })
        : await rolloutDeployment({ ...common, request });
    const last = result.history.transitions[result.history.transitions.length - 1];
    if (result.history.state === 'LIVE') {
      return {
        outcome: 'LIVE',
        reason: last.reason,
        endpoint: `http://${name}.${target.namespace}.svc`,
        spec: JSON.stringify(request),
      };
    }
    const failure = result.failure?.message ?? last.reason;
    if (result.history.state === 'ROLLED_BACK') {
      return { outcome: 'FAILED', reason: failure, rollback: { reason: last.reason } };
    }
    return {
      outcome: 'FAILED',
      reason: result.rollbackFailure
        ? `${failure}; the rollback failed too: ${result.rollbackFailure.message}`
        : failure,
    };
  }
}

/** Only the quantities that are set (an empty map asks for nothing). */
function quantities(values: Record<string, string | undefined>): Record<string, string> | undefined {
  const set = Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return set.length > 0 ? Object.fromEntries(set) : undefined;
}
