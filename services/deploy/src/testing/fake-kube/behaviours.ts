/**
 * What a simulated pod running an image does (spec §6.4's scenarios), chosen by the test per image.
 * - healthy: Running, Ready `readyAfterMs` after creation (default 3 s)
 * - never-ready: Running, never Ready (the readiness probe keeps failing)
 * - crashloop: the container exits after 2 s; CrashLoopBackOff with restartCount rising every 10 s
 * - unpullable: ErrImagePull, then ImagePullBackOff after 5 s
 * - unschedulable: Pending, PodScheduled=False reason Unschedulable (no node has room)
 */
export type ImageBehaviour =
  | { kind: 'healthy'; readyAfterMs?: number }
  | { kind: 'never-ready' }
  | { kind: 'crashloop' }
  | { kind: 'unpullable' }
  | { kind: 'unschedulable' };

export const DEFAULT_READY_AFTER_MS = 3000;

/** Whether a pod created at `createdAt` is Ready at `now`, and since when. */
export function readySince(behaviour: ImageBehaviour, createdAt: number, now: number): number | undefined {
  if (behaviour.kind !== 'healthy') return undefined;
  const at = createdAt + (behaviour.readyAfterMs ?? DEFAULT_READY_AFTER_MS);
  return now >= at ? at : undefined;
}

/** A v1 Pod `status` for `behaviour` at `now` (clock times rendered with `iso`). */
export function podStatus(
  behaviour: ImageBehaviour,
  container: { name: string; image: string },
  createdAt: number,
  now: number,
  iso: (ms: number) => string,
): object {
  if (behaviour.kind === 'unschedulable') {
    return {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient memory.',
          lastTransitionTime: iso(createdAt),
        },
      ],
    };
  }
  const age = now - createdAt;
  const ready = readySince(behaviour, createdAt, now);
  const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(createdAt) };
  const readyCondition = {
    type: 'Ready',
    status: ready === undefined ? 'False' : 'True',
    lastTransitionTime: iso(ready ?? createdAt),
    ...(ready === undefined ? { reason: 'ContainersNotReady' } : {}),
  };
  const base = { name: container.name, image: container.image, imageID: '', ready: ready !== undefined };
  let state: object;
  let restartCount = 0;
  let phase = 'Running';
  let lastState: object = {};
  switch (behaviour.kind) {
    case 'unpullable':
      phase = 'Pending';
      state =
        age < 5000
          ? {
              waiting: {
                reason: 'ErrImagePull',
                message: `failed to pull image "${container.image}": not found`,
              },
            }
          : {
              waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` },
            };
      break;
    case 'crashloop':
      if (age < 2000) state = { running: { startedAt: iso(createdAt) } };
      else {
        restartCount = 1 + Math.floor((age - 2000) / 10_000);
        state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off 10s restarting failed container=${container.name}`,
          },
        };
        lastState = { terminated: { exitCode: 1, reason: 'Error' } };
      }
      break;
    default:
      state = { running: { startedAt: iso(createdAt) } };
  }
  return {
    phase,
    conditions: [scheduled, readyCondition],
    containerStatuses: [{ ...base, started: phase === 'Running', restartCount, state, lastState }],
    startTime: iso(createdAt),
  };
}
