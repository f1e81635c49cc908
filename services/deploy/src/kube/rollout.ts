import type { KubernetesObject } from '@kubernetes/client-node';
import { MlflowError } from '@mast/common';
import { type DeploymentHistory, type DeploymentState, transition } from '../domain/deployment-state.js';
import { describeObject, KubeApiError, type KubeClient } from './client.js';
import { type RolloutRequest, renderManifests, selectorLabels } from './manifests.js';
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

/**
 * Applies `objects` in order; returns the generation of the first (the workload) or the failure, and
 * whether anything was applied before it (so a rollback is needed).
 */
export async function applyAll(
  client: KubeClient,
  objects: KubernetesObject[],
): Promise<{ ok: true; generation: number } | { ok: false; failure: RolloutFailure; appliedSome: boolean }> {
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
  return { ok: true, generation };
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

/** Applies every object of `request` and watches the workload to done or failure. */
export async function applyAndWatch(
  context: RolloutContext,
  request: RolloutRequest,
): Promise<WatchOutcome & { appliedSome?: boolean }> {
  const applied = await applyAll(context.client, renderManifests(request));
  if (!applied.ok) return applied;
  return watchRequest(context, request, applied.generation);
}

/**
 * Rolls `request` out (issue 12): server-side applies its objects (field manager `mast-deploy`,
 * force), watches the rollout to done (LIVE) or failure (early pod failure, ProgressDeadlineExceeded,
 * job timeout, refused apply), and on failure re-applies `lastGood` and watches that rollback the same
 * way (ROLLED_BACK). A refused first apply changed nothing and is not rolled back; neither is a
 * rollout someone else superseded. History: BUILT -> ROLLING_OUT -> LIVE | FAILED [-> ROLLED_BACK],
 * each step with its reason. An invalid request fails at once (FAILED, the validation message).
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
  await record.step(
    'ROLLING_OUT',
    `applying ${objects.map(describeObject).join(', ')} with image ${request.image}`,
  );
  const applied = await applyAll(options.client, objects);
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
  const rollback = await applyAndWatch(options, lastGood);
  if (!rollback.ok) return { history: record.history, failure, rollbackFailure: rollback.failure };
  await record.step('ROLLED_BACK', `re-applied last-good image ${lastGood.image}: ${rollback.message}`);
  return { history: record.history, failure };
}
