import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { type InferenceServiceView, inferenceServiceStatus } from '../domain/inference-service-status.js';
import { detectPodFailure, type PodFailure } from '../domain/pod-failure.js';
import { deploymentRevision, deploymentRolloutStatus } from '../domain/rollout-status.js';
import type { KubeClient } from './client.js';
import { ObjectWatch } from './watch.js';

/**
 * Why a rollout failed. `reason` is Kubernetes' word when there is one (ProgressDeadlineExceeded,
 * CrashLoopBackOff, ErrImagePull, ImagePullBackOff, Unschedulable, ModelLoadFailed, Forbidden, Invalid,
 * ...) or Mast's: JobTimeout, Superseded (someone else rolled over it: never rolled back), Deleted,
 * Unhealthy (a regression during a health window), WatchFailed, ApplyFailed and DeleteFailed (no
 * answer from the API server), InvalidRequest.
 */
export interface RolloutFailure {
  reason: string;
  message: string;
  /** The pod that doomed the rollout (early failure detection). */
  pod?: PodFailure;
}

export type WatchOutcome = { ok: true; message: string } | { ok: false; failure: RolloutFailure };

export interface WatchRolloutOptions {
  /** Wall-clock budget (ms): the job timeout, on top of the progress deadline the cluster enforces. */
  timeoutMs: number;
  /** The `metadata.generation` Mast's apply produced: an older object never counts as rolled out. */
  generation?: number;
  /** After success, keep watching this long (ms); a failure or regression in that window fails. */
  holdMs?: number;
  /** CrashLoopBackOff restarts that fail the rollout (default 3). */
  crashLoopRestarts?: number;
  unschedulableForMs?: number;
  now?: () => Date;
}

function failed(reason: string, message: string, pod?: PodFailure): WatchOutcome {
  return { ok: false, failure: pod ? { reason, message, pod } : { reason, message } };
}

/**
 * Shared loop: watches start, `evaluate` decides on every change; the job timeout and the hold
 * window are wall-clock timers; the first decision wins and stops the watches.
 */
function watchUntil(
  options: WatchRolloutOptions,
  what: string,
  setup: (evaluate: () => void, onError: (error: Error) => void) => Array<ObjectWatch<KubernetesObject>>,
  decide: () =>
    | { kind: 'done'; message: string }
    | { kind: 'waiting'; message: string }
    | WatchOutcome
    | undefined,
): Promise<WatchOutcome> {
  return new Promise((resolve) => {
    let finished = false;
    let holdTimer: NodeJS.Timeout | undefined;
    let lastMessage = 'no status yet';
    const finish = (outcome: WatchOutcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      clearTimeout(holdTimer);
      for (const watch of watches) watch.stop();
      resolve(outcome);
    };
    const evaluate = () => {
      if (finished) return;
      const decision = decide();
      if (decision === undefined) return;
      if ('ok' in decision) return finish(decision);
      lastMessage = decision.message;
      if (decision.kind === 'done') {
        if (!options.holdMs) return finish({ ok: true, message: decision.message });
        holdTimer ??= setTimeout(() => finish({ ok: true, message: decision.message }), options.holdMs);
      } else if (holdTimer) {
        finish(failed('Unhealthy', `${what} regressed during the health window: ${decision.message}`));
      }
    };
    const timeout = setTimeout(
      () =>
        finish(
          failed('JobTimeout', `${what} did not finish within ${options.timeoutMs / 1000} s: ${lastMessage}`),
        ),
      options.timeoutMs,
    );
    const watches = setup(evaluate, (error) =>
      finish(failed('WatchFailed', `watching ${what} failed: ${error.message}`)),
    );
    for (const watch of watches) watch.start();
  });
}

/**
 * Watches Deployment `name` until it is rolled out with `kubectl rollout status` semantics (spec §2.4)
 * or fails: ProgressDeadlineExceeded; a pod running `image` (selected by `podSelector`) stuck in an
 * image-pull error, CrashLoopBackOff past the restart limit, or unschedulable (early failure); the
 * revision observed after Mast's apply replaced by another (Superseded); the Deployment deleted; the
 * job timeout. Watches are list-then-watch with resume and re-list on 410 (`ObjectWatch`).
 */
