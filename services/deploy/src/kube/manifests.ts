import type {
  KubernetesObject,
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { MlflowError } from '@mast/common';
import { canaryReplicaSplit } from '../domain/canary.js';

/**
 * What to roll out (issue 12): one model server image behind one Service, as a Deployment (with an
 * optional HPA and PDB) or a KServe InferenceService. Every object is named after `name`.
 */
export interface RolloutRequest {
  /** DNS-1123 label, at most 56 characters (the canary Deployment appends "-canary"). */
  name: string;
  namespace: string;
  /** The image pinned by digest, `repo@sha256:<64 hex>` (spec deploy.md Appendix A.1): never a tag. */
  image: string;
  /** Pods (default 1); not sent when `autoscaling` is set, so the HPA keeps the count it chose (§2.7). */
  replicas?: number;
  /** The port the model server listens on inside the container (default 8080), passed as MAST_PORT. */
  port?: number;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Default RollingUpdate with maxSurge 1, maxUnavailable 0: the previous version serves until the new one is available. */
  strategy?:
    | { type: 'RollingUpdate'; maxSurge?: number | string; maxUnavailable?: number | string }
    | { type: 'Recreate' };
  /** An autoscaling/v2 HPA on CPU utilisation (percent of requests). */
  autoscaling?: { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
  /** A policy/v1 PodDisruptionBudget; exactly one of the two. */
  pdb?: { minAvailable?: number | string; maxUnavailable?: number | string };
  /** Extra labels on every object and pod (never in selectors, which must stay stable). */
  labels?: Record<string, string>;
  /** Environment of the model server; names are unique by construction (SSA rejects duplicates). */
  env?: Record<string, string>;
  /** Default 600 (Kubernetes' default); must exceed `minReadySeconds`. */
  progressDeadlineSeconds?: number;
  /** Seconds a pod must stay ready to count as available (default 10: catches crash-after-ready, §2.6). */
  minReadySeconds?: number;
  /** Roll out as a KServe InferenceService with a custom predictor instead of a Deployment. */
  kserve?: boolean;
  /** Roll out as a canary taking this share of traffic (0-100), promoted or rolled back later. */
  canary?: { trafficPercent: number };
  /** `kubernetes.io/dockerconfigjson` Secrets in `namespace` the kubelet pulls the image with (the target's `pull_secret`). */
  imagePullSecrets?: string[];
}

export const FIELD_MANAGER = 'mast-deploy';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const TRACK_LABEL = 'mast.dev/track';
export type Track = 'stable' | 'canary';
export const MODEL_SERVER_CONTAINER = 'model-server';
/** KServe treats the container with this name as the model server (spec §3.2). */
export const KSERVE_CONTAINER = 'kserve-container';

const DIGEST_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Checks `request` before anything is sent; throws MlflowError INVALID_PARAMETER_VALUE naming the
 * field. The API server would refuse some of these too (422), others (a tag instead of a digest) it
 * would accept and Mast must not.
 */
export function validateRolloutRequest(request: RolloutRequest): void {
  const bad = (message: string) => {
    throw MlflowError.invalidParameter(`Invalid rollout for '${request.name}': ${message}`);
  };
  if (!DNS_LABEL.test(request.name) || request.name.length > 56) {
    bad('name must be a DNS-1123 label of at most 56 characters.');
  }
  if (!DNS_LABEL.test(request.namespace) || request.namespace.length > 63)
    bad('namespace must be a DNS-1123 label.');
  if (!DIGEST_REF.test(request.image))
    bad(`image must be pinned by digest (repo@sha256:<64 hex>), got '${request.image}'.`);
  const replicas = request.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1)
    bad(`replicas must be a positive integer, got ${replicas}.`);
  const port = request.port ?? 8080;
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`port must be 1-65535, got ${port}.`);
  const deadline = request.progressDeadlineSeconds ?? 600;
  const minReady = request.minReadySeconds ?? 10;
  if (!(deadline > minReady))
    bad(`progressDeadlineSeconds (${deadline}) must be greater than minReadySeconds (${minReady}).`);
  const scaling = request.autoscaling;
  if (scaling && !(scaling.minReplicas >= 1 && scaling.maxReplicas >= scaling.minReplicas)) {
    bad('autoscaling needs 1 <= minReplicas <= maxReplicas.');
  }
  if (
    request.pdb &&
    (request.pdb.minAvailable === undefined) === (request.pdb.maxUnavailable === undefined)
  ) {
    bad('pdb needs exactly one of minAvailable and maxUnavailable.');
  }
  for (const name of Object.keys(request.env ?? {}))
    if (!ENV_NAME.test(name)) bad(`env name '${name}' is not valid.`);
  if (request.canary) canaryReplicaSplit(replicas, request.canary.trafficPercent);
}

function objectLabels(request: RolloutRequest): Record<string, string> {
  return {
    ...(request.labels ?? {}),
    [NAME_LABEL]: request.name,
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
  };
}

/** The Deployment's selector: the model's name and its track; a Service selecting the name reaches both tracks. */
export function selectorLabels(request: RolloutRequest, track: Track): Record<string, string> {
  return { [NAME_LABEL]: request.name, [TRACK_LABEL]: track };
}

export function deploymentName(request: RolloutRequest, track: Track): string {
  return track === 'canary' ? `${request.name}-canary` : request.name;
}

/** The pod spec's `imagePullSecrets`, present only when the target names a Secret. */
function pullSecrets(request: RolloutRequest): { imagePullSecrets?: Array<{ name: string }> } {
  const names = request.imagePullSecrets ?? [];
  return names.length === 0 ? {} : { imagePullSecrets: names.map((name) => ({ name })) };
}

