import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { DASHBOARD_QUERY, seedDashboard } from './dashboard.js';
import { type FakeModelVersion, fakeRegistrySubgraph } from './fake-registry.js';
import { type InProcessServer, startInProcess } from './harness.js';

describe.each(BACKENDS)('federation and batching in-process (%s)', (backend) => {
  let server: InProcessServer;
  let registry: ReturnType<typeof fakeRegistrySubgraph>;
  let experimentId: string;
  let runIds: string[];
  const versions: FakeModelVersion[] = [];

  beforeAll(async () => {
    registry = fakeRegistrySubgraph(versions);
    server = await startInProcess(backend, { extra: [registry] });
    ({ experimentId, runIds } = await seedDashboard(server.graphql, 'dashboard', 100));
    versions.push(
      { name: 'fraud', version: 1, runId: runIds[0]! },
      { name: 'fraud', version: 2, runId: runIds[1]! },
      { name: 'churn', version: 1, runId: runIds[1]! },
    );
  });
  afterAll(async () => server?.close());

  test('a subgraph resolves tracking entities it references (Run from ModelVersion.run)', async () => {
    const before = server.statements.count;
    const { modelVersions } = await server.graphql.data(
      `{ modelVersions { name version run { id name experiment { name } latestMetrics(keys: ["m0"]) { value } } } }`,
    );
    expect(modelVersions).toEqual([
      {
        name: 'fraud',
        version: 1,
        run: {
          id: runIds[0],
          name: 'run-0',
          experiment: { name: 'dashboard' },
          latestMetrics: [{ value: 0 }],
        },
      },
      {
        name: 'fraud',
        version: 2,
        run: {
          id: runIds[1],
          name: 'run-1',
          experiment: { name: 'dashboard' },
          latestMetrics: [{ value: 1 }],
        },
      },
      {
        name: 'churn',
        version: 1,
        run: {
          id: runIds[1],
          name: 'run-1',
          experiment: { name: 'dashboard' },
          latestMetrics: [{ value: 1 }],
        },
      },
    ]);
    // One _entities fetch: runs by id, their experiment, their latest metrics.
    expect(server.statements.count - before).toBe(3);
  });

  test('tracking entities gain fields from another subgraph (Run.modelVersions)', async () => {
    const resolvedBefore = registry.referencesResolved();
    const { runs } = await server.graphql.data(
      `query($ids: [ID!]!) { runs(experimentIds: $ids, first: 100, orderBy: ["attributes.run_name ASC"]) {
        nodes { name modelVersions { name version } } } }`,
      { ids: [experimentId] },
    );
    const withVersions = runs.nodes.filter((run: any) => run.modelVersions.length > 0);
    expect(withVersions).toEqual([
      { name: 'run-0', modelVersions: [{ name: 'fraud', version: 1 }] },
      {
        name: 'run-1',
        modelVersions: [
          { name: 'fraud', version: 2 },
          { name: 'churn', version: 1 },
        ],
      },
    ]);
    expect(registry.referencesResolved() - resolvedBefore).toBe(100);
    const { run } = await server.graphql.data(
      `query($id: ID!) { run(id: $id) { name modelVersions { version } } }`,
      {
        id: runIds[1],
      },
    );
    expect(run).toEqual({ name: 'run-1', modelVersions: [{ version: 2 }, { version: 1 }] });
  });

  test('statement count: 100 runs with their metrics, params, tags cost what 5 runs cost', async () => {
    const count = async (first: number) => {
      const before = server.statements.count;
      const { runs } = await server.graphql.data(DASHBOARD_QUERY, { ids: [experimentId], first });
      expect(runs.nodes).toHaveLength(first);
      return { statements: server.statements.count - before, runs: runs.nodes };
    };
    const five = await count(5);
    const hundred = await count(100);
    expect(hundred.statements).toBe(five.statements);
    // runs + (params, tags, latest metrics, dataset inputs) read with them + the experiment + its tags.
    expect(hundred.statements).toBeLessThanOrEqual(7);
    const run = hundred.runs.find((r: any) => r.name === 'run-42');
    expect(run.latestMetrics).toHaveLength(10);
    expect(run.params).toHaveLength(10);
    expect(run.tags.map((t: any) => t.key)).toEqual(expect.arrayContaining(['t0', 't4', 'mlflow.runName']));
    expect(run.experiment).toEqual({ name: 'dashboard', description: null });
  });

  test('statement count: runs by id, histories and comparisons are batched too', async () => {
    const byIds = async (ids: string[]) => {
      const aliases = ids.map(
        (id, i) =>
          `r${i}: run(id: "${id}") { name experiment { name } params(keys: ["p1"]) { value } metricHistory(key: "m3", maxPoints: 5) { points { value } } }`,
      );
      const before = server.statements.count;
      const data = await server.graphql.data(`{ ${aliases.join(' ')} }`);
      expect(Object.keys(data)).toHaveLength(ids.length);
      expect(data.r0.metricHistory.points).toEqual([{ value: 0.3 }]);
      return server.statements.count - before;
    };
    expect(await byIds(runIds.slice(0, 60))).toBe(await byIds(runIds.slice(0, 3)));
    const compare = async (ids: string[]) => {
      const before = server.statements.count;
      await server.graphql.data(
        `query($ids: [ID!]!) { compareRuns(runIds: $ids, metricKeys: ["m1", "m2"], maxPoints: 10) { series { run { name } last } } }`,
        { ids },
      );
      return server.statements.count - before;
    };
    expect(await compare(runIds.slice(0, 100))).toBe(await compare(runIds.slice(0, 2)));
  });
});
