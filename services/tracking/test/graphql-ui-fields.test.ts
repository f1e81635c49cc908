import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS, type HttpClient } from '@mast/test-support';
import { startTrackingServer, type TrackingServer } from './harness.js';

const KEYS_QUERY = `query Keys($id: ID!) { experimentKeys(experimentId: $id) { metrics params tags } }`;
const EXPERIMENT_RUNS_QUERY = `
  query ExperimentRuns($id: ID!, $filter: String, $after: String) {
    experiment(id: $id) {
      runs(filter: $filter, orderBy: ["attributes.run_name ASC"], first: 2, after: $after) {
        nodes { name experimentId }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`;

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

/**
 * The tracking subgraph's fields the web UI asks for (ui.md §5.5, issue 14): `experimentKeys`, the
 * distinct keys an experiment's runs logged (the column picker and filter completion), and
 * `Experiment.runs`, an experiment's runs as a connection.
 */
describe.each(BACKENDS)('GraphQL fields of the web UI (%s)', (backend) => {
  let server: TrackingServer;
  let http: HttpClient;

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
    return (await http.post('/graphql', { query, variables })).body as GraphQLBody<T>;
  }

  async function createExperiment(name: string): Promise<string> {
    return (await http.post('/api/2.0/mlflow/experiments/create', { name })).body.experiment_id;
  }

  async function createRun(experimentId: string, name: string, batch: Record<string, unknown> = {}) {
    const run = await http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: name,
    });
    const runId = run.body.run.info.run_id as string;
    expect((await http.post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, ...batch })).status).toBe(200);
    return runId;
  }

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    http = server.client;
  });
  afterAll(async () => server?.close());

  type Keys = { experimentKeys: { metrics: string[]; params: string[]; tags: string[] } };

  test("experimentKeys: distinct, sorted keys of the experiment's runs only, deleted runs included", async () => {
    const ours = await createExperiment('keys');
    const other = await createExperiment('other');
    const metric = (key: string) => ({ key, value: 1, timestamp: 1, step: 0 });
    await createRun(ours, 'a', {
      metrics: [metric('loss'), metric('acc')],
      params: [{ key: 'lr', value: '0.1' }],
      tags: [{ key: 'team', value: 'a' }],
    });
    const deleted = await createRun(ours, 'b', {
      metrics: [metric('loss'), metric('val/loss')],
      params: [{ key: 'batch size', value: '32' }],
    });
    await http.post('/api/2.0/mlflow/runs/delete', { run_id: deleted });
    await createRun(other, 'c', { metrics: [metric('elsewhere')], params: [{ key: 'nope', value: 'x' }] });

    const { data, errors } = await graphql<Keys>(KEYS_QUERY, { id: ours });
    expect(errors).toBeUndefined();
    expect(data!.experimentKeys.metrics).toEqual(['acc', 'loss', 'val/loss']);
    expect(data!.experimentKeys.params).toEqual(['batch size', 'lr']);
    // MLflow's own tags (run names, users) are keys too.
    expect(data!.experimentKeys.tags).toContain('team');
    expect(data!.experimentKeys.tags).toContain('mlflow.runName');
    expect(data!.experimentKeys.tags).not.toContain('nope');
  });

  test('experimentKeys: empty lists for an experiment without runs; an unknown one is RESOURCE_DOES_NOT_EXIST', async () => {
    const empty = await createExperiment('empty');
    expect((await graphql<Keys>(KEYS_QUERY, { id: empty })).data).toEqual({
      experimentKeys: { metrics: [], params: [], tags: [] },
    });
    const missing = await graphql<Keys>(KEYS_QUERY, { id: '987654' });
    expect(missing.errors?.[0]?.extensions.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  test("Experiment.runs: the experiment's runs page by page, filtered with MLflow's grammar", async () => {
    type Page = {
      experiment: {
        runs: {
          nodes: Array<{ name: string; experimentId: string }>;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      };
    };
    const id = await createExperiment('paged');
    for (const name of ['r1', 'r2', 'r3'])
      await createRun(id, name, { params: [{ key: 'odd', value: String(name !== 'r2') }] });
    await createRun(await createExperiment('not-these'), 'r0');

    const first = await graphql<Page>(EXPERIMENT_RUNS_QUERY, { id });
    expect(first.errors).toBeUndefined();
    expect(first.data!.experiment.runs.nodes).toEqual([
      { name: 'r1', experimentId: id },
      { name: 'r2', experimentId: id },
    ]);
    expect(first.data!.experiment.runs.pageInfo.hasNextPage).toBe(true);
    const second = await graphql<Page>(EXPERIMENT_RUNS_QUERY, {
      id,
      after: first.data!.experiment.runs.pageInfo.endCursor,
    });
    expect(second.data!.experiment.runs.nodes.map((run) => run.name)).toEqual(['r3']);
    expect(second.data!.experiment.runs.pageInfo.hasNextPage).toBe(false);

    const filtered = await graphql<Page>(EXPERIMENT_RUNS_QUERY, { id, filter: "params.odd = 'true'" });
    expect(filtered.data!.experiment.runs.nodes.map((run) => run.name)).toEqual(['r1', 'r3']);
    const bad = await graphql<Page>(EXPERIMENT_RUNS_QUERY, { id, filter: 'params.odd >' });
    expect(bad.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
  });
});
