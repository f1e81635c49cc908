/**
 * Deploy workers on BullMQ (a real Redis) and PostgreSQL: a worker process killed (SIGKILL) in the
 * middle of a rollout leaves its job locked; BullMQ's stalled-job recovery hands it to another worker,
 * which resumes the deployment at ROLLING_OUT and takes it to LIVE, with every state recorded once
 * and one deployment for the event.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createQueueConnection,
  type Database,
  migrateToLatest,
  openDatabase,
  type QueueConnection,
  type QueueWorker,
} from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix, waitFor } from '@mast/test-support';
import type { Kysely } from 'kysely';
import { createPostgresDatabase } from '../../gateway/test/processes.js';
import { DeployService } from '../src/service/deploy.js';
import { startDeployWorkers } from '../src/service/pipeline.js';
import { deployMigrations } from '../src/store/migrations/index.js';
import type { DeployDatabase } from '../src/store/schema.js';

const WORKER = join(fileURLToPath(new URL('.', import.meta.url)), 'support', 'hanging-pipeline-worker.mjs');

describe('a deploy worker killed mid-rollout (PostgreSQL, Redis/BullMQ, worker as its own process)', () => {
  const prefix = uniqueRedisPrefix();
  let created: { url: string; drop(): Promise<void> };
  let database: Database<unknown>;
  let queues: QueueConnection;
  let service: DeployService;
  let child: ChildProcess | undefined;
  let workers: QueueWorker[] = [];

  beforeAll(async () => {
    created = await createPostgresDatabase();
    database = await openDatabase({ uri: created.url, poolSize: 4 });
    await migrateToLatest(database.db, deployMigrations);
    queues = createQueueConnection({ redisUrl: TEST_REDIS_URL, prefix });
    service = new DeployService({
      db: database.db as Kysely<DeployDatabase>,
      queues,
      registry: { exists: async () => true, modelExists: async () => true },
    });
    await service.createTarget({
      name: 'prod',
      kind: 'KUBERNETES',
      namespace: 'ml',
      imageRepository: 'registry.test/models',
      kserve: false,
    });
    await service.createPolicy({
      name: 'churn-prod',
      modelName: 'churn',
      trigger: { kind: 'STAGE', value: 'Production' },
      targetName: 'prod',
      resources: {},
    });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.close()));
    await queues?.close();
    await database?.close();
    await created?.drop();
    await deleteRedisKeys(prefix);
  });

  it('resumes the deployment on another worker, without a second deployment or a repeated state', async () => {
    const event: MastEvent = {
      event_id: '00000000-0000-4000-8000-00000000a001',
      type: 'MODEL_VERSION_STAGE_TRANSITIONED',
      occurred_at: Date.now(),
      source: 'registry',
      payload: { name: 'churn', version: '7', from_stage: 'Staging', to_stage: 'Production' },
    };
    const [deployment] = await service.handleRegistryEvent(event);

    child = spawn(process.execPath, [WORKER, created.url, TEST_REDIS_URL, prefix], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitFor(
      async () => (await service.getDeployment(deployment.deploymentId)).state === 'ROLLING_OUT',
      'the worker process to reach ROLLING_OUT',
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child?.once('exit', resolve));

    // The same event again (a redelivery) while the job is orphaned: still one deployment.
    expect((await service.handleRegistryEvent(event)).map((d) => d.deploymentId)).toEqual([
      deployment.deploymentId,
    ]);
    const rollouts: string[] = [];
    workers = await startDeployWorkers({
      service,
      queues,
      lockDurationMs: 1000,
      steps: {
        build: async () => {
          throw new Error('the build must not run again');
        },
        rollout: async (context) => {
          rollouts.push(context.deployment.deploymentId);
          return { outcome: 'LIVE', reason: 'available', endpoint: 'http://churn-prod.ml.svc' };
        },
      },
    });
    await waitFor(
      async () => (await service.getDeployment(deployment.deploymentId)).state === 'LIVE',
      'the deployment to resume and go LIVE',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const done = await service.getDeployment(deployment.deploymentId);
    expect(done.transitions.map((t) => t.to)).toEqual([
      'PENDING',
      'BUILDING',
      'BUILT',
      'ROLLING_OUT',
      'LIVE',
    ]);
    expect(done.image).toBe(`registry.test/models/churn@sha256:${'a'.repeat(64)}`);
    expect(rollouts).toEqual([deployment.deploymentId]);
    const all = await service.searchDeployments({ modelName: 'churn' }, 100);
    expect(all.deployments).toHaveLength(1);
  });
});
