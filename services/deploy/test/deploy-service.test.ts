/**
 * The deploy service on a real PostgreSQL (and PGlite): targets and policies, deployments created by
 * registry events exactly once per policy and event (also when the same event is handled by several
 * workers at once), the pipeline's state machine driven through scripted steps (success, a failed
 * build, a failed rollout rolled back, a worker that died mid-step), and conflicting transitions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createQueueConnection, type Database, migrateToLatest, type QueueConnection } from '@mast/common';
import type { MastEvent } from '@mast/proto';
import { BACKENDS, openTestDatabase } from '@mast/test-support';
import type { Kysely } from 'kysely';
import { DEPLOYMENT_JOBS_QUEUE, DeployService } from '../src/service/deploy.js';
import { type DeploymentSteps, type RolloutOutcome, runDeployment } from '../src/service/pipeline.js';
import { deployMigrations } from '../src/store/migrations/index.js';
import type { DeployDatabase } from '../src/store/schema.js';

const VERSIONS = new Set(['churn/1', 'churn/2', 'churn/3', 'churn/4']);

let eventCount = 0;
function aliasEvent(version: string, alias = 'champion', name = 'churn'): MastEvent {
  eventCount += 1;
  return {
    event_id: `00000000-0000-4000-8000-${String(eventCount).padStart(12, '0')}`,
    type: 'MODEL_ALIAS_SET',
    occurred_at: Date.now(),
    source: 'registry',
    payload: { name, alias, version },
  };
}

/** Steps that do what the test says, recording what they were asked. */
function scriptedSteps(script: {
  build?: () => Promise<{ image?: string; reason: string }>;
  rollout?: () => Promise<RolloutOutcome>;
}): DeploymentSteps & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async build(context) {
      calls.push(`build ${context.deployment.modelVersion}`);
      return script.build ? script.build() : { image: 'registry.test/churn@sha256:abc', reason: 'built' };
    },
    async rollout(context) {
      calls.push(
        `rollout ${context.deployment.modelVersion} after ${context.previous?.modelVersion ?? 'none'}`,
      );
      return script.rollout
        ? script.rollout()
        : { outcome: 'LIVE', reason: 'available', endpoint: 'http://churn' };
    },
  };
}

