import type { GraphQLClient } from './harness.js';

const T0 = 1_700_000_000_000;

/** Seeds an experiment with `runs` runs, each with `metrics` latest metrics, `params` params and tags. */
export async function seedDashboard(
  graphql: GraphQLClient,
  name: string,
  runs: number,
  shape = { metrics: 10, params: 10, tags: 5 },
): Promise<{ experimentId: string; runIds: string[] }> {
  const { createExperiment } = await graphql.data(
    `mutation($name: String!) { createExperiment(input: { name: $name }) { id } }`,
    { name },
  );
  const experimentId: string = createExperiment.id;
  const runIds: string[] = [];
  for (let i = 0; i < runs; i++) {
    const { createRun } = await graphql.data(
      `mutation($input: CreateRunInput!) { createRun(input: $input) { id } }`,
      { input: { experimentId, name: `run-${i}`, startTime: T0 + i } },
    );
    runIds.push(createRun.id);
    await graphql.data(`mutation($input: LogBatchInput!) { logBatch(input: $input) { id } }`, {
      input: {
        runId: createRun.id,
        metrics: Array.from({ length: shape.metrics }, (_, k) => ({
          key: `m${k}`,
          value: i + k / 10,
          timestamp: T0,
          step: k,
        })),
        params: Array.from({ length: shape.params }, (_, k) => ({ key: `p${k}`, value: `v${i}-${k}` })),
        tags: Array.from({ length: shape.tags }, (_, k) => ({ key: `t${k}`, value: `x${k}` })),
      },
    });
  }
  return { experimentId, runIds };
}

export const DASHBOARD_QUERY = `query Dashboard($ids: [ID!]!, $first: Int!) {
  runs(experimentIds: $ids, first: $first) {
    nodes {
      id name status startTime
      experiment { name description }
      latestMetrics { key value step }
      params { key value }
      tags { key value }
      datasetInputs { context }
    }
    pageInfo { hasNextPage }
  }
}`;
