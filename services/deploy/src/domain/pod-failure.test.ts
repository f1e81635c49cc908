import { describe, expect, it } from '@jest/globals';
import { detectPodFailure, type PodView } from './pod-failure.js';

const now = new Date('2026-01-01T00:10:00Z');

function pod(name: string, waitingReason?: string, restartCount = 0, message?: string): PodView {
  return {
    metadata: { name },
    status: {
      containerStatuses: [
        {
          name: 'model-server',
          restartCount,
          state: waitingReason ? { waiting: { reason: waitingReason, message } } : {},
        },
      ],
    },
  };
}

describe('detectPodFailure', () => {
  it('passes healthy and still-starting pods', () => {
    expect(
      detectPodFailure([pod('a'), pod('b', 'ContainerCreating'), pod('c', 'CrashLoopBackOff', 2)], { now }),
    ).toBe(undefined);
  });

  it.each([
    'ErrImagePull',
    'ImagePullBackOff',
    'InvalidImageName',
    'CreateContainerConfigError',
    'CreateContainerError',
  ])('fails at once on %s', (reason) => {
    expect(detectPodFailure([pod('a'), pod('b', reason, 0, 'not found')], { now })).toEqual({
      pod: 'b',
      container: 'model-server',
      reason,
      message: `pod b container model-server is ${reason} (restarts: 0): not found`,
    });
  });

  it('fails on CrashLoopBackOff only from the restart threshold on', () => {
    const crashing = [pod('a', 'CrashLoopBackOff', 3)];
    expect(detectPodFailure(crashing, { now })?.reason).toBe('CrashLoopBackOff');
    expect(detectPodFailure(crashing, { now, crashLoopRestarts: 4 })).toBe(undefined);
  });

  it('checks init containers too', () => {
    const p: PodView = {
      metadata: { name: 'i' },
      status: {
        initContainerStatuses: [{ name: 'fetch', state: { waiting: { reason: 'ImagePullBackOff' } } }],
      },
    };
    expect(detectPodFailure([p], { now })?.container).toBe('fetch');
  });

  it('fails on a pod unschedulable for longer than the limit', () => {
    const unschedulable = (since: string): PodView => ({
      metadata: { name: 'u' },
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes have enough memory',
            lastTransitionTime: since,
          },
        ],
      },
    });
    expect(
      detectPodFailure([unschedulable('2026-01-01T00:09:00Z')], { now, unschedulableForMs: 120_000 }),
    ).toBe(undefined);
    expect(
      detectPodFailure([unschedulable('2026-01-01T00:07:00Z')], { now, unschedulableForMs: 120_000 }),
    ).toEqual({
      pod: 'u',
      reason: 'Unschedulable',
      message: 'pod u is unschedulable: 0/3 nodes have enough memory',
    });
  });
});
