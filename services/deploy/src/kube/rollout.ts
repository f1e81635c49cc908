import type { KubernetesObject } from '@kubernetes/client-node';
import { MlflowError } from '@mast/common';
import { type DeploymentHistory, type DeploymentState, transition } from '../domain/deployment-state.js';
import { describeObject, KubeApiError, type KubeClient } from './client.js';
import {
  type RolloutRequest,
  renderHorizontalPodAutoscaler,
  renderManifests,
  renderPodDisruptionBudget,
  selectorLabels,
} from './manifests.js';
import {
  type RolloutFailure,
  type WatchOutcome,
  type WatchRolloutOptions,
  watchDeploymentRollout,
  watchInferenceServiceRollout,
} from './rollout-watch.js';

/** What every rollout step needs besides the request. */
export interface RolloutContext {
  client: KubeClient;
  /** Wall-clock budget per watch (ms); default `progressDeadlineSeconds` + 60 s (spec §2.4). */
  jobTimeoutMs?: number;
  crashLoopRestarts?: number;
  unschedulableForMs?: number;
  now?: () => Date;
}

export interface RolloutOptions extends RolloutContext {
  request: RolloutRequest;
  /** The stored last-good spec of this target, re-applied on failure; none for a first rollout. */
  lastGood?: RolloutRequest;
  /** The deployment's history, in BUILT. */
  history: DeploymentHistory;
  /** Persists each transition as it happens (a rollout takes minutes). */
  onTransition?: (history: DeploymentHistory) => Promise<void> | void;
}

export interface RolloutResult {
  /** Ends in LIVE, ROLLED_BACK, or FAILED (nothing to roll back to, superseded, or the rollback failed too). */
  history: DeploymentHistory;
  failure?: RolloutFailure;
  rollbackFailure?: RolloutFailure;
}

/** Moves `history` and reports each step; shared by plain and canary rollouts. */
export function recorder(options: Pick<RolloutOptions, 'history' | 'onTransition' | 'now'>) {
  let history = options.history;
  const now = options.now ?? (() => new Date());
  return {
    get history() {
      return history;
    },
    async step(to: DeploymentState, reason: string) {
      history = transition(history, to, reason, now());
      await options.onTransition?.(history);
    },
  };
}

/** The objects a spec may or may not have besides its workload: the HPA and the PDB (none in KServe mode). */
function optionalObjects(request: RolloutRequest): KubernetesObject[] {
  if (request.kserve) return [];
  return [renderHorizontalPodAutoscaler(request), renderPodDisruptionBudget(request)].filter(
    (o): o is NonNullable<typeof o> => o !== undefined,
  );
}

/**
 * The HorizontalPodAutoscaler and PodDisruptionBudget that `from` has and `to` has not, when both are
 * the same workload (namespace and name): server-side apply never removes a whole object, so moving
 * the workload from `from` to `to` deletes these (a policy that dropped autoscaling; a rollback from a
 * spec that added an HPA). None for different workloads: `from`'s objects then still serve `from`.
 */
export function objectsDropped(from: RolloutRequest, to: RolloutRequest): KubernetesObject[] {
  if (from.namespace !== to.namespace || from.name !== to.name) return [];
  const kept = new Set(optionalObjects(to).map((o) => o.kind));
  return optionalObjects(from).filter((o) => !kept.has(o.kind));
}

/**
 * Applies `objects` in order, then deletes `obsolete` (absent ones are fine); returns the generation
 * of the first object (the workload) and what was deleted (as `Kind namespace/name`), or the failure
 * and whether anything was changed before it (so a rollback is needed).
 */
export async function applyAll(
  client: KubeClient,
  objects: KubernetesObject[],
  obsolete: KubernetesObject[] = [],
): Promise<
  | { ok: true; generation: number; deleted: string[] }
  | { ok: false; failure: RolloutFailure; appliedSome: boolean }
> {
  let generation = 0;
  for (const [i, object] of objects.entries()) {
    try {
      const applied = await client.apply(object);
      if (i === 0) generation = applied.metadata?.generation ?? 0;
    } catch (error) {
      const reason = error instanceof KubeApiError ? error.reason : 'ApplyFailed';
      return { ok: false, failure: { reason, message: (error as Error).message }, appliedSome: i > 0 };
    }
  }
  const deleted: string[] = [];
  for (const object of obsolete) {
    const { apiVersion = '', kind = '', metadata = {} } = object;
    try {
      const existed = await client.delete(apiVersion, kind, metadata.namespace ?? '', metadata.name ?? '');
      if (existed) deleted.push(describeObject(object));
    } catch (error) {
      const reason = error instanceof KubeApiError ? error.reason : 'DeleteFailed';
      return {
        ok: false,
        failure: { reason, message: (error as Error).message },
        appliedSome: objects.length > 0,
      };
    }
  }
  return { ok: true, generation, deleted };
}

