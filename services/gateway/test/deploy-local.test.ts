/**
 * Automated rollout to the LOCAL target of `mast server` (all-in-one, in-process queue), end to end over
 * real HTTP: a policy on alias `champion`, an alias set through MLflow's REST API, the deployment going
 * PENDING → … → LIVE with a model server child process answering `/invocations`; a version whose model
 * cannot be served ends ROLLED_BACK while the previous one keeps serving; GraphQL shows the deployments
 * on the model version; bad input gets MLflow's errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  LINEAR_INPUT,
  LINEAR_OUTPUT,
  logAndRegister,
  numbers,
  writeSklearnModel,
} from '../../model-server/test/serve-support.js';
import { generateTestModels } from '../../model-server/test/support/models.js';
import { deploymentOf } from './deployments.js';
import { useAllInOne } from './harness.js';

const API = '/api/2.0/mlflow';
const DEPLOY = '/api/2.0/mast/deployments';

describe('automated rollout to the LOCAL target of mast server (model server child processes)', () => {
  const mast = useAllInOne({ name: 'mast-deploy-local-' });

  test('bad input: invalid targets and policies, unknown names, unknown states', async () => {
    const bad = await mast.http.post(`${DEPLOY}/targets/create`, { name: 'Local_1', kind: 'LOCAL' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(bad.body.message).toMatch(/Invalid target name 'Local_1'/);
    const missing = await mast.http.post(`${DEPLOY}/policies/create`, {
      name: 'p',
      model_name: 'churn',
      target_name: 'x',
    });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/trigger/);
    const unknownTarget = await mast.http.post(`${DEPLOY}/policies/create`, {
      name: 'p',
      model_name: 'churn',
      target_name: 'nowhere',
      trigger: { kind: 'ALIAS', value: 'champion' },
    });
    expect(unknownTarget.status).toBe(404);
    expect(unknownTarget.body).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Deployment target 'nowhere' not found.",
    });
    const states = await mast.http.get(`${DEPLOY}/search`, { states: 'DONE' });
    expect(states.status).toBe(400);
    expect(
      (await mast.http.get(`${DEPLOY}/get`, { deployment_id: '00000000-0000-4000-8000-000000000000' }))
        .status,
    ).toBe(404);
  });

  test('an alias set rolls the version out to a local model server; a broken version is rolled back', async () => {
    const models = await generateTestModels();
    // versions 1 and 2 of churn (the linear model), alias champion on 1, before any policy exists
    await logAndRegister(mast.url, models.linear, 'churn');
    expect((await mast.http.post(`${DEPLOY}/targets/create`, { name: 'local', kind: 'LOCAL' })).status).toBe(
      200,
    );
    const policy = await mast.http.post(`${DEPLOY}/policies/create`, {
      name: 'churn-local',
      model_name: 'churn',
      target_name: 'local',
      trigger: { kind: 'alias', value: 'champion' },
    });
    expect(policy.status).toBe(200);
    expect(policy.body.policy).toMatchObject({ replicas: 1, strategy: 'ROLLING', paused: false });

    expect(
      (
        await mast.http.post(`${API}/registered-models/alias`, {
          name: 'churn',
          alias: 'champion',
          version: '2',
        })
      ).status,
    ).toBe(200);
    const live = await deploymentOf(mast.http, 'churn', '2', ['LIVE', 'FAILED', 'ROLLED_BACK']);
    expect(live.transitions.map((t: { to_state: string }) => t.to_state)).toEqual([
      'PENDING',
      'BUILDING',
      'BUILT',
      'ROLLING_OUT',
      'LIVE',
    ]);
    expect(live.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const scored = await fetch(`${live.endpoint}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(LINEAR_INPUT),
    });
    expect(scored.status).toBe(200);
    const predicted = numbers(((await scored.json()) as { predictions: unknown }).predictions);
    for (const [i, value] of predicted.entries()) expect(value).toBeCloseTo(LINEAR_OUTPUT[i], 4);
    expect(predicted).toHaveLength(LINEAR_OUTPUT.length);

    // version 3: an sklearn pickle, which Mast's model server does not run
    const broken = writeSklearnModel(mkdtempSync(join(tmpdir(), 'mast-broken-model-')));
    const run = await logAndRegister(mast.url, broken, 'churn-broken');
    const version = await mast.http.post(`${API}/model-versions/create`, {
      name: 'churn',
      source: `${run.artifactUri}/model`,
      run_id: run.runId,
    });
    expect(version.body.model_version.version).toBe('3');
    await mast.http.post(`${API}/registered-models/alias`, {
      name: 'churn',
      alias: 'champion',
      version: '3',
    });
    const rolledBack = await deploymentOf(mast.http, 'churn', '3', ['LIVE', 'ROLLED_BACK', 'FAILED']);
    expect(rolledBack.state).toBe('ROLLED_BACK');
    expect(rolledBack.transitions.at(-2).reason).toMatch(/failed before serving: .*sklearn/);
    expect(rolledBack.transitions.at(-1).reason).toBe('version 2 still serving');
    // the previous version still answers
    expect((await fetch(`${live.endpoint}/ping`)).status).toBe(200);

    // the alias back on version 1: it goes LIVE, version 2's deployment is SUPERSEDED and its server stops
    await mast.http.post(`${API}/registered-models/alias`, {
      name: 'churn',
      alias: 'champion',
      version: '1',
    });
    const back = await deploymentOf(mast.http, 'churn', '1', ['LIVE', 'FAILED', 'ROLLED_BACK']);
    expect(back.state).toBe('LIVE');
    const replaced = (await mast.http.get(`${DEPLOY}/get`, { deployment_id: live.deployment_id })).body
      .deployment;
    expect(replaced.state).toBe('SUPERSEDED');
    await expect(fetch(`${live.endpoint}/ping`)).rejects.toThrow();
    const stillServing = await fetch(`${back.endpoint}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(LINEAR_INPUT),
    });
    expect(stillServing.status).toBe(200);

    // Prometheus: deployments by state, rollout durations by outcome, queue depth
    const metrics = await (await fetch(`${mast.url}/metrics`)).text();
    expect(metrics).toMatch(/mast_deploy_deployments\{state="LIVE"\} 1/);
    expect(metrics).toMatch(/mast_deploy_deployments\{state="SUPERSEDED"\} 1/);
    expect(metrics).toMatch(/mast_deploy_deployments\{state="ROLLED_BACK"\} 1/);
    expect(metrics).toMatch(
      /mast_deploy_rollout_duration_seconds_count\{target_kind="LOCAL",outcome="live"\} 2/,
    );
    expect(metrics).toMatch(
      /mast_deploy_rollout_duration_seconds_count\{target_kind="LOCAL",outcome="rolled_back"\} 1/,
    );
    expect(metrics).toMatch(/mast_deploy_queue_jobs\{queue="deploy-pipeline",state="waiting"\} 0/);

    // GraphQL: the deployments of version 2, through the gateway (registry's ModelVersion + deploy's field)
    const graph = await mast.http.post('/graphql', {
      query:
        '{ modelVersion(name: "churn", version: "2") { currentStage deployments { state endpoint target { kind } transitions { toState } } } }',
    });
    expect(graph.body.errors).toBeUndefined();
    expect(graph.body.data.modelVersion.deployments).toEqual([
      expect.objectContaining({ state: 'SUPERSEDED', endpoint: live.endpoint, target: { kind: 'LOCAL' } }),
    ]);
    rmSync(broken, { recursive: true, force: true });
  });
});