export function watchDeploymentRollout(
  client: KubeClient,
  target: { namespace: string; name: string; image: string; podSelector: Record<string, string> },
  options: WatchRolloutOptions,
): Promise<WatchOutcome> {
  const { namespace, name, image } = target;
  let deployments: ObjectWatch<V1Deployment>;
  let pods: ObjectWatch<V1Pod>;
  let seen = false;
  let revision: number | undefined;
  const now = options.now ?? (() => new Date());
  return watchUntil(
    options,
    `deployment "${name}"`,
    (evaluate, onError) => {
      deployments = new ObjectWatch(
        client,
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace, fieldSelector: `metadata.name=${name}` },
        evaluate,
        onError,
      );
      const labelSelector = Object.entries(target.podSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      pods = new ObjectWatch(
        client,
        { apiVersion: 'v1', kind: 'Pod', namespace, labelSelector },
        evaluate,
        onError,
      );
      return [deployments, pods] as Array<ObjectWatch<KubernetesObject>>;
    },
    () => {
      const deployment = deployments.objects.get(name);
      if (!deployment)
        return seen ? failed('Deleted', `deployment "${name}" was deleted during the rollout`) : undefined;
      seen = true;
      const mine = [...pods.objects.values()].filter((p) =>
        p.spec?.containers?.some((c) => c.image === image),
      );
      const pod = detectPodFailure(mine, {
        now: now(),
        crashLoopRestarts: options.crashLoopRestarts,
        unschedulableForMs: options.unschedulableForMs,
      });
      if (pod) return failed(pod.reason, `deployment "${name}" cannot roll out: ${pod.message}`, pod);
      const generation = deployment.metadata?.generation ?? 0;
      if (generation < (options.generation ?? 0)) return undefined;
      if (!deployment.spec?.template.spec?.containers.some((c) => c.image === image)) {
        return failed(
          'Superseded',
          `deployment "${name}" was rolled over by someone else: its pods no longer run ${image}`,
        );
      }
      if (revision === undefined && generation <= (deployment.status?.observedGeneration ?? 0)) {
        revision = deploymentRevision(deployment) || undefined;
      }
      const status = deploymentRolloutStatus(deployment, revision);
      if (status.kind === 'failed') {
        return status.reason === 'RevisionChanged'
          ? failed('Superseded', `deployment "${name}" was rolled over by someone else: ${status.message}`)
          : failed(status.reason, status.message);
      }
      return status;
    },
  );
}

/**
 * Watches InferenceService `name` until `inferenceServiceStatus` says done or failed (spec §3.5), or the
 * job timeout.
 */
export function watchInferenceServiceRollout(
  client: KubeClient,
  target: { namespace: string; name: string },
  options: WatchRolloutOptions,
): Promise<WatchOutcome> {
  const { namespace, name } = target;
  let services: ObjectWatch<KubernetesObject>;
  let seen = false;
  return watchUntil(
    options,
    `inference service "${name}"`,
    (evaluate, onError) => {
      services = new ObjectWatch(
        client,
        {
          apiVersion: 'serving.kserve.io/v1beta1',
          kind: 'InferenceService',
          namespace,
          fieldSelector: `metadata.name=${name}`,
        },
        evaluate,
        onError,
      );
      return [services];
    },
    () => {
      const isvc = services.objects.get(name) as InferenceServiceView | undefined;
      if (!isvc)
        return seen
          ? failed('Deleted', `inference service "${name}" was deleted during the rollout`)
          : undefined;
      seen = true;
      if ((isvc.metadata?.generation ?? 0) < (options.generation ?? 0)) return undefined;
      const status = inferenceServiceStatus(isvc);
      return status.kind === 'failed' ? failed(status.reason, status.message) : status;
    },
  );
}
