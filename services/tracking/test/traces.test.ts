import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { sql } from 'kysely';
import { API, createExperiment, createRun, DOCS_HINT, expectEmptyOk, expectError } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const V3 = '/api/3.0/mlflow/traces';
const V2 = `${API}/traces`;
const T0 = Date.UTC(2025, 1, 3, 4, 5, 6, 789);

let counter = 0;
/** A trace id as the Python client makes them: `tr-` and the 32 hex digits of the OTel trace id. */
function newTraceId(): string {
  counter += 1;
  return `tr-${process.pid.toString(16).padStart(8, '0')}${counter.toString(16).padStart(24, '0')}`;
}

/** The body `MlflowV3SpanExporter` sends through `RestStore.start_trace` for one `@mlflow.trace` call. */
function startBody(experimentId: string, traceId: string, extra: Record<string, unknown> = {}) {
  return {
    trace: {
      trace_info: {
        trace_id: traceId,
        client_request_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_preview: '{"x": 1}',
        response_preview: '2',
        request_time: '2025-02-03T04:05:06.789Z',
        execution_duration: '1.500s',
        state: 'OK',
        trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.user': 'alice' },
        tags: { 'mlflow.traceName': 'predict' },
        ...extra,
      },
    },
  };
}

/**
 * MLflow traces over real HTTP (spec §1.6, §1.7): the requests the Python client (3.x) sends for
 * `@mlflow.trace`, `mlflow.search_traces`, `MlflowClient.set_trace_tag` / `delete_trace_tag`,
 * `link_traces_to_run` and `delete_traces`, the legacy V2 API, and MLflow's errors.
 */
