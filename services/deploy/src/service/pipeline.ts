import { type QueueConnection, type QueueWorker, UnrecoverableJobError } from '@mast/common';
import type { MastEvent } from '@mast/proto';
import type { FastifyBaseLogger } from 'fastify';
import type { DeploymentTarget, RolloutPolicy } from '../domain/policies.js';
import type { DeploymentRecord } from '../store/deploy-store.js';
import { DEPLOYMENT_JOBS_QUEUE, type DeploymentJob, type DeployService } from './deploy.js';
import type { PipelineObserver } from './metrics.js';

/** Deploy's subscription to the registry's events (its queue: `registry-events.deploy`). */
export const DEPLOY_SUBSCRIBER = 'deploy';
/** The registry's event topic (services/registry `REGISTRY_EVENTS_QUEUE`). */
export const REGISTRY_EVENTS_TOPIC = 'registry-events';

/** What one deployment is rolled out with. */
export interface DeploymentContext {
  deployment: DeploymentRecord;
  target: DeploymentTarget;
  /** The policy's settings (replicas, resources, strategy), absent for a manual deploy without one. */
  policy?: RolloutPolicy;
  /** The deployment serving on the target before this one (its image is the rollback's spec). */
  previous?: DeploymentRecord;
}

/** A rollout's end: LIVE, or failed and (when something served before) rolled back. */
export type RolloutOutcome =
  | { outcome: 'LIVE'; reason: string; endpoint?: string; spec?: string }
  | { outcome: 'FAILED'; reason: string; rollback?: { reason: string } };

/**
 * How a target kind builds and rolls out (Kubernetes: the OCI image builder and the rollout worker;
 * LOCAL: a model server child process). Both must be safe to run again for the same deployment (a
 * worker killed mid-step resumes by repeating it): builds are reproducible, applies are declarative.
 */
export interface DeploymentSteps {
  /** Builds the deployment's image; resolves with its reference (`repository@sha256:…`) and why. */
  build(context: DeploymentContext, signal: AbortSignal): Promise<{ image?: string; reason: string }>;
  /** Rolls the built deployment out and watches it to LIVE or failure (rolling back on failure). */
  rollout(context: DeploymentContext, signal: AbortSignal): Promise<RolloutOutcome>;
}

/** A step's error: its message is the deployment's FAILED reason. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one deployment's pipeline from its current state to the end: PENDING → BUILDING → BUILT →
 * ROLLING_OUT → LIVE, or FAILED (→ ROLLED_BACK when the previous version was restored). Every
 * transition is recorded with its reason. A failing build or rollout ends FAILED with the step's
 * message, never a stuck job; a run interrupted mid-step (a killed worker, or `signal` aborted by a
 * shutdown) leaves the state as it was, and the next run resumes at that step.
 */
export async function runDeployment(
  service: DeployService,
  steps: DeploymentSteps,
  deploymentId: string,
  signal: AbortSignal,
  observer?: PipelineObserver,
): Promise<void> {
  for (;;) {
    const deployment = await service.getDeployment(deploymentId);
    const context = await contextOf(service, deployment);
    switch (deployment.state) {
      case 'PENDING':
        await service.transition(deploymentId, 'BUILDING', `build started for target ${context.target.name}`);
        break;
      case 'BUILDING': {
        let built: { image?: string; reason: string };
        const started = performance.now();
        const elapsed = () => (performance.now() - started) / 1000;
        try {
          built = await steps.build(context, signal);
        } catch (error) {
          if (signal.aborted) throw error; // shutting down: the next worker resumes this step
          observer?.observeBuild(context.target.kind, 'failed', elapsed());
          await service.transition(deploymentId, 'FAILED', `build failed: ${reasonOf(error)}`);
          return;
        }
        observer?.observeBuild(context.target.kind, 'built', elapsed());
        await service.transition(deploymentId, 'BUILT', built.reason, { image: built.image });
        break;
      }
      case 'BUILT':
        await service.transition(deploymentId, 'ROLLING_OUT', `rolling out to target ${context.target.name}`);
        break;
      case 'ROLLING_OUT': {
        let result: RolloutOutcome;
        const started = performance.now();
        try {
          result = await steps.rollout(context, signal);
        } catch (error) {
          if (signal.aborted) throw error;
          result = { outcome: 'FAILED', reason: `rollout failed: ${reasonOf(error)}` };
        }
        observer?.observeRollout(
          context.target.kind,
          result.outcome === 'LIVE' ? 'live' : result.rollback ? 'rolled_back' : 'failed',
          (performance.now() - started) / 1000,
        );
        if (result.outcome === 'LIVE') {
          await service.transition(deploymentId, 'LIVE', result.reason, {
            endpoint: result.endpoint,
            spec: result.spec,
          });
          return;
        }
        await service.transition(deploymentId, 'FAILED', result.reason);
        if (result.rollback) await service.transition(deploymentId, 'ROLLED_BACK', result.rollback.reason);
        return;
      }
      default:
        return; // LIVE, FAILED, ROLLED_BACK: nothing left to do (a redelivered job)
    }
  }
}

