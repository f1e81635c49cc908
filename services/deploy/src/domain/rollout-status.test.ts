import { describe, expect, it } from '@jest/globals';
import { type DeploymentView, deploymentRevision, deploymentRolloutStatus } from './rollout-status.js';

function deployment(
  generation: number,
  replicas: number | undefined,
  status: NonNullable<DeploymentView['status']>,
  revision?: string,
): DeploymentView {
  return {
    metadata: {
      name: 'iris',
      generation,
      annotations: revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision },
    },
    spec: replicas === undefined ? {} : { replicas },
    status,
  };
}

// The cases of kubectl's TestDeploymentStatusViewerStatus (rollout_status_test.go), plus the deadline.
describe('deploymentRolloutStatus (kubectl rollout status)', () => {
  it.each([
    [
      'updated replicas below spec.replicas',
      deployment(0, 1, { observedGeneration: 1, replicas: 1, updatedReplicas: 0, availableReplicas: 1 }),
      'Waiting for deployment "iris" rollout to finish: 0 out of 1 new replicas have been updated...',
    ],
    [
      'old replicas pending termination',
      deployment(1, 1, { observedGeneration: 1, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }),
      'Waiting for deployment "iris" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      'updated replicas not yet available',
      deployment(1, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }),
      'Waiting for deployment "iris" rollout to finish: 1 of 2 updated replicas are available...',
    ],
    [
      'generation not observed yet',
      deployment(2, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      'Waiting for deployment spec update to be observed...',
    ],
  ])('waits: %s', (_name, d, message) => {
    expect(deploymentRolloutStatus(d)).toEqual({ kind: 'waiting', message });
  });

  it.each([
    [
      'all updated and available',
      deployment(1, 2, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
    ],
    [
      'observed a newer generation',
      deployment(1, 2, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
    ],
    [
      'spec.replicas unset (HPA-owned)',
      deployment(1, undefined, {
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 3,
        availableReplicas: 3,
      }),
    ],
  ])('is done: %s', (_name, d) => {
    expect(deploymentRolloutStatus(d)).toEqual({
      kind: 'done',
      message: 'deployment "iris" successfully rolled out',
    });
  });

  it('fails on ProgressDeadlineExceeded before looking at the counts', () => {
    const d = deployment(3, 2, {
      observedGeneration: 3,
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 2,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
      ],
    });
    expect(deploymentRolloutStatus(d)).toEqual({
      kind: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'deployment "iris" exceeded its progress deadline',
    });
  });

  it('ignores a stale ProgressDeadlineExceeded until the generation is observed', () => {
    const d = deployment(4, 1, {
      observedGeneration: 3,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    expect(deploymentRolloutStatus(d).kind).toBe('waiting');
  });

  it('fails when the running revision is not the desired one, and accepts the same revision', () => {
    const status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 };
    expect(deploymentRolloutStatus(deployment(1, 1, status, '5'), 4)).toEqual({
      kind: 'failed',
      reason: 'RevisionChanged',
      message: 'desired revision (4) is different from the running revision (5)',
    });
    expect(deploymentRolloutStatus(deployment(1, 1, status, '4'), 4).kind).toBe('done');
    expect(deploymentRolloutStatus(deployment(1, 1, status, '5'), 0).kind).toBe('done');
  });

  it('reads the revision annotation, 0 when missing', () => {
    expect(deploymentRevision(deployment(1, 1, {}, '7'))).toBe(7);
    expect(deploymentRevision(deployment(1, 1, {}))).toBe(0);
  });
});