describe.each(BACKENDS)('deploy service (%s)', (backend) => {
  let database: Database<unknown>;
  let queues: QueueConnection;
  let service: DeployService;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    database = await openTestDatabase(backend);
    await migrateToLatest(database.db, deployMigrations);
    queues = createQueueConnection();
    service = new DeployService({
      db: database.db as Kysely<DeployDatabase>,
      queues,
      registry: {
        exists: async (name, version) => VERSIONS.has(`${name}/${version}`),
        modelExists: async (name) => name === 'churn',
      },
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
      replicas: 2,
      resources: {},
    });
  });
  afterAll(async () => {
    await queues?.close();
    await database?.close();
  });

  it('refuses duplicates, unknown targets and policies with MLflow error codes', async () => {
    await expect(service.createTarget({ name: 'prod', kind: 'LOCAL', kserve: false })).rejects.toMatchObject({
      code: 'RESOURCE_ALREADY_EXISTS',
    });
    await expect(
      service.createPolicy({
        name: 'other',
        modelName: 'churn',
        trigger: { kind: 'STAGE', value: 'Production' },
        targetName: 'nowhere',
        resources: {},
      }),
    ).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Deployment target 'nowhere' not found.",
    });
    await expect(
      service.createPolicy({
        name: 'fraud',
        modelName: 'fraud',
        trigger: { kind: 'STAGE', value: 'Production' },
        targetName: 'prod',
        resources: {},
      }),
    ).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Registered Model with name=fraud not found',
    });
    await expect(
      service.deployVersion({
        modelName: 'churn',
        version: '1',
        policyName: 'churn-champion',
        targetName: 'other',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    await expect(service.getDeployment('not-a-uuid')).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
    await expect(
      service.deployVersion({ modelName: 'churn', version: '9', targetName: 'prod' }),
    ).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('an alias event creates one deployment per matching policy, and a redelivery creates none', async () => {
    const event = aliasEvent('1');
    const [first] = await service.handleRegistryEvent(event);
    expect(first).toMatchObject({
      modelName: 'churn',
      modelVersion: '1',
      state: 'PENDING',
      cause: 'alias champion',
    });
    const again = await service.handleRegistryEvent(event);
    expect(again.map((d) => d.deploymentId)).toEqual([first.deploymentId]);
    expect(await service.handleRegistryEvent(aliasEvent('1', 'challenger'))).toEqual([]);
    const job = await queues.queue(DEPLOYMENT_JOBS_QUEUE).getJob(first.deploymentId);
    expect(job?.data).toEqual({ deploymentId: first.deploymentId });
  });

  it('runs a deployment through every state to LIVE, recording each transition with its reason', async () => {
    const [created] = await service.handleRegistryEvent(aliasEvent('2'));
    const steps = scriptedSteps({});
    await runDeployment(service, steps, created.deploymentId, signal);
    const done = await service.getDeployment(created.deploymentId);
    expect(done.state).toBe('LIVE');
    expect(done.image).toBe('registry.test/churn@sha256:abc');
    expect(done.endpoint).toBe('http://churn');
    expect(done.transitions.map((t) => [t.from, t.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'BUILDING'],
      ['BUILDING', 'BUILT'],
      ['BUILT', 'ROLLING_OUT'],
      ['ROLLING_OUT', 'LIVE'],
    ]);
    expect(done.transitions[4].reason).toBe('available');
    // A redelivered job of a finished deployment does nothing.
    await runDeployment(service, steps, created.deploymentId, signal);
    expect(steps.calls).toEqual(['build 2', 'rollout 2 after none']);
  });

  it('a failed build ends FAILED with the reason; the LIVE version stays the rollback target', async () => {
    const [created] = await service.handleRegistryEvent(aliasEvent('3'));
    const steps = scriptedSteps({
      build: async () => {
        throw new Error('base image registry.test/serve:1 not found (MANIFEST_UNKNOWN)');
      },
    });
    await runDeployment(service, steps, created.deploymentId, signal);
    const failed = await service.getDeployment(created.deploymentId);
    expect(failed.state).toBe('FAILED');
    expect(failed.transitions.at(-1)?.reason).toBe(
      'build failed: base image registry.test/serve:1 not found (MANIFEST_UNKNOWN)',
    );
    expect(steps.calls).toEqual(['build 3']);
  });

  it('a failed rollout that restored the previous version ends ROLLED_BACK', async () => {
    const [created] = await service.handleRegistryEvent(aliasEvent('4'));
    expect(created.previousDeploymentId).toBeDefined();
    const steps = scriptedSteps({
      rollout: async () => ({
        outcome: 'FAILED',
        reason: 'pod churn-abc is in CrashLoopBackOff',
        rollback: { reason: 'version 2 serving again' },
      }),
    });
    await runDeployment(service, steps, created.deploymentId, signal);
    const done = await service.getDeployment(created.deploymentId);
    expect(done.transitions.slice(-2).map((t) => [t.to, t.reason])).toEqual([
      ['FAILED', 'pod churn-abc is in CrashLoopBackOff'],
      ['ROLLED_BACK', 'version 2 serving again'],
    ]);
    expect(steps.calls).toEqual(['build 4', 'rollout 4 after 2']);
  });

  it('a worker that died mid-build resumes at BUILDING; rollback of a LIVE deployment redeploys the one before', async () => {
    const manual = await service.deployVersion({
      modelName: 'churn',
      version: '3',
      policyName: 'churn-champion',
    });
    await service.transition(manual.deploymentId, 'BUILDING', 'build started');
    // the worker dies here; the next run repeats the build
    await runDeployment(service, scriptedSteps({}), manual.deploymentId, signal);
    const live = await service.getDeployment(manual.deploymentId);
    expect(live.state).toBe('LIVE');
    expect(live.transitions.map((t) => t.to)).toEqual([
      'PENDING',
      'BUILDING',
      'BUILT',
      'ROLLING_OUT',
      'LIVE',
    ]);
    const rollback = await service.rollback(manual.deploymentId);
    expect(rollback).toMatchObject({
      modelVersion: '2',
      cause: `rollback of ${manual.deploymentId}`,
      state: 'PENDING',
    });
    await expect(service.rollback(rollback.deploymentId)).rejects.toMatchObject({
      code: 'RESOURCE_CONFLICT',
    });
  });

  it('searches by model, version and state, newest first, in pages', async () => {
    // one version serves a model on a target: version 3 going LIVE superseded version 2
    const live = await service.searchDeployments({ modelName: 'churn', states: ['LIVE'] }, 10);
    expect(live.deployments.map((d) => d.modelVersion)).toEqual(['3']);
    const superseded = await service.searchDeployments({ modelName: 'churn', states: ['SUPERSEDED'] }, 10);
    expect(superseded.deployments.map((d) => d.modelVersion)).toEqual(['2']);
    expect(superseded.deployments[0].transitions.at(-1)?.reason).toBe(
      `replaced by version 3 (deployment ${live.deployments[0].deploymentId})`,
    );
    await expect(service.rollback(superseded.deployments[0].deploymentId)).rejects.toMatchObject({
      code: 'RESOURCE_CONFLICT',
    });
    const page = await service.searchDeployments({ modelName: 'churn' }, 2);
    expect(page.deployments).toHaveLength(2);
    const next = await service.searchDeployments({ modelName: 'churn' }, 2, page.nextPageToken);
    expect(next.deployments.map((d) => d.deploymentId)).not.toContain(page.deployments[0].deploymentId);
    const [versions] = await service.deploymentsOfVersions([{ name: 'churn', version: '1' }]);
    expect(versions.map((d) => d.state)).toEqual(['PENDING']);
  });

  if (backend === 'postgres') {
    it('the same event handled by 10 workers at once creates exactly one deployment', async () => {
      const event = aliasEvent('1');
      const results = await Promise.all(Array.from({ length: 10 }, () => service.handleRegistryEvent(event)));
      const ids = new Set(results.flat().map((d) => d.deploymentId));
      expect(ids.size).toBe(1);
      const rows = await service.searchDeployments({ modelName: 'churn' }, 1000);
      expect(rows.deployments.filter((d) => d.sourceEventId === event.event_id)).toHaveLength(1);
    });

    it('conflicting transitions of one deployment: one wins, the others get RESOURCE_CONFLICT, no step is lost or doubled', async () => {
      const [created] = await service.handleRegistryEvent(aliasEvent('2'));
      const attempts = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          service.transition(created.deploymentId, 'BUILDING', `worker ${i}`),
        ),
      );
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const attempt of attempts.filter((a) => a.status === 'rejected')) {
        expect((attempt as PromiseRejectedResult).reason).toMatchObject({ code: 'RESOURCE_CONFLICT' });
      }
      const after = await service.getDeployment(created.deploymentId);
      expect(after.transitions.map((t) => t.to)).toEqual(['PENDING', 'BUILDING']);
    });
  }
});
