import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, createRunId } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/**
 * `runs/search` builds its JSON in PostgreSQL; `runs/get` assembles records and serializes them in
 * Node. Both must write a run the same way (fields, order of lists, omissions, NaN as a string), so
 * each run of a varied experiment is compared between the two.
 */
describe.each(BACKENDS)('runs/search JSON built by the database (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  const post = (path: string, body: Record<string, unknown>) => server.client.post(`${API}${path}`, body);

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
    // A bare run: no user, no params, metrics, tags or inputs.
    await post('/runs/create', { experiment_id: experimentId });
    const full = await createRunId(server.client, experimentId, { user_id: 'ada', run_name: 'full' });
    await post('/runs/log-batch', {
      run_id: full,
      metrics: [
        { key: 'nan', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
        { key: 'ninf', value: '-Infinity', timestamp: 1, step: 0 },
        { key: 'small', value: 1e-7, timestamp: 2, step: 3 },
        { key: 'big', value: 123456789012345680, timestamp: 2 ** 40, step: 2 ** 40 },
      ],
      params: [
        { key: 'b', value: 'ünïcode "quoted" \\ back' },
        { key: 'a', value: '' },
      ],
      tags: [{ key: 'note', value: 'line\nbreak\ttab' }],
    });
    await post('/runs/log-inputs', {
      run_id: full,
      datasets: [
        {
          dataset: {
            name: 'train',
            digest: 'd1',
            source_type: 'local',
            source: '{"uri": "/x"}',
            schema: '{}',
          },
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
        },
        { dataset: { name: 'eval', digest: 'd2', source_type: 'local', source: '{}' } },
      ],
    });
    await post('/runs/update', { run_id: full, status: 'FINISHED', end_time: 5 });
  });
  afterAll(async () => server.close());

  test('every run of the page is written as runs/get writes it', async () => {
    const search = await post('/runs/search', { experiment_ids: [experimentId] });
    expect(search.status).toBe(200);
    expect(search.body.runs).toHaveLength(2);
    for (const run of search.body.runs) {
      const got = await server.client.get(`${API}/runs/get`, { run_id: run.info.run_id });
      const { outputs: _outputs, ...expected } = got.body.run;
      expect(run).toEqual(expected);
      expect(Object.keys(run.info)).toEqual(Object.keys(expected.info));
    }
    const full = search.body.runs.find((run: any) => run.info.run_name === 'full');
    expect(full.data.metrics.find((m: any) => m.key === 'nan').value).toBe('NaN');
    expect(full.data.params.map((p: any) => p.key)).toEqual(['a', 'b']);
    expect(full.inputs.dataset_inputs.map((d: any) => d.dataset.name)).toEqual(['eval', 'train']);
    const bare = search.body.runs.find((run: any) => run.info.run_name !== 'full');
    expect(bare.info.user_id).toBe('');
    expect(bare).toMatchObject({ data: {}, inputs: {} });
    expect(bare.info).not.toHaveProperty('end_time');
  });

  test('concurrent searches (built in one statement, not spread over connections) write the same text', async () => {
    const body = { experiment_ids: [experimentId], order_by: ['metrics.small DESC'] };
    // Alone, the search is spread over several connections; with others running, it is one statement.
    const alone = await post('/runs/search', body);
    const together = await Promise.all(Array.from({ length: 4 }, () => post('/runs/search', body)));
    expect(alone.body.runs).toHaveLength(2);
    for (const response of together) expect(response.text).toBe(alone.text);
  });

  test('an empty page is {} and a full page carries a token', async () => {
    const empty = await post('/runs/search', { experiment_ids: [experimentId], filter: "params.a = 'nope'" });
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('{}');
    const first = await post('/runs/search', { experiment_ids: [experimentId], max_results: 1 });
    expect(first.body.runs).toHaveLength(1);
    expect(typeof first.body.next_page_token).toBe('string');
    const second = await post('/runs/search', {
      experiment_ids: [experimentId],
      max_results: 1,
      page_token: first.body.next_page_token,
    });
    expect(second.body.runs[0].info.run_id).not.toBe(first.body.runs[0].info.run_id);
  });
});
