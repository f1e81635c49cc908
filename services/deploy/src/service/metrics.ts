import type { QueueConnection } from '@mast/common';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { DEPLOYMENT_STATES } from '../domain/deployment-state.js';
import type { DeployService } from './deploy.js';

const DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** What the pipeline reports: a build's or a rollout's duration and how it ended. */
export interface PipelineObserver {
  observeBuild(targetKind: string, outcome: 'built' | 'failed', seconds: number): void;
  observeRollout(targetKind: string, outcome: 'live' | 'failed' | 'rolled_back', seconds: number): void;
}

/**
 * Deploy's Prometheus metrics on the process's registry: `mast_deploy_deployments{state}` and
 * `mast_deploy_queue_jobs{queue,state}` (read when scraped), `mast_deploy_build_duration_seconds` and
 * `mast_deploy_rollout_duration_seconds` by target kind and outcome.
 */
export function deployMetrics(
  registry: Registry,
  service: DeployService,
  queues: () => QueueConnection,
  queueNames: readonly string[],
): PipelineObserver {
  new Gauge({
    name: 'mast_deploy_deployments',
    help: 'Deployments by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await service.countByState();
      for (const state of DEPLOYMENT_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'mast_deploy_queue_jobs',
    help: "Jobs in deploy's queues by state (waiting is the queue depth)",
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const name of queueNames) {
        const counts = await queues().queue(name).getCounts();
        for (const [state, count] of Object.entries(counts)) this.set({ queue: name, state }, count);
      }
    },
  });
  const build = new Histogram({
    name: 'mast_deploy_build_duration_seconds',
    help: 'Model image builds by target kind and outcome (LOCAL targets build nothing)',
    labelNames: ['target_kind', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const rollout = new Histogram({
    name: 'mast_deploy_rollout_duration_seconds',
    help: 'Rollouts, from apply to LIVE or failure (rollback included), by target kind and outcome',
    labelNames: ['target_kind', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    observeBuild: (targetKind, outcome, seconds) =>
      build.observe({ target_kind: targetKind, outcome }, seconds),
    observeRollout: (targetKind, outcome, seconds) =>
      rollout.observe({ target_kind: targetKind, outcome }, seconds),
  };
}
