import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS, type HttpClient } from '@mast/test-support';
import { API, createExperiment, createRunId, expectEmptyOk } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const V3 = '/api/3.0/mlflow/traces';
const T0 = Date.UTC(2025, 1, 3, 4, 5, 6, 789);

const TRACE_FIELDS = `
  id clientRequestId experimentId experiment { name } name requestTime executionDurationMs state
  requestPreview responsePreview tags { key value } metadata { key value }
  sourceRunId sourceRun { id name } linkedRunIds linkedRuns { id name }`;

const TRACE_QUERY = `query Trace($id: ID!) { trace(id: $id) { ${TRACE_FIELDS} } }`;

const TRACES_QUERY = `
  query Traces($ids: [ID!]!, $filter: String, $orderBy: [String!], $first: Int!, $after: String) {
    traces(experimentIds: $ids, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      nodes { id }
      edges { cursor node { id } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const EXPERIMENT_TRACES_QUERY = `
  query ExperimentTraces($id: ID!, $filter: String, $orderBy: [String!], $first: Int!, $after: String) {
    experiment(id: $id) {
      traces(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        nodes { id name tags(keys: ["n"]) { value } metadata(keys: ["env"]) { key value } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }`;

const ASSESSMENT_FIELDS = `
  id name kind value error { errorCode errorMessage stackTrace } rationale source { type id } spanId
  createTime lastUpdateTime overrides valid metadata { key value }`;

/** An assessment of REST's trace info (`Assessment.to_proto`'s JSON) in `Trace.assessments`' shape. */
function fromRest(wire: any): Record<string, unknown> {
  const error = wire.feedback?.error;
  const value = wire.feedback
    ? wire.feedback.value
    : (wire.expectation.value ?? JSON.parse(wire.expectation.serialized_value.value));
  return {
    id: wire.assessment_id,
    name: wire.assessment_name,
    kind: wire.feedback ? 'FEEDBACK' : 'EXPECTATION',
    value: value === null ? null : JSON.stringify(value),
    error: error
      ? {
          errorCode: error.error_code,
          errorMessage: error.error_message ?? null,
          stackTrace: error.stack_trace ?? null,
        }
      : null,
    rationale: wire.rationale ?? null,
    source: { type: wire.source.source_type, id: wire.source.source_id ?? null },
    spanId: wire.span_id ?? null,
    createTime: Date.parse(wire.create_time),
    lastUpdateTime: Date.parse(wire.last_update_time),
    overrides: wire.overrides ?? null,
    valid: wire.valid,
    metadata: Object.keys(wire.metadata ?? {})
      .sort()
      .map((key) => ({ key, value: wire.metadata[key] })),
  };
}

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string; extensions: { code: string } }>;
}

interface Page {
  nodes: Array<{ id: string }>;
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

let counter = 0;
/** A trace id as the Python client makes them: `tr-` and 32 hex digits. */
function newTraceId(): string {
  counter += 1;
  return `tr-${process.pid.toString(16).padStart(8, '0')}${counter.toString(16).padStart(24, '0')}`;
}

/**
 * MLflow traces in the tracking subgraph: traces written over MLflow's REST API (V3 `StartTraceV3`,
 * V2 `StartTrace`, `link-to-run`) read back through `trace`, `traces` and `Experiment.traces`, which
 * search with the REST route's service, filter and order_by grammar and errors.
 */
describe.each(BACKENDS)('GraphQL traces (%s)', (backend) => {
  let server: TrackingServer;
  let http: HttpClient;
  let experimentId: string;
  let experimentName: string;
  let runId: string;
  let linkedRunId: string;
  /** Trace ids by their tag `n`, started in that order one second apart. */
  const ids: string[] = [];

  async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLBody<T>> {
    const response = await http.post('/graphql', { query, variables });
    expect(response.status).toBe(200);
    return response.body as GraphQLBody<T>;
  }

  async function traces(variables: Record<string, unknown>): Promise<Page> {
    const { data, errors } = await graphql<{ traces: Page }>(TRACES_QUERY, {
      ids: [experimentId],
      first: 100,
      ...variables,
    });
    expect(errors).toBeUndefined();
    return data!.traces;
  }

  /** The ids REST `traces/search` answers for the same filter and order. */
  async function restSearch(filter?: string, orderBy?: string[]): Promise<string[]> {
    const response = await http.post(`${V3}/search`, {
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
      filter,
      order_by: orderBy,
      max_results: 100,
    });
    expect(response.status).toBe(200);
    return (response.body.traces ?? []).map((t: { trace_id: string }) => t.trace_id);
  }

  beforeAll(async () => {
    server = await startTrackingServer(backend);
    http = server.client;

    experimentName = `traces-${process.pid}`;
    experimentId = await createExperiment(http, experimentName);
    runId = await createRunId(http, experimentId, { run_name: 'agent-eval' });
    linkedRunId = await createRunId(http, experimentId, { run_name: 'linked' });
    for (let i = 0; i < 5; i++) {
      const traceId = newTraceId();
      const started = await http.post(V3, {
        trace: {
          trace_info: {
            trace_id: traceId,
            client_request_id: `req-${i}`,
            trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
            request_preview: `{"question": ${i}}`,
            response_preview: `"answer ${i}"`,
            request_time: new Date(T0 + i * 1000).toISOString(),
            // Durations not in time order, so ordering by them differs from the default.
            execution_duration: `${(i * 3) % 5}.250s`,
            state: i === 3 ? 'ERROR' : 'OK',
            trace_metadata: {
              'mlflow.user': 'ada',
              env: i % 2 === 0 ? 'prod' : 'dev',
              ...(i === 1 ? { 'mlflow.sourceRun': runId } : {}),
            },
            tags: { 'mlflow.traceName': i % 2 === 0 ? 'even' : 'odd', n: String(i), team: 'nlp' },
          },
        },
      });
      expect(started.status).toBe(200);
      ids.push(traceId);
    }
    expectEmptyOk(
      await http.post(`${API}/traces/link-to-run`, { trace_ids: [ids[2], ids[0]], run_id: linkedRunId }),
    );
    expectEmptyOk(await http.post(`${API}/traces/link-to-run`, { trace_ids: [ids[2]], run_id: runId }));
  });
  afterAll(async () => server?.close());

  test('trace: every field of TraceInfoV3, tags and metadata sorted, source and linked runs', async () => {
    const { data, errors } = await graphql<{ trace: Record<string, unknown> }>(TRACE_QUERY, { id: ids[1] });
    expect(errors).toBeUndefined();
    expect(data!.trace).toEqual({
      id: ids[1],
      clientRequestId: 'req-1',
      experimentId,
      experiment: { name: experimentName },
      name: 'odd',
      requestTime: T0 + 1000,
      executionDurationMs: 3250,
      state: 'OK',
      requestPreview: '{"question": 1}',
      responsePreview: '"answer 1"',
      tags: [
        {
          key: 'mlflow.artifactLocation',
          value: `mlflow-artifacts:/${experimentId}/traces/${ids[1]}/artifacts`,
        },
        { key: 'mlflow.traceName', value: 'odd' },
        { key: 'n', value: '1' },
        { key: 'team', value: 'nlp' },
      ],
      metadata: [
        { key: 'env', value: 'dev' },
        { key: 'mlflow.sourceRun', value: runId },
        { key: 'mlflow.trace_schema.version', value: '3' },
        { key: 'mlflow.user', value: 'ada' },
      ],
      sourceRunId: runId,
      sourceRun: { id: runId, name: 'agent-eval' },
      linkedRunIds: [],
      linkedRuns: [],
    });

    // The same trace as REST's GetTraceInfoV3 describes it.
    const rest = (await http.get(`${V3}/${ids[1]}`)).body.trace.trace_info;
    expect(Date.parse(rest.request_time)).toBe(T0 + 1000);
    expect(rest.execution_duration).toBe('3.250s');

    const linked = await graphql<{ trace: Record<string, unknown> }>(TRACE_QUERY, { id: ids[2] });
    expect(linked.data!.trace).toMatchObject({
      sourceRunId: null,
      sourceRun: null,
      linkedRunIds: [runId, linkedRunId].sort(),
    });
    const byId = new Map([
      [runId, { id: runId, name: 'agent-eval' }],
      [linkedRunId, { id: linkedRunId, name: 'linked' }],
    ]);
    expect(linked.data!.trace.linkedRuns).toEqual([runId, linkedRunId].sort().map((id) => byId.get(id)));
  });

  test('trace: a V2 trace still in progress has no duration', async () => {
    const started = await http.post(`${API}/traces`, {
      experiment_id: experimentId,
      timestamp_ms: T0 + 60_000,
      request_metadata: [{ key: 'env', value: 'dev' }],
      tags: [],
    });
    expect(started.status).toBe(200);
    const id = started.body.trace_info.request_id as string;
    const { data } = await graphql<{ trace: Record<string, unknown> }>(TRACE_QUERY, { id });
    expect(data!.trace).toMatchObject({
      id,
      clientRequestId: null,
      name: null,
      requestTime: T0 + 60_000,
      executionDurationMs: null,
      state: 'IN_PROGRESS',
      requestPreview: null,
      metadata: [{ key: 'env', value: 'dev' }],
    });
    expect(
      (await http.post(`${V3}/delete-traces`, { experiment_id: experimentId, request_ids: [id] })).body,
    ).toEqual({ traces_deleted: 1 });
  });

  test('traces: newest first; filters and order_by as REST traces/search answers them', async () => {
    const newestFirst = [...ids].reverse();
    expect((await traces({})).nodes.map((t) => t.id)).toEqual(newestFirst);
    expect(await restSearch()).toEqual(newestFirst);

    const cases: Array<[string | undefined, string[] | undefined, string[]]> = [
      ["trace.status = 'ERROR'", undefined, [ids[3]!]],
      ["name = 'even' AND metadata.env = 'prod'", undefined, [ids[4]!, ids[2]!, ids[0]!]],
      [`trace.timestamp_ms > ${T0 + 1000} AND tags.n != '3'`, ['timestamp_ms ASC'], [ids[2]!, ids[4]!]],
      // run_id: the source run's metadata or a LinkTracesToRun link.
      [`trace.run_id = '${runId}'`, undefined, [ids[2]!, ids[1]!]],
      [`run_id = '${linkedRunId}'`, undefined, [ids[2]!, ids[0]!]],
      // Durations 0.25, 3.25, 1.25, 4.25, 2.25 s.
      [undefined, ['execution_time_ms DESC'], [ids[3]!, ids[1]!, ids[4]!, ids[2]!, ids[0]!]],
      ["tags.team = 'nlp'", ['tags.n ASC'], ids],
    ];
    for (const [filter, orderBy, expected] of cases) {
      const found = (await traces({ filter, orderBy })).nodes.map((t) => t.id);
      expect({ filter, orderBy, found }).toEqual({ filter, orderBy, found: expected });
      expect(await restSearch(filter, orderBy)).toEqual(expected);
    }
  });

  test('traces: cursor pages to the end, then an empty page', async () => {
    const orderBy = ['execution_time_ms ASC'];
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: Page = await traces({ orderBy, first: 2, after });
      pages += 1;
      expect(page.edges.map((e) => e.node.id)).toEqual(page.nodes.map((n) => n.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
      seen.push(...page.nodes.map((n) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect({ pages, seen }).toEqual({ pages: 3, seen: await restSearch(undefined, orderBy) });
    expect(new Set(seen).size).toBe(ids.length);

    // After the last page's cursor: nothing more.
    const last: Page = await traces({ orderBy, first: 2, after });
    const beyond = await traces({ orderBy, first: 2, after: last.pageInfo.endCursor });
    expect(beyond).toEqual({ nodes: [], edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test('Experiment.traces: the experiment alone, with tags and metadata by key; none for an empty one', async () => {
    const { data, errors } = await graphql<{ experiment: { traces: Record<string, any> } }>(
      EXPERIMENT_TRACES_QUERY,
      { id: experimentId, filter: "status = 'OK'", orderBy: ['timestamp_ms ASC'], first: 2 },
    );
    expect(errors).toBeUndefined();
    expect(data!.experiment.traces.nodes).toEqual([
      { id: ids[0], name: 'even', tags: [{ value: '0' }], metadata: [{ key: 'env', value: 'prod' }] },
      { id: ids[1], name: 'odd', tags: [{ value: '1' }], metadata: [{ key: 'env', value: 'dev' }] },
    ]);
    expect(data!.experiment.traces.pageInfo.hasNextPage).toBe(true);
    const rest = await graphql<{ experiment: { traces: Record<string, any> } }>(EXPERIMENT_TRACES_QUERY, {
      id: experimentId,
      filter: "status = 'OK'",
      orderBy: ['timestamp_ms ASC'],
      first: 10,
      after: data!.experiment.traces.pageInfo.endCursor,
    });
    expect(rest.data!.experiment.traces.nodes.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[4]]);
    expect(rest.data!.experiment.traces.pageInfo.hasNextPage).toBe(false);

    const emptyId = await createExperiment(http);
    const empty = await graphql<{ experiment: { traces: Record<string, any> } }>(EXPERIMENT_TRACES_QUERY, {
      id: emptyId,
      first: 10,
    });
    expect(empty.data!.experiment.traces).toEqual({
      nodes: [],
      pageInfo: { hasNextPage: false, endCursor: null },
    });
  });

  test('Trace.assessments: feedback, expectations and an override, as REST trace info lists them', async () => {
    const otherExperiment = await createExperiment(http);
    const location = { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: otherExperiment } };
    const [assessed, bare] = [newTraceId(), newTraceId()];
    for (const [i, traceId] of [assessed, bare].entries()) {
      const started = await http.post(V3, {
        trace: {
          trace_info: {
            trace_id: traceId,
            trace_location: location,
            request_time: new Date(T0 + i).toISOString(),
            state: 'OK',
          },
        },
      });
      expect(started.status).toBe(200);
    }
    const create = async (assessment: Record<string, unknown>) => {
      const response = await http.post(`${V3}/${assessed}/assessments`, {
        assessment: { create_time: new Date(T0).toISOString(), ...assessment },
      });
      expect(response.status).toBe(200);
      return response.body.assessment.assessment_id as string;
    };
    const human = { source_type: 'HUMAN', source_id: 'ada@example.com' };
    const original = await create({
      assessment_name: 'correctness',
      source: human,
      feedback: { value: true },
      rationale: 'Right.',
      metadata: { project: 'p1', 'mlflow.assessment.sourceRunId': runId },
      span_id: 'span-1',
    });
    const expected = await create({
      assessment_name: 'expected_answer',
      source: human,
      expectation: { value: { answer: ['a', 'b'], n: 2 } },
    });
    const failed = await create({
      assessment_name: 'groundedness',
      source: { source_type: 'LLM_JUDGE', source_id: 'judge' },
      feedback: {
        error: { error_code: 'RATE_LIMIT', error_message: 'Too many calls.', stack_trace: 'at x' },
      },
    });
    const override = await create({
      assessment_name: 'correctness',
      source: human,
      feedback: { value: 0.5 },
      overrides: original,
    });

    const { data, errors } = await graphql<{ trace: { assessments: Array<Record<string, any>> } }>(
      `query($id: ID!) { trace(id: $id) { assessments { ${ASSESSMENT_FIELDS} } } }`,
      { id: assessed },
    );
    expect(errors).toBeUndefined();
    const found = data!.trace.assessments;
    const rest = (await http.get(`${V3}/${assessed}`)).body.trace.trace_info.assessments;
    expect(found).toEqual(rest.map(fromRest));
    // Oldest first (the same create time: the order they were logged in); the overridden one stays.
    expect(found.map((a) => [a.id, a.kind, a.value, a.valid, a.overrides])).toEqual([
      [original, 'FEEDBACK', 'true', false, null],
      [expected, 'EXPECTATION', '{"answer":["a","b"],"n":2}', true, null],
      [failed, 'FEEDBACK', null, true, null],
      [override, 'FEEDBACK', '0.5', true, original],
    ]);
    expect(found[0]).toMatchObject({
      rationale: 'Right.',
      source: { type: 'HUMAN', id: 'ada@example.com' },
      spanId: 'span-1',
      createTime: T0,
      metadata: [
        { key: 'mlflow.assessment.sourceRunId', value: runId },
        { key: 'project', value: 'p1' },
      ],
    });
    expect(found[2]!.error).toEqual({
      errorCode: 'RATE_LIMIT',
      errorMessage: 'Too many calls.',
      stackTrace: 'at x',
    });

    // The same through a page of traces, with metadata by key; a trace without assessments has none.
    const page = await graphql<{ experiment: { traces: { nodes: Array<Record<string, any>> } } }>(
      `query($id: ID!) { experiment(id: $id) { traces(orderBy: ["timestamp_ms ASC"]) {
        nodes { id assessments { id metadata(keys: ["project"]) { value } } } } } }`,
      { id: otherExperiment },
    );
    expect(page.errors).toBeUndefined();
    expect(page.data!.experiment.traces.nodes).toEqual([
      {
        id: assessed,
        assessments: [
          { id: original, metadata: [{ value: 'p1' }] },
          { id: expected, metadata: [] },
          { id: failed, metadata: [] },
          { id: override, metadata: [] },
        ],
      },
      { id: bare, assessments: [] },
    ]);
  });

  test("errors: an unknown trace is null with RESOURCE_DOES_NOT_EXIST; bad filters, orders and pages carry MLflow's code", async () => {
    const missing = await graphql<{ trace: unknown }>(TRACE_QUERY, { id: 'tr-nope' });
    expect(missing.data).toEqual({ trace: null });
    expect(missing.errors?.[0]).toMatchObject({
      message: "Trace with ID 'tr-nope' not found.",
      extensions: { code: 'RESOURCE_DOES_NOT_EXIST' },
    });

    // The same code and message as REST traces/search gives for the same filter or order.
    for (const [filter, orderBy] of [
      ['trace.status = 1', undefined],
      ['trace.span.name = "x"', undefined],
      ['name =', undefined],
      [undefined, ['timestamp_ms DESC', 'timestamp DESC']],
    ] as const) {
      const rest = await http.post(`${V3}/search`, {
        locations: [{ mlflow_experiment: { experiment_id: experimentId } }],
        filter,
        order_by: orderBy,
      });
      expect(rest.status).toBe(400);
      const answer = await graphql<{ traces: unknown }>(TRACES_QUERY, {
        ids: [experimentId],
        filter,
        orderBy,
        first: 10,
      });
      expect(answer.data).toBeNull();
      expect(answer.errors?.[0]).toMatchObject({
        message: rest.body.message,
        extensions: { code: rest.body.error_code },
      });
      expect(rest.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }

    for (const first of [0, 1001]) {
      const answer = await graphql(TRACES_QUERY, { ids: [experimentId], first });
      expect(answer.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
    }
    const badCursor = await graphql(TRACES_QUERY, { ids: [experimentId], first: 1, after: 'not a token' });
    expect(badCursor.errors?.[0]?.extensions.code).toBe('INVALID_PARAMETER_VALUE');
  });
});