async function contextOf(service: DeployService, deployment: DeploymentRecord): Promise<DeploymentContext> {
  const [target, policy, previous] = await Promise.all([
    service.getTarget(deployment.targetName),
    deployment.policyName === undefined ? undefined : service.findPolicy(deployment.policyName),
    deployment.previousDeploymentId === undefined
      ? undefined
      : service.getDeployment(deployment.previousDeploymentId),
  ]);
  return { deployment, target, policy, previous };
}

/**
 * Starts deploy's workers on `queues`: the subscriber `deploy` of the registry's events (creates the
 * deployments policies ask for) and the pipeline worker (`concurrency` deployments at once), then
 * re-enqueues unfinished deployments. Close the returned workers on shutdown.
 */
export async function startDeployWorkers(options: {
  service: DeployService;
  queues: QueueConnection;
  steps: DeploymentSteps;
  concurrency?: number;
  observer?: PipelineObserver;
  /** See `WorkerOptions.lockDurationMs` (how soon a killed worker's deployment resumes elsewhere). */
  lockDurationMs?: number;
  /** Where each deployment's end (LIVE, FAILED, ROLLED_BACK) and the workers' troubles are logged. */
  logger?: Pick<FastifyBaseLogger, 'info' | 'warn'>;
}): Promise<QueueWorker[]> {
  const { service, queues, steps } = options;
  const log = (message: string, details: Record<string, unknown>) => options.logger?.warn(details, message);
  const events = await queues.subscribe<MastEvent>(REGISTRY_EVENTS_TOPIC, DEPLOY_SUBSCRIBER);
  const consumer = events.process(
    async (job) => {
      await service.handleRegistryEvent(job.data);
    },
    {
      onFailed: (job, error, willRetry) =>
        log('deploy: registry event not handled', { eventId: job.id, error: error.message, willRetry }),
      onError: (error) => log('deploy: event queue error', { error: error.message }),
    },
  );
  const abort = new AbortController();
  const pipeline = queues.queue<DeploymentJob>(DEPLOYMENT_JOBS_QUEUE).process(
    async (job) => {
      try {
        await runDeployment(service, steps, job.data.deploymentId, abort.signal, options.observer);
        const done = await service.getDeployment(job.data.deploymentId);
        const details = {
          deploymentId: done.deploymentId,
          model: done.modelName,
          version: done.modelVersion,
          target: done.targetName,
          reason: done.transitions[done.transitions.length - 1]?.reason,
        };
        if (done.state === 'LIVE')
          options.logger?.info(details, `deploy: ${done.modelName} version ${done.modelVersion} is LIVE`);
        else log(`deploy: ${done.modelName} version ${done.modelVersion} ended ${done.state}`, details);
      } catch (error) {
        if (!abort.signal.aborted && job.attempt >= job.attempts) {
          // Out of tries (the database or a peer kept failing): end FAILED rather than stuck.
          await service
            .transition(
              job.data.deploymentId,
              'FAILED',
              `gave up after ${job.attempts} tries: ${reasonOf(error)}`,
            )
            .catch(() => {});
          throw new UnrecoverableJobError(reasonOf(error));
        }
        throw error;
      }
    },
    {
      concurrency: options.concurrency ?? 1,
      lockDurationMs: options.lockDurationMs,
      onFailed: (job, error, willRetry) =>
        log('deploy: pipeline step failed', {
          deploymentId: job.data.deploymentId,
          error: error.message,
          willRetry,
        }),
      onError: (error) => log('deploy: pipeline queue error', { error: error.message }),
    },
  );
  await service.resumeUnfinished();
  return [
    consumer,
    {
      async close(force?: boolean) {
        abort.abort();
        await pipeline.close(force);
      },
    },
  ];
}
