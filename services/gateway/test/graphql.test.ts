import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { type InProcessServer, startInProcess } from './harness.js';

const T0 = 1_700_000_000_000;

const CREATE_EXPERIMENT = `mutation($name: String!, $tags: [TagInput!]) {
  createExperiment(input: { name: $name, tags: $tags }) { id name lifecycleStage creationTime description tags { key value } }
}`;
const CREATE_RUN = `mutation($input: CreateRunInput!) {
  createRun(input: $input) { id name experimentId status startTime lifecycleStage userId }
}`;
const LOG_BATCH = `mutation($input: LogBatchInput!) {
  logBatch(input: $input) { id latestMetrics { key value step timestamp } params { key value } }
}`;

/**
 * The federated API through the gateway, with the tracking subgraph executed in-process (the all-in-one
 * wiring): reads, writes, errors, HTTP behaviour (GET, APQ, ETag, CORS), limits and metrics.
 */
describe.each(BACKENDS)('GraphQL through the in-process gateway (%s)', (backend) => {
  let server: InProcessServer;
  let experimentId: string;
  const runIds: string[] = [];

  beforeAll(async () => {
    server = await startInProcess(backend);
    const { createExperiment } = await server.graphql.data(CREATE_EXPERIMENT, {
      name: 'fraud-model',
      tags: [{ key: 'mlflow.note.content', value: 'Detects fraud.' }],
    });
    experimentId = createExperiment.id;
    for (let i = 0; i < 5; i++) {
      const { createRun } = await server.graphql.data(CREATE_RUN, {
        input: {
          experimentId,
          name: `run-${i}`,
          startTime: T0 + i,
          userId: 'ada',
          tags: [{ key: 'team', value: i % 2 ? 'risk' : 'ops' }],
        },
      });
      runIds.push(createRun.id);
      await server.graphql.data(LOG_BATCH, {
        input: {
          runId: createRun.id,
          metrics: [
            { key: 'loss', value: 1 / (i + 1), timestamp: T0, step: 0 },
            { key: 'loss', value: 0.5 / (i + 1), timestamp: T0 + 1, step: 1 },
            { key: 'acc', value: i / 10, timestamp: T0, step: 1 },
          ],
          params: [{ key: 'lr', value: String(0.01 * (i + 1)) }],
        },
      });
    }
  });
  afterAll(async () => server?.close());

  test('mutations return the changed objects', async () => {
    const { createExperiment } = await server.graphql.data(CREATE_EXPERIMENT, { name: 'scratch' });
    expect(createExperiment).toMatchObject({
      name: 'scratch',
      lifecycleStage: 'ACTIVE',
      description: null,
      tags: [],
    });
    const id = createExperiment.id;
    const renamed = await server.graphql.data(
      `mutation($id: ID!) { renameExperiment(id: $id, newName: "scratch-2") { id name } }`,
      { id },
    );
    expect(renamed.renameExperiment).toEqual({ id, name: 'scratch-2' });
    const tagged = await server.graphql.data(
      `mutation($id: ID!) { setExperimentTag(experimentId: $id, key: "owner", value: "ada") { tags { key value } } }`,
      { id },
    );
    expect(tagged.setExperimentTag.tags).toEqual([{ key: 'owner', value: 'ada' }]);
    const { createRun } = await server.graphql.data(CREATE_RUN, { input: { experimentId: id } });
    expect(createRun).toMatchObject({ experimentId: id, status: 'RUNNING', lifecycleStage: 'ACTIVE' });
    expect(createRun.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    const updated = await server.graphql.data(
      `mutation($id: ID!) { updateRun(input: { id: $id, status: FINISHED, endTime: 5, name: "renamed" }) { status endTime name tags(keys: ["mlflow.runName"]) { value } } }`,
      { id: createRun.id },
    );
    expect(updated.updateRun).toEqual({
      status: 'FINISHED',
      endTime: 5,
      name: 'renamed',
      tags: [{ value: 'renamed' }],
    });
    const runTag = await server.graphql.data(
      `mutation($id: ID!) { setRunTag(runId: $id, key: "k", value: "v") { tags(keys: ["k"]) { key value } } }`,
      { id: createRun.id },
    );
    expect(runTag.setRunTag.tags).toEqual([{ key: 'k', value: 'v' }]);
    const untagged = await server.graphql.data(
      `mutation($id: ID!) { deleteRunTag(runId: $id, key: "k") { tags(keys: ["k"]) { key } } }`,
      { id: createRun.id },
    );
    expect(untagged.deleteRunTag.tags).toEqual([]);
    const deletedRun = await server.graphql.data(
      `mutation($id: ID!) { deleteRun(id: $id) { lifecycleStage } }`,
      {
        id: createRun.id,
      },
    );
    expect(deletedRun.deleteRun.lifecycleStage).toBe('DELETED');
    const deleted = await server.graphql.data(
      `mutation($id: ID!) { deleteExperiment(id: $id) { lifecycleStage } }`,
      {
        id,
      },
    );
    expect(deleted.deleteExperiment.lifecycleStage).toBe('DELETED');
    const restored = await server.graphql.data(
      `mutation($id: ID!) { restoreExperiment(id: $id) { lifecycleStage runCount(viewType: ALL) } }`,
      { id },
    );
    expect(restored.restoreExperiment).toEqual({ lifecycleStage: 'ACTIVE', runCount: 1 });
  });

  test('experiments: cursor pages, name filter, order, total count', async () => {
    for (const name of ['b-exp', 'a-exp', 'c-exp']) await server.graphql.data(CREATE_EXPERIMENT, { name });
    const page = `query($after: String) {
      experiments(first: 2, after: $after, nameContains: "-EXP", orderBy: { field: NAME, direction: ASC }) {
        totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor }
      }
    }`;
    const first = (await server.graphql.data(page)).experiments;
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['a-exp', 'b-exp']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.pageInfo.endCursor).toBe(first.edges[1].cursor);
    const second = (await server.graphql.data(page, { after: first.pageInfo.endCursor })).experiments;
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['c-exp']);
    expect(second.pageInfo).toEqual({ hasNextPage: false, endCursor: second.edges[0].cursor });
    const like = await server.graphql.data(
      `{ experiments(nameLike: "fraud%") { nodes { id name description runCount } } }`,
    );
    expect(like.experiments.nodes).toEqual([
      { id: experimentId, name: 'fraud-model', description: 'Detects fraud.', runCount: 5 },
    ]);
    const newest = await server.graphql.data(`{ experiments(first: 1) { nodes { name } } }`);
    expect(newest.experiments.nodes).toEqual([{ name: 'c-exp' }]);
  });

  test('experiment by id or by name', async () => {
    const byId = await server.graphql.data(
      `query($id: ID!) { experiment(id: $id) { name artifactLocation } }`,
      {
        id: experimentId,
      },
    );
    expect(byId.experiment).toEqual({
      name: 'fraud-model',
      artifactLocation: `mlflow-artifacts:/${experimentId}`,
    });
    const byName = await server.graphql.data(`{ experiment(name: "fraud-model") { id tags { key } } }`);
    expect(byName.experiment).toEqual({ id: experimentId, tags: [{ key: 'mlflow.note.content' }] });
  });

  test('runs: MLflow filters with OR, order by, cursor pages; run fields', async () => {
    const query = `query($ids: [ID!]!, $filter: String, $after: String) {
      runs(experimentIds: $ids, filter: $filter, orderBy: ["metrics.loss ASC"], first: 2, after: $after) {
        edges { cursor node { id name experiment { name } latestMetrics(keys: ["loss"]) { key value step } params { key value } tags(keys: ["team"]) { value } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const filter = "tags.team = 'risk' OR params.lr = '0.01'";
    const first = (await server.graphql.data(query, { ids: [experimentId], filter })).runs;
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['run-3', 'run-1']);
    expect(first.edges[0].node).toMatchObject({
      experiment: { name: 'fraud-model' },
      latestMetrics: [{ key: 'loss', value: 0.125, step: 1 }],
      params: [{ key: 'lr', value: '0.04' }],
      tags: [{ value: 'risk' }],
    });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (
      await server.graphql.data(query, { ids: [experimentId], filter, after: first.pageInfo.endCursor })
    ).runs;
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['run-0']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const one = await server.graphql.data(
      `query($id: ID!) { run(id: $id) { id name status userId startTime endTime artifactUri latestMetrics { key } datasetInputs { context } } }`,
      { id: runIds[0] },
    );
    expect(one.run).toEqual({
      id: runIds[0],
      name: 'run-0',
      status: 'RUNNING',
      userId: 'ada',
      startTime: T0,
      endTime: null,
      artifactUri: `mlflow-artifacts:/${experimentId}/${runIds[0]}/artifacts`,
      latestMetrics: [{ key: 'acc' }, { key: 'loss' }],
      datasetInputs: [],
    });
  });

  test('metricHistory downsamples; compareRuns aligns series', async () => {
    const runId = runIds[0]!;
    const metrics = Array.from({ length: 1000 }, (_, step) => ({
      key: 'curve',
      value: step === 500 ? 99 : step === 700 ? 'NaN' : Math.sin(step / 50),
      timestamp: T0 + step,
      step,
    }));
    await server.graphql.data(LOG_BATCH, { input: { runId, metrics } });
    const { run } = await server.graphql.data(
      `query($id: ID!) { run(id: $id) {
        full: metricHistory(key: "curve", maxPoints: 1000) { downsampled totalPoints buckets { count } }
        small: metricHistory(key: "curve", maxPoints: 10) { downsampled totalPoints buckets { startStep endStep count min { value step } max { value step } last { step value } } points { step value } }
        none: metricHistory(key: "nope") { totalPoints buckets { count } points { step } }
      } }`,
      { id: runId },
    );
    expect(run.full).toMatchObject({ downsampled: false, totalPoints: 1000 });
    expect(run.full.buckets).toHaveLength(1000);
    expect(run.small.downsampled).toBe(true);
    expect(run.small.buckets).toHaveLength(10);
    expect(Math.max(...run.small.buckets.map((b: any) => b.max.value))).toBe(99);
    expect(run.small.buckets[7]).toMatchObject({ startStep: 700, endStep: 799, count: 100 });
    expect(run.small.buckets[9].last).toEqual({ step: 999, value: Math.sin(999 / 50) });
    expect(run.small.points.map((p: any) => p.step)).toEqual(
      [...run.small.points.map((p: any) => p.step)].sort((a, b) => a - b),
    );
    expect(run.none).toEqual({ totalPoints: 0, buckets: [], points: [] });

    const { compareRuns } = await server.graphql.data(
      `query($ids: [ID!]!) { compareRuns(runIds: $ids, metricKeys: ["loss", "acc"], maxPoints: 5) {
        buckets { startStep endStep } series { runId key count min max last run { name } }
      } }`,
      { ids: runIds.slice(0, 2) },
    );
    expect(compareRuns.buckets).toEqual([
      { startStep: 0, endStep: 0 },
      { startStep: 1, endStep: 1 },
    ]);
    expect(compareRuns.series.map((s: any) => [s.run.name, s.key])).toEqual([
      ['run-0', 'loss'],
      ['run-0', 'acc'],
      ['run-1', 'loss'],
      ['run-1', 'acc'],
    ]);
    expect(compareRuns.series[2]).toMatchObject({ count: [1, 1], min: [0.5, 0.25], last: [0.5, 0.25] });
    expect(compareRuns.series[1]).toMatchObject({ count: [0, 1], min: [null, 0], last: [null, 0] });
  });

  test('NaN and infinities travel as strings', async () => {
    const runId = runIds[4]!;
    await server.graphql.data(LOG_BATCH, {
      input: { runId, metrics: [{ key: 'odd', value: 'Infinity', timestamp: T0, step: 5 }] },
    });
    const { run } = await server.graphql.data(
      `query($id: ID!) { run(id: $id) { latestMetrics(keys: ["odd"]) { value } } }`,
      {
        id: runId,
      },
    );
    expect(run.latestMetrics).toEqual([{ value: 'Infinity' }]);
  });

  test('bad input: clear errors with MLflow codes, never a 500', async () => {
    const cases: Array<[string, Record<string, unknown> | undefined, string, RegExp]> = [
      [`{ run(id: "nope") { id } }`, undefined, 'RESOURCE_DOES_NOT_EXIST', /Run with id=nope not found/],
      [
        `{ experiment(id: "12345") { id } }`,
        undefined,
        'RESOURCE_DOES_NOT_EXIST',
        /No Experiment with id=12345/,
      ],
      [`{ experiment { id } }`, undefined, 'INVALID_PARAMETER_VALUE', /exactly one of 'id' and 'name'/],
      [
        `{ runs(experimentIds: ["0"], filter: "metrics.loss >>> 1") { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /./,
      ],
      [
        `{ runs(experimentIds: ["0"], orderBy: ["nonsense DESC"]) { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /attribute key/,
      ],
      [
        `{ runs(experimentIds: ["0"], first: 5000) { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /'first' must be between 1 and 1000/,
      ],
      [
        `{ experiments(first: 0) { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /'first' must be between/,
      ],
      [
        `{ experiments(after: "garbage") { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /Invalid cursor/,
      ],
      [
        `{ runs(experimentIds: ["0"], after: "garbage!") { nodes { id } } }`,
        undefined,
        'INVALID_PARAMETER_VALUE',
        /Invalid cursor/,
      ],
      [
        `{ compareRuns(runIds: ["nope"], metricKeys: ["loss"]) { buckets { startStep } } }`,
        undefined,
        'RESOURCE_DOES_NOT_EXIST',
        /nope/,
      ],
      [`{ experiment(name: "a\\u0000b") { id } }`, undefined, 'INVALID_PARAMETER_VALUE', /NUL/],
      [CREATE_EXPERIMENT, { name: 'fraud-model' }, 'RESOURCE_ALREADY_EXISTS', /already exists/],
      [CREATE_EXPERIMENT, { name: '' }, 'INVALID_PARAMETER_VALUE', /cannot be empty/],
      [
        LOG_BATCH,
        { input: { runId: 'nope', params: [{ key: 'a', value: '1' }] } },
        'RESOURCE_DOES_NOT_EXIST',
        /nope/,
      ],
      [
        LOG_BATCH,
        { input: { runId: 'x', metrics: [{ key: '../a', value: 1 }] } },
        'INVALID_PARAMETER_VALUE',
        /Invalid metric name/,
      ],
    ];
    for (const [query, variables, code, message] of cases) {
      const error = await server.graphql.error(query, variables);
      expect({ query, code: error.extensions?.code }).toEqual({ query, code });
      expect(error.message).toMatch(message);
      expect(error.status).toBe(200);
    }
    const mismatch = await server.graphql.error(
      `mutation($id: ID!) { logBatch(input: { runId: $id, params: [{ key: "lr", value: "9" }] }) { id } }`,
      {
        id: runIds[0],
      },
    );
    expect(mismatch.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
    expect(mismatch.message).toMatch(/Changing param values is not allowed/);
  });

  test('malformed requests are 4xx GraphQL errors', async () => {
    const syntax = await server.graphql.post('{ run(id: "x") { id ');
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors![0]!.extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
    const unknown = await server.graphql.post('{ run(id: "x") { id favouriteColour } }');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(unknown.body.errors![0]!.message).toMatch(/favouriteColour/);
    const badVariable = await server.graphql.post(
      'query($n: Int!) { experiments(first: $n) { totalCount } }',
      { n: 'ten' },
    );
    expect(badVariable.status).toBe(400);
    expect(badVariable.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    // The gateway's schema does not know what a Long is: the subgraph rejects the literal.
    const badLong = await server.graphql.post(
      '{ run(id: "x") { metricHistory(key: "a", startStep: 1.5) { totalPoints } } }',
    );
    expect(badLong.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(badLong.body.errors![0]!.message).toMatch(/Long cannot represent 1\.5/);
    const badDouble = await server.graphql.post(
      'mutation($m: [MetricInput!]) { logBatch(input: { runId: "x", metrics: $m }) { id } }',
      { m: [{ key: 'a', value: 'lots' }] },
    );
    expect(badDouble.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const json = await server.http.request('POST', '/graphql', '{"query": ', {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(400);
    expect(json.body.errors[0].message).toMatch(/not valid JSON/);
    const text = await server.http.request('POST', '/graphql', '{ experiments { totalCount } }', {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(text.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    const empty = await server.http.request('POST', '/graphql', '{}', { 'content-type': 'application/json' });
    expect(empty.status).toBe(400);
    const mutationByGet = await server.graphql.get({ query: 'mutation { deleteRun(id: "x") { id } }' });
    expect(mutationByGet.status).toBe(405);
  });

  test('cost limit (depth: see the settings suite)', async () => {
    // A dashboard chart of 100 runs stays within the default limits.
    const chart = `{ runs(experimentIds: ["0"], first: 100) { edges { node { experiment { tags { key } }
      metricHistory(key: "loss", maxPoints: 500) { buckets { min { step } max { step } last { step } } } } } } }`;
    expect((await server.graphql.post(chart)).status).toBe(200);
    const aliases = Array.from(
      { length: 14 },
      (_, i) => `r${i}: runs(experimentIds: ["0"], first: 1000) { nodes { latestMetrics { key } } }`,
    );
    const costly = await server.graphql.post(`{ ${aliases.join(' ')} }`);
    expect(costly.status).toBe(400);
    expect(costly.body.errors![0]!.extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', maxCost: 250000 });
    expect(costly.body.errors![0]!.message).toMatch(/estimated cost is \d+; the limit is 250000/);
    const bigChart = await server.graphql.post(
      `{ runs(experimentIds: ["0"], first: 1000) { nodes { metricHistory(key: "loss", maxPoints: 10000) { points { value } } } } }`,
    );
    expect(bigChart.body.errors![0]!.extensions!.code).toBe('MAX_COST_EXCEEDED');
    // Fragments and variables count as if written inline.
    const viaFragments = await server.graphql.post(
      `query($n: Int!) { compareRuns(runIds: ["a"], metricKeys: ["b"]) { series { run { ...R } } } }
       fragment R on Run { metricHistory(key: "a", maxPoints: $n) { buckets { min { step } } } }`,
      { n: 100 },
    );
    expect(viaFragments.status).toBe(400);
    expect(viaFragments.body.errors![0]!.extensions!.code).toBe('MAX_COST_EXCEEDED');
    const small = await server.graphql.post(
      `query($n: Int!) { compareRuns(runIds: ["a"], metricKeys: ["b"]) { series { run { ...R } } } }
       fragment R on Run { metricHistory(key: "a", maxPoints: $n) { buckets { min { step } } } }`,
      { n: 10 },
    );
    expect(small.body.errors![0]!.extensions!.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  test('GET queries need no special header, answer with an ETag and revalidate', async () => {
    const query = `query Experiments { experiments(nameLike: "fraud%") { nodes { name } } }`;
    const response = await server.graphql.get({ query });
    expect(response.status).toBe(200);
    expect(response.body.data.experiments.nodes).toEqual([{ name: 'fraud-model' }]);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const again = await server.graphql.get({ query }, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    const failed = await server.graphql.get({ query: '{ run(id: "nope") { id } }' });
    expect(failed.headers.get('cache-control')).toBe('no-cache');
  });

  test('automatic persisted queries', async () => {
    const query = `{ experiments(nameLike: "fraud%") { totalCount } }`;
    const { createHash } = await import('node:crypto');
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const miss = await server.graphql.get({ extensions });
    expect(miss.body.errors![0]!.extensions!.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await server.http.request('POST', '/graphql', { query, extensions });
    expect(register.body.data).toEqual({ experiments: { totalCount: 1 } });
    const hit = await server.graphql.get({ extensions });
    expect(hit.status).toBe(200);
    expect(hit.body.data).toEqual({ experiments: { totalCount: 1 } });
  });

  test('introspection is on by default; no CORS headers unless configured', async () => {
    const schema = await server.graphql.data(
      `{ __type(name: "Run") { description fields { name description } } }`,
    );
    expect(schema.__type.description).toMatch(/MLflow run/);
    for (const field of schema.__type.fields) expect(field.description).toBeTruthy();
    const response = await server.graphql.post('{ __typename }', undefined, {
      origin: 'https://dash.example',
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('Prometheus: operation durations by name, errors by code', async () => {
    await server.graphql.post(`query DashboardRuns { experiments { totalCount } }`);
    await server.graphql.post(`query Broken { run(id: "nope") { id } }`);
    const metrics = await server.http.get('/metrics');
    expect(metrics.text).toMatch(
      /mast_graphql_operation_duration_seconds_count\{operation_name="DashboardRuns",operation_type="query"\} [1-9]/,
    );
    expect(metrics.text).toMatch(/mast_graphql_errors_total\{code="RESOURCE_DOES_NOT_EXIST"\} [1-9]/);
    expect(metrics.text).toMatch(/mast_graphql_errors_total\{code="GRAPHQL_PARSE_FAILED"\} [1-9]/);
  });

  test("the README's example query runs", async () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const query = /```graphql\n([\s\S]*?)```/.exec(readme)![1]!;
    const data = await server.graphql.data(query, { experiment: experimentId });
    expect(data.experiment).toEqual({ name: 'fraud-model', description: 'Detects fraud.', runCount: 5 });
    expect(data.runs.nodes.length).toBeGreaterThan(0);
    expect(data.runs.nodes[0].metricHistory.points.length).toBeGreaterThan(0);
  });

  test('the MLflow REST API is served as before, next to /graphql', async () => {
    const response = await server.http.get('/api/2.0/mlflow/experiments/get-by-name', {
      experiment_name: 'fraud-model',
    });
    expect(response.status).toBe(200);
    expect(response.body.experiment.experiment_id).toBe(experimentId);
  });
});

describe('GraphQL settings', () => {
  let server: InProcessServer;
  beforeAll(async () => {
    server = await startInProcess('pglite', {
      env: {
        MAST_GRAPHQL_INTROSPECTION: 'false',
        MAST_CORS_ORIGINS: 'https://dash.example',
        MAST_GRAPHQL_MAX_DEPTH: '3',
        MAST_GRAPHQL_MAX_PAGE_SIZE: '10',
        MAST_GRAPHQL_CACHE_MAX_AGE: '30',
      },
    });
  });
  afterAll(async () => server?.close());

  test('introspection can be switched off', async () => {
    const response = await server.graphql.post('{ __schema { types { name } } }');
    expect(response.status).toBe(400);
    expect(response.body.errors![0]!.message).toMatch(/introspection/i);
  });

  test('CORS for the configured origins only, with preflight', async () => {
    const allowed = await server.graphql.post('{ __typename }', undefined, {
      origin: 'https://dash.example',
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    const other = await server.graphql.post('{ __typename }', undefined, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await server.http.request('OPTIONS', '/graphql', undefined, {
      origin: 'https://dash.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  test('configured depth, page size and cache max-age', async () => {
    const deep = await server.graphql.post(
      `{ runs(experimentIds: ["0"]) { nodes { experiment { name } } } }`,
    );
    expect(deep.status).toBe(400);
    expect(deep.body.errors![0]!.extensions).toMatchObject({
      code: 'MAX_DEPTH_EXCEEDED',
      depth: 4,
      maxDepth: 3,
    });
    const page = await server.graphql.post(`{ experiments(first: 11) { totalCount } }`);
    expect(page.body.errors![0]!.extensions!.code).toBe('INVALID_PARAMETER_VALUE');
    expect(page.body.errors![0]!.message).toMatch(/between 1 and 10/);
    const cached = await server.graphql.get({ query: '{ experiments(first: 10) { totalCount } }' });
    expect(cached.headers.get('cache-control')).toBe('public, max-age=30');
  });
});
