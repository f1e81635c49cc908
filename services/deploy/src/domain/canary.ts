import { MlflowError } from '@mast/common';

/** How many pods the stable and the canary Deployment run for a canary behind one Service. */
export interface CanarySplit {
  stable: number;
  canary: number;
  /** The share of pods (hence, with round-robin Service endpoints, of requests) the canary gets, 0-100. */
  canaryPercent: number;
}

/**
 * The replica split for a canary taking `trafficPercent` (0-100, integer) of `replicas` pods (>= 1).
 * A Service spreads requests over endpoints, so traffic follows the pod ratio: the canary gets
 * round(replicas x percent / 100) pods, at least 1 when the percent is above 0; the stable Deployment
 * keeps the rest, at least 1 while the percent is below 100 (so a small model with 1 replica runs
 * 1 + 1 pods during its canary, a 50 % split). Throws INVALID_PARAMETER_VALUE outside those ranges.
 */
export function canaryReplicaSplit(replicas: number, trafficPercent: number): CanarySplit {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw MlflowError.invalidParameter(`Canary replicas must be a positive integer, got ${replicas}.`);
  }
  if (!Number.isInteger(trafficPercent) || trafficPercent < 0 || trafficPercent > 100) {
    throw MlflowError.invalidParameter(
      `Canary traffic percent must be an integer 0-100, got ${trafficPercent}.`,
    );
  }
  const canary = trafficPercent === 0 ? 0 : Math.max(1, Math.round((replicas * trafficPercent) / 100));
  const stable = trafficPercent === 100 ? 0 : Math.max(1, replicas - canary);
  return { stable, canary, canaryPercent: Math.round((canary * 100) / (stable + canary)) };
}