function environment(request: RolloutRequest, port: number): V1EnvVar[] {
  const env = { MAST_PORT: String(port), ...(request.env ?? {}) };
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/**
 * The model server container: image by digest, probes on its health routes (spec §2.6): startup on
 * `/ping` (200 once the model is loaded; 5 s x 60 = 5 min to load), readiness on `/v2/health/ready`
 * (gates endpoints and availability, hence the rollout), liveness on `/v2/health/live` (never tied to
 * the model, so slow loads do not become restart loops); a 5 s preStop sleep so endpoints drop before
 * the server stops (the sleep action needs Kubernetes 1.30+); a non-root, no-privilege security context.
 */
function modelServerContainer(request: RolloutRequest, name: string): V1Container {
  const port = request.port ?? 8080;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    name,
    image: request.image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env: environment(request, port),
    ...(request.resources ? { resources: request.resources } : {}),
    startupProbe: probe('/ping', 5, 60),
    readinessProbe: probe('/v2/health/ready', 5, 3),
    livenessProbe: probe('/v2/health/live', 10, 3),
    lifecycle: { preStop: { sleep: { seconds: 5 } } },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/**
 * The apps/v1 Deployment of `track` (the stable one is named `name`, the canary `name-canary`), with
 * `replicas` overriding the request's count (a canary split). Only fields Mast cares about are set, so
 * server-side apply owns exactly those (spec §2.7).
 */
export function renderDeployment(
  request: RolloutRequest,
  track: Track = 'stable',
  replicas?: number,
): V1Deployment {
  const labels = { ...objectLabels(request), [TRACK_LABEL]: track };
  const strategy = request.strategy ?? { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName(request, track), namespace: request.namespace, labels },
    spec: {
      ...(request.autoscaling && track === 'stable' ? {} : { replicas: replicas ?? request.replicas ?? 1 }),
      selector: { matchLabels: selectorLabels(request, track) },
      strategy:
        strategy.type === 'Recreate'
          ? { type: 'Recreate' }
          : {
              type: 'RollingUpdate',
              rollingUpdate: {
                maxSurge: strategy.maxSurge ?? 1,
                maxUnavailable: strategy.maxUnavailable ?? 0,
              },
            },
      minReadySeconds: request.minReadySeconds ?? 10,
      progressDeadlineSeconds: request.progressDeadlineSeconds ?? 600,
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          ...pullSecrets(request),
          containers: [modelServerContainer(request, MODEL_SERVER_CONTAINER)],
        },
      },
    },
  };
}

/** The v1 Service on port 80 selecting the model's pods of both tracks. */
export function renderService(request: RolloutRequest): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: request.name, namespace: request.namespace, labels: objectLabels(request) },
    spec: {
      type: 'ClusterIP',
      selector: { [NAME_LABEL]: request.name },
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function renderHorizontalPodAutoscaler(
  request: RolloutRequest,
): V2HorizontalPodAutoscaler | undefined {
  const scaling = request.autoscaling;
  if (!scaling) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: request.name, namespace: request.namespace, labels: objectLabels(request) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: request.name },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: scaling.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}

export function renderPodDisruptionBudget(request: RolloutRequest): V1PodDisruptionBudget | undefined {
  if (!request.pdb) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: request.name, namespace: request.namespace, labels: objectLabels(request) },
    spec: { ...request.pdb, selector: { matchLabels: { [NAME_LABEL]: request.name } } },
  };
}

/**
 * A serving.kserve.io/v1beta1 InferenceService with a custom predictor (spec §3.2): the image's
 * `kserve-container`, replicas as min/max (or the autoscaling bounds with a CPU target), and
 * `canaryTrafficPercent` when `canary` is set (Knative mode, §3.4).
 */
export function renderInferenceService(
  request: RolloutRequest,
  canaryTrafficPercent?: number,
): KubernetesObject & { spec: object } {
  const port = request.port ?? 8080;
  const scaling = request.autoscaling;
  const replicas = request.replicas ?? 1;
  const container = modelServerContainer(request, KSERVE_CONTAINER);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: request.name, namespace: request.namespace, labels: objectLabels(request) },
    spec: {
      predictor: {
        minReplicas: scaling?.minReplicas ?? replicas,
        maxReplicas: scaling?.maxReplicas ?? replicas,
        ...(scaling ? { scaleMetric: 'cpu', scaleTarget: scaling.targetCPUUtilizationPercentage } : {}),
        ...(canaryTrafficPercent === undefined ? {} : { canaryTrafficPercent }),
        ...pullSecrets(request),
        containers: [
          {
            name: KSERVE_CONTAINER,
            image: request.image,
            ports: [{ containerPort: port, protocol: 'TCP' }],
            env: container.env,
            ...(request.resources ? { resources: request.resources } : {}),
            readinessProbe: container.readinessProbe,
          },
        ],
      },
    },
  };
}

/**
 * Every object of a (non-canary) rollout in apply order: the Deployment, its Service, then the HPA and
 * PDB when asked for; or the one InferenceService. Validates the request first.
 */
export function renderManifests(request: RolloutRequest): KubernetesObject[] {
  validateRolloutRequest(request);
  if (request.kserve) return [renderInferenceService(request)];
  return [
    renderDeployment(request),
    renderService(request),
    renderHorizontalPodAutoscaler(request),
    renderPodDisruptionBudget(request),
  ].filter((o): o is NonNullable<typeof o> => o !== undefined);
}
