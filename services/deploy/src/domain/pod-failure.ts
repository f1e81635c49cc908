/**
 * Early failure detection for a rollout (spec deploy.md §2.4): a new pod whose image cannot be pulled
 * or whose container keeps crashing will never become available, so waiting for the progress deadline
 * (600 s by default) only delays the rollback.
 */

interface ContainerStatusView {
  name: string;
  image?: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
}

/** The fields of a v1 Pod the detection reads (a `V1Pod` or its JSON fit). */
export interface PodView {
  metadata?: { name?: string };
  status?: {
    conditions?: ReadonlyArray<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: Date | string;
    }>;
    initContainerStatuses?: readonly ContainerStatusView[];
    containerStatuses?: readonly ContainerStatusView[];
  };
}

/** Waiting reasons that never resolve on their own (a bad image reference, registry access, config). */
export const FATAL_WAITING_REASONS: readonly string[] = [
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
];

export interface PodFailureOptions {
  /** A CrashLoopBackOff container fails the rollout once restarted this many times (default 3). */
  crashLoopRestarts?: number;
  /** A pod unschedulable for this long fails the rollout (ms; default 5 minutes). */
  unschedulableForMs?: number;
  /** Now, for the unschedulable duration. */
  now: Date;
}

/** Why a pod makes the rollout fail: the pod, the container (if any), the Kubernetes reason, its message. */
export interface PodFailure {
  pod: string;
  container?: string;
  reason: string;
  message: string;
}

/**
 * The first pod in `pods` that dooms the rollout, or undefined. Rules, in order per pod: a container
 * (init containers first) waiting with a reason in FATAL_WAITING_REASONS; a container in CrashLoopBackOff
 * with `restartCount >= crashLoopRestarts`; condition PodScheduled=False reason Unschedulable whose
 * `lastTransitionTime` is at least `unschedulableForMs` before `now`.
 */
export function detectPodFailure(
  pods: readonly PodView[],
  options: PodFailureOptions,
): PodFailure | undefined {
  const crashLoopRestarts = options.crashLoopRestarts ?? 3;
  const unschedulableForMs = options.unschedulableForMs ?? 300_000;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const containers = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    for (const container of containers) {
      const waiting = container.state?.waiting;
      const reason = waiting?.reason;
      if (reason === undefined) continue;
      const restarts = container.restartCount ?? 0;
      if (
        FATAL_WAITING_REASONS.includes(reason) ||
        (reason === 'CrashLoopBackOff' && restarts >= crashLoopRestarts)
      ) {
        const detail = waiting?.message ? `: ${waiting.message}` : '';
        return {
          pod: name,
          container: container.name,
          reason,
          message: `pod ${name} container ${container.name} is ${reason} (restarts: ${restarts})${detail}`,
        };
      }
    }
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (
      scheduled?.status === 'False' &&
      scheduled.reason === 'Unschedulable' &&
      scheduled.lastTransitionTime
    ) {
      const since = new Date(scheduled.lastTransitionTime).getTime();
      if (options.now.getTime() - since >= unschedulableForMs) {
        return {
          pod: name,
          reason: 'Unschedulable',
          message: `pod ${name} is unschedulable${scheduled.message ? `: ${scheduled.message}` : ''}`,
        };
      }
    }
  }
  return undefined;
}
