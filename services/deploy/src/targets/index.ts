import type { TargetKind } from '../domain/policies.js';
import type { DeploymentContext, DeploymentSteps } from '../service/pipeline.js';

/**
 * One `DeploymentSteps` dispatching on the deployment's target kind. A kind this process has no steps
 * for fails the deployment with a message saying so (never a stuck job).
 */
export function stepsByTargetKind(steps: Partial<Record<TargetKind, DeploymentSteps>>): DeploymentSteps {
  const of = (context: DeploymentContext): DeploymentSteps => {
    const found = steps[context.target.kind];
    if (!found) {
      throw new Error(
        `this deploy worker cannot roll out to ${context.target.kind} targets (it runs ${Object.keys(steps).join(', ') || 'none'})`,
      );
    }
    return found;
  };
  return {
    build: (context, signal) => of(context).build(context, signal),
    rollout: (context, signal) => of(context).rollout(context, signal),
  };
}
