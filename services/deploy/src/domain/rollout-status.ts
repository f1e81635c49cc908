/**
 * `kubectl rollout status` for a Deployment, as `DeploymentStatusViewer.Status` decides it in
 * kubernetes/kubectl `pkg/polymorphichelpers/rollout_status.go` (spec deploy.md §2.4), with its messages.
 */

/** The fields of an apps/v1 Deployment the decision reads (a `V1Deployment` or its JSON fit). */
export interface DeploymentView {
  metadata?: { name?: string; generation?: number; annotations?: Record<string, string> };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: ReadonlyArray<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

/** `done`: rolled out; `waiting`: keep watching; `failed`: stop (progress deadline, another revision). */
export type RolloutStatus =
  | { kind: 'done'; message: string }
  | { kind: 'waiting'; message: string }
  | { kind: 'failed'; reason: 'ProgressDeadlineExceeded' | 'RevisionChanged'; message: string };

/** The annotation the Deployment controller keeps the rollout's sequence number in (§2.5). */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** The Progressing reason `deployment_util.go` calls `TimedOutReason`. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/**
 * The rollout status of `deployment`. With `revision` (> 0), a Deployment whose revision annotation
 * differs has been rolled over by someone else: failed, "desired revision (N) is different from the
 * running revision (M)". Status fields count only once `status.observedGeneration >= metadata.generation`;
 * then, in kubectl's order: Progressing reason ProgressDeadlineExceeded fails; fewer updated replicas than
 * `spec.replicas`, old replicas still present, or fewer available than updated replicas wait; else done.
 */
export function deploymentRolloutStatus(deployment: DeploymentView, revision?: number): RolloutStatus {
  const name = deployment.metadata?.name ?? '';
  if (revision !== undefined && revision > 0) {
    const running = deploymentRevision(deployment);
    if (running !== revision) {
      return {
        kind: 'failed',
        reason: 'RevisionChanged',
        message: `desired revision (${revision}) is different from the running revision (${running})`,
      };
    }
  }
  const status = deployment.status ?? {};
  if ((deployment.metadata?.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const progressing = status.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
      return {
        kind: 'failed',
        reason: PROGRESS_DEADLINE_EXCEEDED,
        message: `deployment "${name}" exceeded its progress deadline`,
      };
    }
    const updated = status.updatedReplicas ?? 0;
    const replicas = deployment.spec?.replicas;
    if (replicas !== undefined && updated < replicas) {
      return waiting(name, `${updated} out of ${replicas} new replicas have been updated...`);
    }
    const total = status.replicas ?? 0;
    if (total > updated) return waiting(name, `${total - updated} old replicas are pending termination...`);
    const available = status.availableReplicas ?? 0;
    if (available < updated)
      return waiting(name, `${available} of ${updated} updated replicas are available...`);
    return { kind: 'done', message: `deployment "${name}" successfully rolled out` };
  }
  return { kind: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
}

/** The Deployment's revision annotation as a number; 0 when absent or not a number (kubectl's `Revision`). */
export function deploymentRevision(deployment: DeploymentView): number {
  const value = Number(deployment.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(value) ? value : 0;
}

function waiting(name: string, what: string): RolloutStatus {
  return { kind: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${what}` };
}
