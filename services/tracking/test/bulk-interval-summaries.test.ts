import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { sql } from 'kysely';
import { API, createExperiment, createRunId } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

/** Points per run: past the exact-sampling limit (100,000 in all), so the summaries answer. */
const POINTS = 60_000;

/**
 * `get-history-bulk-interval` on long series reads the chunk summaries GraphQL downsampling uses: at
 * most `max_results` points per run, in step order, each a real logged point (the last of its bucket),
 * the requested step range respected, the series' last step kept.
 */
describe.each(BACKENDS)('bulk-interval from chunk summaries (%s)', (backend) => {
  let server: TrackingServer;
  let runs: string[];

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    const experimentId = await createExperiment(server.client);
    runs = [await createRunId(server.client, experimentId), await createRunId(server.client, experimentId)];
    for (const [index, runId] of runs.entries()) {
      // value = step * 2 + run index: every returned point can be checked against what was logged.
      await sql`
        insert into tracking.metrics (run_uuid, key, step, timestamp, value)
        select ${runId}, 'loss', s, 1000 + s, s * 2 + ${index} from generate_series(0, ${POINTS - 1}) as s
      `.execute(server.database.db);
    }
  });
  afterAll(async () => server.close());

  const bulk = (query: Record<string, string | number | string[]>) =>
    server.client.get(`${API}/metrics/get-history-bulk-interval`, {
      run_ids: runs,
      metric_key: 'loss',
      ...query,
    });

  test('at most max_results points per run, each a logged point, ending at the last step', async () => {
    const response = await bulk({ max_results: 320 });
    expect(response.status).toBe(200);
    for (const [index, runId] of runs.entries()) {
      const points = response.body.metrics.filter((m: { run_id: string }) => m.run_id === runId);
      expect(points.length).toBeGreaterThan(100);
      expect(points.length).toBeLessThanOrEqual(320);
      const steps = points.map((p: { step: number }) => p.step);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
      expect(steps.at(-1)).toBe(POINTS - 1);
      for (const p of points) {
        expect(p).toEqual({
          key: 'loss',
          value: p.step * 2 + index,
          timestamp: 1000 + p.step,
          step: p.step,
          run_id: runId,
        });
      }
    }
    // Runs in the order they were asked for.
    expect(response.body.metrics[0].run_id).toBe(runs[0]);
  });

  test('a step range keeps every point within it', async () => {
    const response = await bulk({ max_results: 100, start_step: 10_000, end_step: 19_999 });
    expect(response.status).toBe(200);
    const steps = response.body.metrics.map((m: { step: number }) => m.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(10_000);
    expect(Math.max(...steps)).toBe(19_999);
  });
});