/** The job timeout for `request` (ms): its progress deadline plus a minute, unless the context sets one. */
export function jobTimeoutMs(context: RolloutContext, request: RolloutRequest): number {
  return context.jobTimeoutMs ?? ((request.progressDeadlineSeconds ?? 600) + 60) * 1000;
}

function watchOptions(
  context: RolloutContext,
  request: RolloutRequest,
  generation: number,
): WatchRolloutOptions {
  return {
    timeoutMs: jobTimeoutMs(context, request),
    generation,
    crashLoopRestarts: context.crashLoopRestarts,
    unschedulableForMs: context.unschedulableForMs,
    now: context.now,
  };
}

/** Watches the workload of a (non-canary) `request` after its apply produced `generation`. */
export function watchRequest(
  context: RolloutContext,
  request: RolloutRequest,
  generation: number,
  extra: Partial<WatchRolloutOptions> = {},
): Promise<WatchOutcome> {
  const options = { ...watchOptions(context, request, generation), ...extra };
  return request.kserve
    ? watchInferenceServiceRollout(context.client, request, options)
    : watchDeploymentRollout(
        context.client,
        {
          namespace: request.namespace,
          name: request.name,
          image: request.image,
          podSelector: selectorLabels(request, 'stable'),
        },
        options,
      );
}

/**
 * Applies every object of `request`, deletes the HPA and PDB of `replacing` (the spec it takes over
 * from) that `request` has not (`objectsDropped`), and watches the workload to done or failure. A
 * success says what was deleted (as `Kind namespace/name`).
 */
export async function applyAndWatch(
  context: RolloutContext,
  request: RolloutRequest,
  replacing?: RolloutRequest,
): Promise<WatchOutcome & { appliedSome?: boolean; deleted?: string[] }> {
  const obsolete = replacing ? objectsDropped(replacing, request) : [];
  const applied = await applyAll(context.client, renderManifests(request), obsolete);
  if (!applied.ok) return applied;
  const outcome = await watchRequest(context, request, applied.generation);
  return outcome.ok ? { ...outcome, deleted: applied.deleted } : outcome;
}

/**
 * Rolls `request` out (issue 12): server-side applies its objects (field manager `mast-deploy`,
 * force), deletes the HPA and PDB `lastGood` had and `request` has not, watches the rollout to done
 * (LIVE) or failure (early pod failure, ProgressDeadlineExceeded, job timeout, refused apply or
 * delete), and on failure re-applies `lastGood` (re-creating what was deleted), deletes the HPA and
 * PDB `request` added, and watches that rollback the same way (ROLLED_BACK). A refused first apply
 * changed nothing and is not rolled back; neither is a rollout someone else superseded. History:
 * BUILT -> ROLLING_OUT -> LIVE | FAILED [-> ROLLED_BACK], each step with its reason. An invalid
 * request fails at once (FAILED, the validation message).
 */
export async function rolloutDeployment(options: RolloutOptions): Promise<RolloutResult> {
  const record = recorder(options);
  const { request, lastGood } = options;
  let objects: KubernetesObject[];
  try {
    objects = renderManifests(request);
  } catch (error) {
    if (!(error instanceof MlflowError)) throw error;
    await record.step('FAILED', error.message);
    return { history: record.history, failure: { reason: 'InvalidRequest', message: error.message } };
  }
  const obsolete = lastGood ? objectsDropped(lastGood, request) : [];
  const deleting = obsolete.length > 0 ? `, then deleting ${obsolete.map(describeObject).join(', ')}` : '';
  await record.step(
    'ROLLING_OUT',
    `applying ${objects.map(describeObject).join(', ')} with image ${request.image}${deleting}`,
  );
  const applied = await applyAll(options.client, objects, obsolete);
  const outcome = applied.ok ? await watchRequest(options, request, applied.generation) : applied;
  if (outcome.ok) {
    await record.step('LIVE', outcome.message);
    return { history: record.history };
  }
  const failure = outcome.failure;
  await record.step('FAILED', failure.message);
  const changedNothing = !applied.ok && !applied.appliedSome;
  if (!lastGood || changedNothing || failure.reason === 'Superseded')
    return { history: record.history, failure };
  const rollback = await applyAndWatch(options, lastGood, request);
  if (!rollback.ok) return { history: record.history, failure, rollbackFailure: rollback.failure };
  await record.step(
    'ROLLED_BACK',
    `re-applied last-good image ${lastGood.image}${deletedPart(rollback.deleted)}: ${rollback.message}`,
  );
  return { history: record.history, failure };
}

/** " and deleted HorizontalPodAutoscaler ml/iris, ..." for a step's reason; empty when nothing was. */
export function deletedPart(deleted: readonly string[] = []): string {
  return deleted.length > 0 ? ` and deleted ${deleted.join(', ')}` : '';
}
