import { canaryReplicaSplit } from '../domain/canary.js';
import { KubeApiError } from './client.js';
import {
  deploymentName,
  type RolloutRequest,
  renderDeployment,
  renderInferenceService,
  renderManifests,
  renderService,
  selectorLabels,
  validateRolloutRequest,
} from './manifests.js';
import {
  applyAll,
  applyAndWatch,
  deletedPart,
  jobTimeoutMs,
  objectsDropped,
  type RolloutContext,
  type RolloutOptions,
  type RolloutResult,
  recorder,
  watchRequest,
} from './rollout.js';
import { type WatchOutcome, watchDeploymentRollout, watchInferenceServiceRollout } from './rollout-watch.js';

/**
 * A canary (issue 12): the new version takes `request.canary.trafficPercent` of the traffic next to
 * `stable` (the live spec). Deployments: a second Deployment `<name>-canary` behind the same Service,
 * the replicas split by `canaryReplicaSplit`. KServe: the new predictor with `canaryTrafficPercent`
 * (Knative mode, spec §3.4). Resolves once the canary is rolled out and stayed healthy for
 * `healthWindowMs` (wall clock), or with the failure.
 */
export async function startCanary(
  context: RolloutContext,
  request: RolloutRequest,
  stable: RolloutRequest,
  healthWindowMs: number,
): Promise<WatchOutcome> {
  validateRolloutRequest(request);
  const percent = request.canary?.trafficPercent ?? 0;
  const timeoutMs = jobTimeoutMs(context, request) + healthWindowMs;
  const watch = { ...context, timeoutMs, holdMs: healthWindowMs };
  if (request.kserve) {
    const applied = await applyAll(context.client, [renderInferenceService(request, percent)]);
    if (!applied.ok) return applied;
    return watchInferenceServiceRollout(context.client, request, {
      ...watch,
      generation: applied.generation,
    });
  }
  const split = canaryReplicaSplit(stable.replicas ?? 1, percent);
  const canary = renderDeployment(request, 'canary', split.canary);
  // The canary first: the stable Deployment shrinks only once the canary Deployment is accepted.
  const applied = await applyAll(context.client, [
    canary,
    renderDeployment(stable, 'stable', split.stable),
    renderService(stable),
  ]);
  if (!applied.ok) return applied;
  return watchDeploymentRollout(
    context.client,
    {
      namespace: request.namespace,
      name: deploymentName(request, 'canary'),
      image: request.image,
      podSelector: selectorLabels(request, 'canary'),
    },
    { ...watch, generation: applied.generation },
  );
}

/**
 * Promotes the canary: `request` becomes the stable spec with every replica (and its HPA/PDB; those
 * `stable` had and `request` has not are deleted), watched like any rollout; once it is rolled out the
 * canary Deployment is deleted. KServe: re-applied without `canaryTrafficPercent`, so the latest ready
 * revision takes 100 %. A success says what was deleted besides the canary.
 */
export async function promoteCanary(
  context: RolloutContext,
  request: RolloutRequest,
  stable: RolloutRequest,
): Promise<WatchOutcome & { deleted?: string[] }> {
  const promoted = { ...request, canary: undefined };
  const outcome = await applyAndWatch(context, promoted, stable);
  if (outcome.ok && !request.kserve) await deleteCanary(context, request);
  return outcome;
}

/**
 * Rolls the canary back: the canary Deployment is deleted and `stable` re-applied with all its
 * replicas (KServe: the stable predictor re-applied without a canary percent), the HPA and PDB a
 * promotion of `failed` may have added deleted, then watched. A success says what was deleted
 * besides the canary.
 */
export async function rollbackCanary(
  context: RolloutContext,
  stable: RolloutRequest,
  failed: RolloutRequest,
): Promise<WatchOutcome & { deleted?: string[] }> {
  if (!stable.kserve) {
    try {
      await deleteCanary(context, stable);
    } catch (error) {
      if (!(error instanceof KubeApiError)) throw error;
      return { ok: false, failure: { reason: error.reason, message: error.message } };
    }
  }
  const applied = await applyAll(
    context.client,
    renderManifests({ ...stable, canary: undefined }),
    objectsDropped(failed, stable),
  );
  if (!applied.ok) return applied;
  const outcome = await watchRequest(context, stable, applied.generation);
  return outcome.ok ? { ...outcome, deleted: applied.deleted } : outcome;
}

async function deleteCanary(context: RolloutContext, request: RolloutRequest): Promise<void> {
  await context.client.delete('apps/v1', 'Deployment', request.namespace, deploymentName(request, 'canary'));
}

export interface CanaryRolloutOptions extends RolloutOptions {
  /** The live spec the canary runs next to, and rolls back to. */
  lastGood: RolloutRequest;
  /** How long (ms, wall clock) the rolled-out canary must stay healthy before promotion. */
  healthWindowMs: number;
}

/**
 * The whole canary policy as one deployment's history: ROLLING_OUT (canary started), then LIVE once
 * the canary stayed healthy for the window and the promotion rolled out; or FAILED (the canary or the
 * promotion failed) and ROLLED_BACK once the stable spec serves alone again.
 */
export async function rolloutCanary(options: CanaryRolloutOptions): Promise<RolloutResult> {
  const record = recorder(options);
  const { request, lastGood } = options;
  const percent = request.canary?.trafficPercent ?? 0;
  await record.step(
    'ROLLING_OUT',
    `starting a ${percent} % canary of image ${request.image} next to ${lastGood.image}`,
  );
  let outcome: WatchOutcome & { deleted?: string[] } = await startCanary(
    options,
    request,
    lastGood,
    options.healthWindowMs,
  );
  if (outcome.ok) outcome = await promoteCanary(options, request, lastGood);
  if (outcome.ok) {
    await record.step(
      'LIVE',
      `canary promoted after a ${options.healthWindowMs / 1000} s health window${deletedPart(outcome.deleted)}: ${outcome.message}`,
    );
    return { history: record.history };
  }
  const failure = outcome.failure;
  await record.step('FAILED', failure.message);
  if (failure.reason === 'Superseded') return { history: record.history, failure };
  const rollback = await rollbackCanary(options, lastGood, request);
  if (!rollback.ok) return { history: record.history, failure, rollbackFailure: rollback.failure };
  await record.step(
    'ROLLED_BACK',
    `canary removed, ${lastGood.image} serves alone${deletedPart(rollback.deleted)}: ${rollback.message}`,
  );
  return { history: record.history, failure };
}
