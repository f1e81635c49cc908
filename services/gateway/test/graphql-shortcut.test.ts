import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DASHBOARD_QUERY, seedDashboard } from './dashboard.js';
import { fakeRegistrySubgraph } from './fake-registry.js';
import { type InProcessServer, startInProcess } from './harness.js';

/**
 * The all-in-one gateway executes single-subgraph operations directly against the subgraph: the
 * answers must be exactly what the query planner gives, errors included.
 */
describe('single-subgraph operations: direct execution answers as the query planner does', () => {
  let direct: InProcessServer;
  let planned: InProcessServer;
  let experimentId: string;
  let runIds: string[];

  beforeAll(async () => {
    direct = await startInProcess('pglite', { extra: [fakeRegistrySubgraph([])] });
    planned = await startInProcess('pglite', {
      extra: [fakeRegistrySubgraph([])],
      shortcut: false,
      database: direct.database,
    });
    ({ experimentId, runIds } = await seedDashboard(direct.graphql, 'shortcut', 12, {
      metrics: 3,
      params: 2,
      tags: 1,
    }));
  });
  afterAll(async () => {
    await planned?.close();
    await direct?.close();
  });

  test.each<[string, string, (() => Record<string, unknown>) | undefined]>([
    ['dashboard', DASHBOARD_QUERY, () => ({ ids: [experimentId], first: 12 })],
    [
      'aliases, fragments, __typename, inline fragments',
      `query Q($id: ID!) { __typename a: run(id: $id) { ...F } b: run(id: $id) { ... on Run { id __typename } } }
       fragment F on Run { __typename id name tags { key } experiment { __typename name runCount(viewType: ALL) } }`,
      () => ({ id: runIds[3] }),
    ],
    [
      'connections and pages',
      `{ experiments(first: 1, orderBy: { field: NAME, direction: ASC }) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`,
      undefined,
    ],
    [
      'downsampled series and comparisons',
      `query($ids: [ID!]!) { compareRuns(runIds: $ids, metricKeys: ["m1", "m2"], maxPoints: 3) { buckets { startStep endStep } series { key count min max last run { name } } } }`,
      () => ({ ids: runIds.slice(0, 4) }),
    ],
    [
      'a resolver error (partial data)',
      `{ experiment(name: "shortcut") { name } run(id: "nope") { id } }`,
      undefined,
    ],
    ['a bad filter', `{ runs(experimentIds: ["0"], filter: "a.b.c = ") { nodes { id } } }`, undefined],
    [
      'a variable a subgraph scalar rejects',
      `query($s: Long) { run(id: "x") { metricHistory(key: "a", startStep: $s) { totalPoints } } }`,
      () => ({ s: 'soon' }),
    ],
    [
      'a literal a subgraph scalar rejects',
      `{ run(id: "x") { metricHistory(key: "a", startStep: 1.5) { totalPoints } } }`,
      undefined,
    ],
    ['a mutation that fails', `mutation { createExperiment(input: { name: "" }) { id } }`, undefined],
    [
      'non-null violation from an unknown id',
      `{ compareRuns(runIds: ["zz"], metricKeys: ["a"]) { buckets { startStep } } }`,
      undefined,
    ],
  ])('%s', async (_name, query, variables) => {
    const vars = variables?.();
    const a = await direct.graphql.post(query, vars);
    const b = await planned.graphql.post(query, vars);
    expect({ status: a.status, body: a.body }).toEqual({ status: b.status, body: b.body });
  });

  test('operations spanning subgraphs take the planner', async () => {
    const body = (
      await direct.graphql.post(
        `{ modelVersions { name } runs(experimentIds: ["0"]) { nodes { modelVersions { name } } } }`,
      )
    ).body;
    expect(body).toEqual({ data: { modelVersions: [], runs: { nodes: [] } } });
  });
});
