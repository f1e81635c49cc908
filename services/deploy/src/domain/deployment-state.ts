import { MlflowError } from '@mast/common';

/**
 * The states of one deployment (a model version rolled out to a target), issue 12:
 * PENDING -> BUILDING -> BUILT -> ROLLING_OUT -> LIVE, or FAILED -> ROLLED_BACK; a LIVE deployment
 * becomes SUPERSEDED when another version of its model goes LIVE on its target.
 */
export const DEPLOYMENT_STATES = [
  'PENDING',
  'BUILDING',
  'BUILT',
  'ROLLING_OUT',
  'LIVE',
  'FAILED',
  'ROLLED_BACK',
  'SUPERSEDED',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/**
 * Allowed transitions. Any step before LIVE may fail (a build error, a refused apply, a rollout that
 * crash-loops); only a failure can be rolled back, and only once the last-good spec is serving again.
 * A LIVE deployment ends SUPERSEDED when the next version of its model goes LIVE on its target (that
 * is a new deployment), or FAILED when it can no longer serve (a LOCAL model server that cannot be
 * started again after a restart). ROLLED_BACK and SUPERSEDED are final.
 */
const NEXT: Record<DeploymentState, readonly DeploymentState[]> = {
  PENDING: ['BUILDING', 'FAILED'],
  BUILDING: ['BUILT', 'FAILED'],
  BUILT: ['ROLLING_OUT', 'FAILED'],
  ROLLING_OUT: ['LIVE', 'FAILED'],
  LIVE: ['SUPERSEDED', 'FAILED'],
  FAILED: ['ROLLED_BACK'],
  ROLLED_BACK: [],
  SUPERSEDED: [],
};

/** One recorded step: from which state (null for the creation), to which, when and why. */
export interface DeploymentTransition {
  from: DeploymentState | null;
  to: DeploymentState;
  at: Date;
  reason: string;
}

/** A deployment's current state and every transition that led to it, oldest first. */
export interface DeploymentHistory {
  state: DeploymentState;
  transitions: readonly DeploymentTransition[];
}

export function canTransition(from: DeploymentState, to: DeploymentState): boolean {
  return NEXT[from].includes(to);
}

/** Whether no transition leaves `state`. */
export function isFinalState(state: DeploymentState): boolean {
  return NEXT[state].length === 0;
}

/** A new deployment in PENDING, its creation recorded with `reason` (e.g. "alias champion set on v3"). */
export function newDeployment(at: Date, reason: string): DeploymentHistory {
  return {
    state: 'PENDING',
    transitions: [{ from: null, to: 'PENDING', at, reason: requireReason(reason) }],
  };
}

/**
 * The history after moving to `to` at `at` for `reason` (a non-empty, human-readable cause).
 * Throws MlflowError RESOURCE_CONFLICT (409) when the state machine does not allow the step, and
 * INVALID_PARAMETER_VALUE when the reason is empty. Never mutates `history`.
 */
export function transition(
  history: DeploymentHistory,
  to: DeploymentState,
  reason: string,
  at: Date,
): DeploymentHistory {
  if (!canTransition(history.state, to)) {
    const allowed = NEXT[history.state];
    throw new MlflowError(
      'RESOURCE_CONFLICT',
      `A deployment in state ${history.state} cannot move to ${to} (allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none, it is final'}).`,
    );
  }
  return {
    state: to,
    transitions: [...history.transitions, { from: history.state, to, at, reason: requireReason(reason) }],
  };
}

function requireReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === '') throw MlflowError.invalidParameter('A deployment transition needs a reason.');
  return trimmed;
}
