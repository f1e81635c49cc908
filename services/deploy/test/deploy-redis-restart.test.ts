/**
 * Deploy on BullMQ with Redis restarted in the middle of rollouts (a private redis-server with an
 * append-only file, killed with SIGKILL and started again on the same port and directory) and
 * PostgreSQL: every registry event still makes exactly one deployment, every deployment ends, no state
 * is recorded twice, and one version serves at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createQueueConnection,
  type Database,
  freePort,
  migrateToLatest,
  openDatabase,
  publishToTopic,
  type QueueConnection,
  type QueueWorker,
} from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { waitFor } from '@mast/test-support';
import type { Kysely } from 'kysely';
import { createPostgresDatabase } from '../../gateway/test/processes.js';
import { DeployService } from '../src/service/deploy.js';
import { REGISTRY_EVENTS_TOPIC, startDeployWorkers } from '../src/service/pipeline.js';
import { deployMigrations } from '../src/store/migrations/index.js';
import type { DeployDatabase } from '../src/store/schema.js';

/** redis-server on `port`, persisting every write to an append-only file in `dir`. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = spawn('redis-cli', ['-p', String(port), 'ping'], {
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let out = '';
        probe.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        probe.once('exit', () => resolve(out.includes('PONG')));
      }),
    'redis-server to answer',
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  return child;
}

describe('deploy with Redis restarted mid-rollout (PostgreSQL, a private redis-server with an append-only file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-redis-restart-'));
  let port: number;
  let redis: ChildProcess;
  let created: { url: string; drop(): Promise<void> };
  let database: Database<unknown>;
  let queues: QueueConnection;
  let service: DeployService;
  let workers: QueueWorker[] = [];

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port, dir);
    created = await createPostgresDatabase();
    database = await openDatabase({ uri: created.url, poolSize: 6 });
    await migrateToLatest(database.db, deployMigrations);
    queues = createQueueConnection({ redisUrl: `redis://127.0.0.1:${port}`, prefix: 'mast-restart' });
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
      name: 'churn-champion',
      modelName: 'churn',
      trigger: { kind: 'ALIAS', value: 'champion' },
      targetName: 'prod',
      resources: {},
    });
  });
  afterAll(async () => {
    // Forced: what is checked is checked; a graceful close after the Redis restart twice outlasted the
    // hook's 60 s on a loaded CI machine (the pipeline worker ignored `force` until then).
    await Promise.all(workers.map((worker) => worker.close(true)));
    await queues?.close();
    redis?.kill('SIGKILL');
    await database?.close();
    await created?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses and doubles nothing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    workers = await startDeployWorkers({
      service,
      queues,
      concurrency: 2,
      steps: {
        build: async (context) => ({
          image: `registry.test/models/churn@sha256:${context.deployment.modelVersion.padStart(64, '0')}`,
          reason: 'built',
        }),
        rollout: async () => {
          await gate;
          return { outcome: 'LIVE', reason: 'available' };
        },
      },
    });
    const events: MastEvent[] = ['1', '2', '3', '4'].map((version) => ({
      event_id: `00000000-0000-4000-8000-00000000b00${version}`,
      type: 'MODEL_ALIAS_SET',
      occurred_at: Date.now(),
      source: 'registry',
      payload: { name: 'churn', alias: 'champion', version },
    }));
    for (const event of events) {
      expect(
        await publishToTopic(queues, REGISTRY_EVENTS_TOPIC, event.type, event, { jobId: event.event_id }),
      ).toBe(1);
    }
    await waitFor(
      async () =>
        (await service.searchDeployments({ modelName: 'churn', states: ['ROLLING_OUT'] }, 10)).deployments
          .length > 0,
      'a rollout in flight',
      { timeoutMs: 30_000, intervalMs: 50 },
    );

    // Redis dies with rollouts in flight, and comes back from its append-only file.
    redis.kill('SIGKILL');
    await new Promise((resolve) => redis.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    redis = await startRedis(port, dir);
    release();

    await waitFor(
      async () => {
        const all = await service.searchDeployments({ modelName: 'churn' }, 100);
        return (
          all.deployments.length === 4 &&
          all.deployments.every((d) => d.state === 'LIVE' || d.state === 'SUPERSEDED')
        );
      },
      'every deployment to end',
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const all = await service.searchDeployments({ modelName: 'churn' }, 100);
    expect(all.deployments.map((d) => d.sourceEventId).sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(all.deployments.filter((d) => d.state === 'LIVE')).toHaveLength(1);
    for (const deployment of all.deployments) {
      const states = deployment.transitions.map((t) => t.to);
      expect(new Set(states).size).toBe(states.length);
      expect(states.slice(0, 5)).toEqual(['PENDING', 'BUILDING', 'BUILT', 'ROLLING_OUT', 'LIVE']);
    }
  });
});
