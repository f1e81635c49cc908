import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, createRunId, expectError, logBatch } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const EXPORT = '/api/2.0/mast/runs/export-csv';

/** The CSV of an export request, with the answer's status and headers. */
async function exportCsv(server: TrackingServer, query: string) {
  const response = await fetch(`${server.client.baseUrl}${EXPORT}?${query}`);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const lines = (text: string) => text.split('\r\n').filter((line) => line !== '');

/**
 * `GET /api/2.0/mast/runs/export-csv`: every run a search matches as one streamed CSV file (the UI's
 * "export all runs", goal G12), columns named as `mlflow.search_runs()` names them.
 */
describe.each(BACKENDS)('runs CSV export (%s)', (backend) => {
  let server: TrackingServer;
  let exp: string;
  let other: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    const http = server.client;
    exp = await createExperiment(http);
    other = await createExperiment(http);
    ids.plain = await createRunId(http, exp, { run_name: 'plain', start_time: 1000, user_id: 'ada' });
    ids.quoted = await createRunId(http, exp, { run_name: 'a,"quoted"\nname', start_time: 2000 });
    ids.gone = await createRunId(http, exp, { run_name: 'gone', start_time: 3000 });
    ids.elsewhere = await createRunId(http, other, { run_name: 'elsewhere', start_time: 4000 });
    await logBatch(http, ids.plain!, {
      metrics: [{ key: 'loss', value: 0.25, timestamp: 1, step: 0 }],
      params: [{ key: 'lr', value: '0.01' }],
      tags: [{ key: 'team', value: 'risk' }],
    });
    await logBatch(http, ids.quoted!, { metrics: [{ key: 'loss', value: 'NaN', timestamp: 1, step: 0 }] });
    expect((await http.post(`${API}/runs/delete`, { run_id: ids.gone })).status).toBe(200);
  });
  afterAll(async () => server?.close());

  test('the chosen columns of the matching runs, in the search order, quoted as RFC 4180', async () => {
    const answer = await exportCsv(
      server,
      `experiment_ids=${exp}&order_by=attributes.start_time%20ASC&metrics=loss&params=lr&tags=team`,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="runs-${exp}.csv"`);
    const rows = lines(answer.text);
    expect(rows[0]).toBe(
      'run_id,run_name,experiment_id,status,user_id,start_time,end_time,artifact_uri,metrics.loss,params.lr,tags.team',
    );
    expect(rows[1]).toBe(
      `${ids.plain},plain,${exp},RUNNING,ada,1970-01-01T00:00:01.000Z,,mlflow-artifacts:/${exp}/${ids.plain}/artifacts,0.25,0.01,risk`,
    );
    // A quoted field keeps its line break, so the second run's line spans two text lines.
    expect(answer.text).toContain(
      `${ids.quoted},"a,""quoted""\nname",${exp},RUNNING,,1970-01-01T00:00:02.000Z,,mlflow-artifacts:/${exp}/${ids.quoted}/artifacts,NaN,,\r\n`,
    );
    expect(answer.text).not.toContain(ids.gone);
    expect(answer.text).not.toContain(ids.elsewhere);
  });

  test('without columns, every key of the experiments; filters, view types and several experiments', async () => {
    const all = await exportCsv(server, `experiment_ids=${exp}&experiment_ids=${other}&run_view_type=ALL`);
    expect(all.status).toBe(200);
    const header = lines(all.text)[0]!.split(',');
    expect(header).toEqual(
      expect.arrayContaining(['metrics.loss', 'params.lr', 'tags.team', 'tags.mlflow.runName']),
    );
    for (const id of Object.values(ids)) expect(all.text).toContain(id);

    const filtered = await exportCsv(
      server,
      `experiment_ids=${exp}&filter=${encodeURIComponent("params.lr = '0.01'")}`,
    );
    expect(
      lines(filtered.text)
        .slice(1)
        .map((line) => line.split(',')[0]),
    ).toEqual([ids.plain]);

    const none = await exportCsv(
      server,
      `experiment_ids=${exp}&filter=${encodeURIComponent("params.lr = 'x'")}&metrics=loss`,
    );
    expect(none.status).toBe(200);
    expect(lines(none.text)).toHaveLength(1);
  });

  test('bad input is MLflow JSON before any CSV', async () => {
    const http = server.client;
    expectError(await http.get(EXPORT), 400, 'INVALID_PARAMETER_VALUE', /experiment_ids/);
    expectError(
      await http.get(EXPORT, { experiment_ids: exp, filter: 'metrics.loss >>> 1' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http.get(EXPORT, { experiment_ids: exp, max_results: '0' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /max_results/,
    );
  });
});

/** Pages of 1,000 read with keyset paging: more runs than a page, each exactly once; `max_results` cuts. */
describe('runs CSV export of more than a page (postgres)', () => {
  let server: TrackingServer;
  let exp: string;
  const RUNS = 2_050;

  beforeAll(async () => {
    server = await startTrackingServer('postgres');
    exp = await createExperiment(server.client);
    // Seeded in one statement: 2,050 runs through the API would take most of the test's time.
    await server.database.db
      .insertInto('tracking.runs')
      .values(
        Array.from({ length: RUNS }, (_, i) => ({
          run_uuid: `run${String(i).padStart(28, '0')}`,
          name: `r${i}`,
          experiment_id: Number(exp),
          user_id: 'bulk',
          status: 'FINISHED',
          start_time: 1000 + (i % 7),
          end_time: null,
          deleted_time: null,
          lifecycle_stage: 'active',
          artifact_uri: `mlflow-artifacts:/${exp}/r${i}/artifacts`,
        })),
      )
      .execute();
  }, 60_000);
  afterAll(async () => server?.close());

  test('every run once, in the search order; max_results stops early', async () => {
    const answer = await exportCsv(server, `experiment_ids=${exp}&metrics=loss`);
    const ids = lines(answer.text)
      .slice(1)
      .map((line) => line.split(',')[0]!);
    expect(ids).toHaveLength(RUNS);
    expect(new Set(ids).size).toBe(RUNS);
    const cut = await exportCsv(server, `experiment_ids=${exp}&metrics=loss&max_results=1001`);
    expect(lines(cut.text)).toHaveLength(1002);
    expect(
      lines(cut.text)
        .slice(1)
        .map((line) => line.split(',')[0]),
    ).toEqual(ids.slice(0, 1001));
  });
});
