/** The fields of a KServe v1beta1 InferenceService the decision reads (spec deploy.md §3.5). */
export interface InferenceServiceView {
  metadata?: { name?: string; generation?: number };
  status?: {
    observedGeneration?: number;
    conditions?: ReadonlyArray<{ type: string; status: string; reason?: string; message?: string }>;
    modelStatus?: {
      transitionStatus?: string;
      states?: { activeModelState?: string; targetModelState?: string };
      lastFailureInfo?: { reason?: string; message?: string };
    };
    components?: { predictor?: { latestCreatedRevision?: string; latestReadyRevision?: string } };
  };
}

export type InferenceServiceStatus =
  | { kind: 'done'; message: string }
  | { kind: 'waiting'; message: string }
  | { kind: 'failed'; reason: string; message: string };

/**
 * The rollout status of an InferenceService, after §3.5: nothing counts before
 * `status.observedGeneration >= metadata.generation`; a model that failed to load
 * (`modelStatus.transitionStatus` BlockedByFailedLoad or InvalidSpec, or a FailedToLoad model state)
 * fails with `lastFailureInfo`; `Ready=True` with the latest created predictor revision also the latest
 * ready one is done; anything else waits (with the Ready condition's reason when there is one).
 */
export function inferenceServiceStatus(isvc: InferenceServiceView): InferenceServiceStatus {
  const name = isvc.metadata?.name ?? '';
  const status = isvc.status ?? {};
  if ((isvc.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { kind: 'waiting', message: 'Waiting for inference service spec update to be observed...' };
  }
  const model = status.modelStatus;
  if (
    model?.transitionStatus === 'BlockedByFailedLoad' ||
    model?.transitionStatus === 'InvalidSpec' ||
    model?.states?.targetModelState === 'FailedToLoad' ||
    model?.states?.activeModelState === 'FailedToLoad'
  ) {
    const failure = model.lastFailureInfo;
    return {
      kind: 'failed',
      reason: failure?.reason ?? model.transitionStatus ?? 'FailedToLoad',
      message: `inference service "${name}" failed: ${failure?.message ?? model.transitionStatus}`,
    };
  }
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const predictor = status.components?.predictor;
  if (ready?.status === 'True' && predictor?.latestCreatedRevision === predictor?.latestReadyRevision) {
    return { kind: 'done', message: `inference service "${name}" is ready` };
  }
  const why = ready?.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : '';
  return { kind: 'waiting', message: `Waiting for inference service "${name}" to become ready${why}...` };
}