describe.each(BACKENDS)('traces (%s)', (backend) => {
  let server: TrackingServer;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
  });
  afterAll(async () => server?.close());

  const http = () => server.client;

  async function startTrace(experimentId: string, extra: Record<string, unknown> = {}): Promise<any> {
    const traceId = newTraceId();
    const response = await http().post(V3, startBody(experimentId, traceId, extra));
    expect(response.status).toBe(200);
    return response.body.trace.trace_info;
  }

  test('the @mlflow.trace flow: start, get, search, tag, link, delete', async () => {
    const experimentId = await createExperiment(http());
    const traceId = newTraceId();
    const started = await http().post(V3, startBody(experimentId, traceId));
    expect(started.status).toBe(200);
    const expected = {
      trace_id: traceId,
      client_request_id: traceId,
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
      request_preview: '{"x": 1}',
      response_preview: '2',
      request_time: '2025-02-03T04:05:06.789Z',
      execution_duration: '1.500s',
      state: 'OK',
      trace_metadata: { 'mlflow.trace_schema.version': '3', 'mlflow.user': 'alice' },
      tags: {
        'mlflow.traceName': 'predict',
        'mlflow.artifactLocation': `mlflow-artifacts:/${experimentId}/traces/${traceId}/artifacts`,
      },
    };
    expect(started.body).toEqual({ trace: { trace_info: expected } });

    // The client reads the info back (V3) and the UI through ajax-api.
    for (const prefix of ['/api/3.0', '/ajax-api/3.0']) {
      const got = await http().get(`${prefix}/mlflow/traces/${traceId}`);
      expect({ status: got.status, body: got.body }).toEqual({
        status: 200,
        body: { trace: { trace_info: expected } },
      });
    }

    // Tag set/delete always go through the V2 path.
    expectEmptyOk(await http().request('PATCH', `${V2}/${traceId}/tags`, { key: 'reviewed', value: 'yes' }));
    let info = (await http().get(`${V3}/${traceId}`)).body.trace.trace_info;
    expect(info.tags.reviewed).toBe('yes');
    expectEmptyOk(await http().request('DELETE', `${V2}/${traceId}/tags`, { key: 'reviewed' }));
    info = (await http().get(`${V3}/${traceId}`)).body.trace.trace_info;
    expect(info.tags.reviewed).toBeUndefined();
    expectError(
      await http().request('DELETE', `${V2}/${traceId}/tags`, { key: 'reviewed' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `No trace tag with key 'reviewed' for trace with ID '${traceId}'`,
    );

    // Linked to a run, the trace is found by `run_id` (as is a trace whose metadata names the run).
    const run = await createRun(http(), experimentId);
    const other = await startTrace(experimentId);
    const sourced = await startTrace(experimentId, {
      trace_metadata: { 'mlflow.sourceRun': run.info.run_id },
    });
    expectEmptyOk(await http().post(`${V2}/link-to-run`, { trace_ids: [traceId], run_id: run.info.run_id }));
    expectEmptyOk(await http().post(`${V2}/link-to-run`, { trace_ids: [traceId], run_id: run.info.run_id }));
    const byRun = await http().post(`${V3}/search`, {
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
      filter: `trace.run_id = '${run.info.run_id}'`,
    });
    expect(byRun.status).toBe(200);
    expect(byRun.body.traces.map((t: any) => t.trace_id).sort()).toEqual([traceId, sourced.trace_id].sort());
    expect(other.trace_id).not.toBe(traceId);

    // Delete by id: the count, then a 404.
    const deleted = await http().post(`${V3}/delete-traces`, {
      experiment_id: experimentId,
      request_ids: [traceId],
    });
    expect(deleted.body).toEqual({ traces_deleted: 1 });
    expectError(
      await http().get(`${V3}/${traceId}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with ID '${traceId}' not found.`,
    );
  });

  test('search: filters, order_by, paging', async () => {
    const experimentId = await createExperiment(http());
    const location = { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const info = await startTrace(experimentId, {
        request_time: new Date(T0 + i * 1000).toISOString(),
        execution_duration: `${i}.250s`,
        state: i === 4 ? 'ERROR' : 'OK',
        tags: { 'mlflow.traceName': i % 2 === 0 ? 'even' : 'odd', n: String(i) },
      });
      ids.push(info.trace_id);
    }
    const search = async (body: Record<string, unknown>) => {
      const response = await http().post(`${V3}/search`, { locations: [location], ...body });
      expect(response.status).toBe(200);
      return response.body;
    };
    // Default order: newest first.
    expect((await search({})).traces.map((t: any) => t.trace_id)).toEqual([...ids].reverse());
    expect((await search({ filter: "name = 'even'" })).traces.map((t: any) => t.tags.n)).toEqual([
      '4',
      '2',
      '0',
    ]);
    expect((await search({ filter: "status = 'ERROR'" })).traces.map((t: any) => t.tags.n)).toEqual(['4']);
    expect(
      (await search({ filter: `timestamp_ms > ${T0 + 1000} AND tags.n != '3'` })).traces.map(
        (t: any) => t.tags.n,
      ),
    ).toEqual(['4', '2']);
    expect(
      (await search({ filter: 'execution_time_ms <= 1250', order_by: ['execution_time ASC'] })).traces.map(
        (t: any) => t.tags.n,
      ),
    ).toEqual(['0', '1']);
    expect(
      (
        await search({ filter: `request_id IN ('${ids[1]}', '${ids[3]}')`, order_by: ['timestamp ASC'] })
      ).traces.map((t: any) => t.tags.n),
    ).toEqual(['1', '3']);
    expect((await search({ order_by: ['tags.n DESC'] })).traces.map((t: any) => t.tags.n)).toEqual([
      '4',
      '3',
      '2',
      '1',
      '0',
    ]);

    expect(
      (await search({ filter: 'trace.name LIKE "ev%" AND tag.n ILIKE \'%4%\'' })).traces.map(
        (t: any) => t.tags.n,
      ),
    ).toEqual(['4']);
    expect(
      (await search({ filter: `trace.client_request_id = '${ids[2]}'` })).traces.map((t: any) => t.tags.n),
    ).toEqual(['2']);
    // A trace without the tag never matches, not even `!=`.
    expect((await search({ filter: "tags.absent != 'x'" })).traces).toBeUndefined();

    // Paging: 2 + 2 + 1, no token on the last page.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await search({ max_results: 2, page_token: token });
      seen.push(...page.traces.map((t: any) => t.trace_id));
      token = page.next_page_token;
      pages += 1;
    } while (token);
    expect({ pages, seen }).toEqual({ pages: 3, seen: [...ids].reverse() });

    // The same search through the V2 API (GET, repeated experiment_ids), V2's shape.
    const v2 = await http().get(V2, {
      experiment_ids: [experimentId],
      filter: "name = 'odd'",
      max_results: 10,
    });
    expect(v2.status).toBe(200);
    expect(v2.body.traces.map((t: any) => t.request_id)).toEqual([ids[3], ids[1]]);
    expect(v2.body.traces[0]).toMatchObject({
      experiment_id: experimentId,
      timestamp_ms: T0 + 3000,
      execution_time_ms: 3250,
      status: 'OK',
    });
    expect(v2.body.traces[0].request_metadata).toEqual([
      { key: 'mlflow.trace_schema.version', value: '3' },
      { key: 'mlflow.user', value: 'alice' },
    ]);
    expect(v2.body.traces[0].tags).toContainEqual({ key: 'mlflow.traceName', value: 'odd' });
    expect(
      await http()
        .get(V2, { experiment_ids: ['424242'] })
        .then((r) => r.body),
    ).toEqual({});
  });

  test("search: MLflow 3's string comparators on status, IS NULL on tags and metadata, end_time_ms", async () => {
    const experimentId = await createExperiment(http());
    const location = { mlflow_experiment: { experiment_id: experimentId } };
    const started: Array<{ n: string; id: string }> = [];
    for (const [i, state, tags, metadata] of [
      [0, 'OK', { region: 'us', n: '0' }, { env: 'prod' }],
      [1, 'ERROR', { n: '1' }, {}],
      [2, 'IN_PROGRESS', { n: '2' }, { env: 'dev' }],
    ] as const) {
      const info = await startTrace(experimentId, {
        request_time: new Date(T0 + i * 1000).toISOString(),
        execution_duration: `${5 - 2 * i}s`,
        state,
        tags,
        trace_metadata: metadata,
      });
      started.push({ n: String(i), id: info.trace_id });
    }
    const found = async (filter: string, orderBy: string[] = []) => {
      const response = await http().post(`${V3}/search`, {
        locations: [location],
        filter,
        order_by: orderBy,
      });
      expect(response.status).toBe(200);
      return (response.body.traces ?? []).map((t: any) => t.tags.n);
    };
    expect(await found("trace.status ILIKE 'error'")).toEqual(['1']);
    expect(await found("status LIKE '%O%'")).toEqual(['2', '1', '0']);
    expect(await found('tag.region IS NULL')).toEqual(['2', '1']);
    expect(await found('tags.region IS NOT NULL')).toEqual(['0']);
    expect(await found("metadata.env IS NULL AND status != 'OK'")).toEqual(['1']);
    // end_time_ms = start + duration: 5 s, 4 s, 3 s after T0.
    expect(await found(`trace.end_time_ms < ${T0 + 5000}`)).toEqual(['2', '1']);
    expect(await found('', ['end_time_ms ASC'])).toEqual(['2', '1', '0']);
    // A field sorted twice is MLflow's 400, not a silent second key.
    expectError(
      await http().post(`${V3}/search`, {
        locations: [location],
        order_by: ['timestamp', 'timestamp_ms DESC'],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /`order_by` contains duplicate fields/,
    );
    expectError(
      await http().post(`${V3}/search`, { locations: [location], filter: 'status IS NULL' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /not supported for 'status'/,
    );
  });

  test('StartTraceV3 keeps the schema version the client sent; DeleteTraces takes ids with max_timestamp_millis 0', async () => {
    const experimentId = await createExperiment(http());
    const old = await startTrace(experimentId, { trace_metadata: { 'mlflow.trace_schema.version': '2' } });
    expect(old.trace_metadata).toEqual({ 'mlflow.trace_schema.version': '2' });
    const unversioned = await startTrace(experimentId, { trace_metadata: { k: 'v' } });
    expect(unversioned.trace_metadata).toEqual({ 'mlflow.trace_schema.version': '3', k: 'v' });

    // MLflow tests `max_timestamp_millis and trace_ids` by truthiness: 0 is no conflict, the ids go.
    const deleted = await http().post(`${V3}/delete-traces`, {
      experiment_id: experimentId,
      max_timestamp_millis: 0,
      request_ids: [old.trace_id],
    });
    expect(deleted.body).toEqual({ traces_deleted: 1 });
    expect((await http().get(`${V3}/${unversioned.trace_id}`)).status).toBe(200);
    expectError(await http().get(`${V3}/${old.trace_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  test('the legacy V2 flow: start, end, get info, tag, delete', async () => {
    const experimentId = await createExperiment(http());
    const started = await http().post(V2, {
      experiment_id: experimentId,
      timestamp_ms: T0,
      request_metadata: [{ key: 'mlflow.sourceRun', value: 'r1' }],
      tags: [{ key: 'mlflow.traceName', value: 'chain' }],
    });
    expect(started.status).toBe(200);
    const info = started.body.trace_info;
    expect(info.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(info).toEqual({
      request_id: info.request_id,
      experiment_id: experimentId,
      timestamp_ms: T0,
      execution_time_ms: 0,
      status: 'IN_PROGRESS',
      request_metadata: [{ key: 'mlflow.sourceRun', value: 'r1' }],
      tags: [
        {
          key: 'mlflow.artifactLocation',
          value: `mlflow-artifacts:/${experimentId}/traces/${info.request_id}/artifacts`,
        },
        { key: 'mlflow.traceName', value: 'chain' },
      ],
    });
    const ended = await http().request('PATCH', `${V2}/${info.request_id}`, {
      timestamp_ms: T0 + 1500,
      status: 'OK',
      request_metadata: [],
      tags: [{ key: 'done', value: 'true' }],
    });
    expect(ended.status).toBe(200);
    expect(ended.body.trace_info).toMatchObject({ execution_time_ms: 1500, status: 'OK' });
    expect(ended.body.trace_info.tags).toContainEqual({ key: 'done', value: 'true' });
    const got = await http().get(`${V2}/${info.request_id}/info`);
    expect(got.body).toEqual(ended.body);
    const v3 = (await http().get(`${V3}/${info.request_id}`)).body.trace.trace_info;
    expect(v3).toMatchObject({
      request_time: '2025-02-03T04:05:06.789Z',
      execution_duration: '1.500s',
      state: 'OK',
    });
    expectEmptyOk(
      await http().request('PATCH', `/api/3.0/mlflow/traces/${info.request_id}/tags`, {
        key: 'k',
        value: '',
      }),
    );
    expectEmptyOk(
      await http().request('DELETE', `/api/3.0/mlflow/traces/${info.request_id}/tags`, { key: 'k' }),
    );
    const deleted = await http().post(`${V2}/delete-traces`, {
      experiment_id: experimentId,
      max_timestamp_millis: T0,
    });
    expect(deleted.body).toEqual({ traces_deleted: 1 });
  });

  test('delete by time: the oldest first, at most max_traces', async () => {
    const experimentId = await createExperiment(http());
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await startTrace(experimentId, { request_time: new Date(T0 + i).toISOString() })).trace_id);
    }
    const other = await createExperiment(http());
    const kept = await startTrace(other, { request_time: new Date(T0).toISOString() });
    const deleted = await http().post(`${V3}/delete-traces`, {
      experiment_id: experimentId,
      max_timestamp_millis: T0 + 2,
      max_traces: 2,
    });
    expect(deleted.body).toEqual({ traces_deleted: 2 });
    const left = await http().post(`${V3}/search`, {
      locations: [{ mlflow_experiment: { experiment_id: experimentId } }],
      order_by: ['timestamp_ms ASC'],
    });
    expect(left.body.traces.map((t: any) => t.trace_id)).toEqual([ids[2], ids[3]]);
    expect((await http().get(`${V3}/${kept.trace_id}`)).status).toBe(200);
  });

  test('a duplicate trace id is merged, not stored twice', async () => {
    const experimentId = await createExperiment(http());
    const traceId = newTraceId();
    await http().post(V3, startBody(experimentId, traceId, { state: 'IN_PROGRESS', tags: { a: '1' } }));
    const again = await http().post(V3, startBody(experimentId, traceId, { tags: { b: '2' } }));
    expect(again.status).toBe(200);
    expect(again.body.trace.trace_info.state).toBe('OK');
    expect(again.body.trace.trace_info.tags).toMatchObject({ a: '1', b: '2' });
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from tracking.traces where trace_id = ${traceId}`.execute(server.database.db);
    expect(rows[0]!.n).toBe(1);
  });

  test('an experiment removed for good takes its traces with it', async () => {
    const experimentId = await createExperiment(http());
    const trace = await startTrace(experimentId);
    expectEmptyOk(await http().request('PATCH', `${V2}/${trace.trace_id}/tags`, { key: 'k', value: 'v' }));
    await sql`delete from tracking.experiments where experiment_id = ${Number(experimentId)}`.execute(
      server.database.db,
    );
    expectError(await http().get(`${V3}/${trace.trace_id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from tracking.trace_tags where trace_id = ${trace.trace_id}`.execute(
      server.database.db,
    );
    expect(rows[0]!.n).toBe(0);
  });

  test('BatchGetTraceInfos: the known traces, in the order asked', async () => {
    const experimentId = await createExperiment(http());
    const a = await startTrace(experimentId);
    const b = await startTrace(experimentId);
    const got = await http().post(`${V3}/batchGetInfos`, {
      trace_ids: [b.trace_id, 'tr-unknown', a.trace_id],
    });
    expect(got.status).toBe(200);
    expect(got.body.trace_infos).toEqual([b, a]);
    expect((await http().post(`${V3}/batchGetInfos`, { trace_ids: ['tr-unknown'] })).body).toEqual({});
    expectError(await http().post(`${V3}/batchGetInfos`, {}), 400, 'INVALID_PARAMETER_VALUE', /'trace_ids'/);
  });

  test('span storage is not served: the client falls back on ENDPOINT_NOT_FOUND', async () => {
    for (const path of [`${V3}/get?trace_id=tr-1`, `${V3}/batchGet?trace_ids=tr-1`]) {
      expectError(await http().get(path), 404, 'ENDPOINT_NOT_FOUND');
    }
  });

  test("MLflow's errors", async () => {
    const experimentId = await createExperiment(http());
    const loc = [{ mlflow_experiment: { experiment_id: experimentId } }];
    expectError(
      await http().post(V3, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      /Missing value for required parameter 'trace'/,
    );
    expectError(
      await http().post(V3, startBody('987654', newTraceId())),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No Experiment with id=987654 exists',
    );
    // No location (V3) or no experiment_id (V2): no default experiment, as MLflow's store.
    expectError(
      await http().post(V3, { trace: { trace_info: { trace_id: newTraceId(), state: 'OK' } } }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No Experiment with id=None exists',
    );
    expectError(
      await http().post(`${API}/traces`, { timestamp_ms: 1 }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No Experiment with id=None exists',
    );
    expectError(
      await http().post(V3, startBody(experimentId, newTraceId(), { request_time: 'yesterday' })),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const deletedExp = await createExperiment(http());
    await http().post(`${API}/experiments/delete`, { experiment_id: deletedExp });
    expectError(
      await http().post(V3, startBody(deletedExp, newTraceId())),
      400,
      'INVALID_PARAMETER_VALUE',
      `The experiment ${deletedExp} must be in the 'active' state. Current state is deleted.`,
    );
    expectError(
      await http().post(V3, startBody(experimentId, 'tr-1/../../2')),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid trace ID/,
    );
    // A V2 key/value entry without a key: MLflow's `_assert_map_key_present` quotes the whole list.
    expectError(
      await http().post(V2, {
        experiment_id: experimentId,
        tags: [{ key: 'a', value: '1' }, { value: 'x' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Invalid value [{"key":"a","value":"1"},{"value":"x"}] for parameter 'tags' supplied:  Hint: Value was of type 'list'.${DOCS_HINT}`,
    );
    expectError(
      await http().post(V2, { experiment_id: experimentId, timestamp_ms: 9e15 }),
      400,
      'INVALID_PARAMETER_VALUE',
      /timestamp_ms/,
    );
    expectError(
      await http().get(`${V3}/tr-unknown`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Trace with ID 'tr-unknown' not found.",
    );
    expectError(await http().get(`${V2}/tr-unknown/info`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(
      await http().request('PATCH', `${V2}/tr-unknown/tags`, { key: 'k', value: 'v' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    const trace = await startTrace(experimentId);
    expectError(
      await http().request('PATCH', `${V2}/${trace.trace_id}/tags`, { value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /'key'/,
    );
    expectError(
      await http().request('PATCH', `${V2}/${trace.trace_id}/tags`, { key: 'k'.repeat(251), value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /'key' exceeds the maximum length of 250 characters/,
    );
    expectError(
      await http().request('PATCH', `${V2}/${trace.trace_id}/tags`, { key: '../', value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Invalid value "\.\.\/" for parameter 'key' supplied/,
    );
    // A value past 8000 characters is cut, as MLflow's store cuts it.
    expectEmptyOk(
      await http().request('PATCH', `${V2}/${trace.trace_id}/tags`, {
        key: 'k',
        value: `123${'v'.repeat(8000)}`,
      }),
    );
    const cut = (await http().get(`${V3}/${trace.trace_id}`)).body.trace.trace_info.tags.k;
    expect(cut).toBe(`123${'v'.repeat(7997)}`);
    expectError(await http().post(`${V3}/search`, {}), 400, 'INVALID_PARAMETER_VALUE', /'locations'/);
    expectError(
      await http().post(`${V3}/search`, { locations: loc, max_results: 501 }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http().post(`${V3}/search`, { locations: loc, filter: "name IN ('a', 'b')" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid comparator 'IN'/,
    );
    expectError(
      await http().post(`${V3}/search`, { locations: loc, filter: "foo = 'x'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid attribute key 'foo'/,
    );
    expectError(
      await http().post(`${V3}/search`, { locations: loc, filter: "timestamp_ms = 'x'" }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http().post(`${V3}/search`, { locations: loc, order_by: ['bogus DESC'] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await http().post(`${V3}/search`, { locations: loc, page_token: 'nope' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(await http().get(V2, {}), 400, 'INVALID_PARAMETER_VALUE', /'experiment_ids'/);
    const del = (body: Record<string, unknown>) =>
      http().post(`${V3}/delete-traces`, { experiment_id: experimentId, ...body });
    expectError(
      await del({}),
      400,
      'INVALID_PARAMETER_VALUE',
      'Either `max_timestamp_millis` or `trace_ids` must be specified.',
    );
    expectError(
      await del({ max_timestamp_millis: 1, request_ids: ['a'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Only one of `max_timestamp_millis` and `trace_ids` can be specified.',
    );
    expectError(
      await del({ request_ids: ['a'], max_traces: 1 }),
      400,
      'INVALID_PARAMETER_VALUE',
      "`max_traces` can't be specified if `trace_ids` is specified.",
    );
    expectError(
      await del({ max_timestamp_millis: 1, max_traces: 0 }),
      400,
      'INVALID_PARAMETER_VALUE',
      '`max_traces` must be a positive integer, received 0.',
    );
    expectError(
      await http().post(`${V3}/delete-traces`, { request_ids: ['a'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      /'experiment_id'/,
    );
    const tooMany = Array.from({ length: 101 }, (_, i) => `tr-${i}`);
    expectError(
      await http().post(`${V2}/link-to-run`, { trace_ids: tooMany, run_id: 'r' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Cannot link more than 100 traces to a run in a single request. Provided 101 traces.',
    );
    expectError(
      await http().post(`${V2}/link-to-run`, { trace_ids: ['a'] }),
      400,
      'INVALID_PARAMETER_VALUE',
      /'run_id'/,
    );
  });
});

/**
 * Conflicting trace writes fired at once against real PostgreSQL (PGlite runs one session at a time):
 * nothing is lost, doubled or torn.
 */
describe('concurrent trace writes (postgres)', () => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer('postgres');
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server?.close());

  const count = async (table: string, traceId: string) => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.table(table)} where trace_id = ${traceId}`.execute(
      server.database.db,
    );
    return rows[0]!.n;
  };

  test('20 StartTraceV3 of one trace id at once: every call answers, one trace is stored', async () => {
    for (let round = 0; round < 5; round++) {
      const traceId = newTraceId();
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          server.client.post(
            V3,
            startBody(experimentId, traceId, { tags: { [`writer-${i}`]: 'x', shared: String(i) } }),
          ),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(await count('tracking.traces', traceId)).toBe(1);
      const info = (await server.client.get(`${V3}/${traceId}`)).body.trace.trace_info;
      // Every writer's own tag is there once; the shared key holds one of the written values.
      for (let i = 0; i < 20; i++) expect(info.tags[`writer-${i}`]).toBe('x');
      expect(Number(info.tags.shared)).toBeGreaterThanOrEqual(0);
      // 20 writers' tags, `shared` and `mlflow.artifactLocation`.
      expect(await count('tracking.trace_tags', traceId)).toBe(22);
      expect(await count('tracking.trace_metadata', traceId)).toBe(2);
    }
  });

  test('one tag key set at once with different values: one row with one of the values', async () => {
    for (let round = 0; round < 5; round++) {
      const traceId = newTraceId();
      await server.client.post(V3, startBody(experimentId, traceId));
      const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
      const responses = await Promise.all(
        values.map((value) => server.client.request('PATCH', `${V2}/${traceId}/tags`, { key: 'k', value })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const { rows } = await sql<{ value: string }>`
        select value from tracking.trace_tags where trace_id = ${traceId} and key = 'k'`.execute(
        server.database.db,
      );
      expect(rows).toHaveLength(1);
      expect(values).toContain(rows[0]!.value);
    }
  });

  test('links and deletes at once: each trace deleted once, no link left behind', async () => {
    const run = await createRun(server.client, experimentId);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const traceId = newTraceId();
      await server.client.post(V3, startBody(experimentId, traceId));
      ids.push(traceId);
    }
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () =>
        server.client.post(`${V2}/link-to-run`, { trace_ids: ids, run_id: run.info.run_id }),
      ),
      ...Array.from({ length: 5 }, () =>
        server.client.post(`${V3}/delete-traces`, { experiment_id: experimentId, request_ids: ids }),
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const deleted = results.slice(5).reduce((sum, r) => sum + r.body.traces_deleted, 0);
    expect(deleted).toBe(10);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from tracking.trace_runs where trace_id = any(${ids}::text[])`.execute(
      server.database.db,
    );
    expect(rows[0]!.n).toBe(0);
  });
});
