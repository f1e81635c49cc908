import { buildSubgraphSchema } from '@apollo/subgraph';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { parse } from 'graphql';
import { type ExtraSubgraph, type InProcessServer, startInProcess } from './harness.js';

const T0 = Date.UTC(2025, 1, 3, 4, 5, 6, 789);
const TRACE_COUNT = 20;

interface Review {
  traceId: string;
  verdict: string;
}

/**
 * A stand-in for a subgraph that references tracking's `Trace` entity (reviews of traces) and adds
 * `Trace.reviews` to it, as the artifact and registry subgraphs do with `Run`.
 */
function reviewsSubgraph(reviews: Review[]): ExtraSubgraph {
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    "A human review of a trace (test subgraph)."
    type Review {
      "The verdict."
      verdict: String!
      "The reviewed trace."
      trace: Trace!
    }
    type Trace @key(fields: "id") {
      id: ID!
      "Reviews of this trace."
      reviews: [Review!]!
    }
    type Query {
      "Every review."
      reviews: [Review!]!
    }
  `);
  const schema = buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: { reviews: () => reviews },
      Review: { trace: (review: Review) => ({ __typename: 'Trace', id: review.traceId }) },
      Trace: {
        __resolveReference: (reference: { id: string }) => reference,
        reviews: (trace: { id: string }) => reviews.filter((r) => r.traceId === trace.id),
      },
    } as any,
  });
  return { name: 'reviews', typeDefs, schema };
}

/**
 * Tracking's traces through the gateway's query planner: `Trace` is an entity other subgraphs reference
 * and extend, its per-trace fields are batched, and its errors keep MLflow's codes.
 */
describe.each(BACKENDS)('traces through the gateway (%s)', (backend) => {
  let server: InProcessServer;
  let experimentId: string;
  let runId: string;
  const traceIds: string[] = [];
  const reviews: Review[] = [];

  beforeAll(async () => {
    server = await startInProcess(backend, { extra: [reviewsSubgraph(reviews)], shortcut: false });
    const http = server.http;
    experimentId = (await http.post('/api/2.0/mlflow/experiments/create', { name: `agent-${process.pid}` }))
      .body.experiment_id;
    runId = (
      await http.post('/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'eval' })
    ).body.run.info.run_id;
    for (let i = 0; i < TRACE_COUNT; i++) {
      const traceId = `tr-${String(i).padStart(32, '0')}`;
      const started = await http.post('/api/3.0/mlflow/traces', {
        trace: {
          trace_info: {
            trace_id: traceId,
            trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
            request_time: new Date(T0 + i * 1000).toISOString(),
            execution_duration: '0.500s',
            state: i % 4 === 0 ? 'ERROR' : 'OK',
            trace_metadata: { 'mlflow.sourceRun': runId },
            tags: { 'mlflow.traceName': `call-${i}` },
          },
        },
      });
      expect(started.status).toBe(200);
      traceIds.push(traceId);
    }
    const linked = await http.post('/api/2.0/mlflow/traces/link-to-run', {
      trace_ids: traceIds,
      run_id: runId,
    });
    expect(linked.status).toBe(200);
    reviews.push({ traceId: traceIds[0]!, verdict: 'wrong' }, { traceId: traceIds[5]!, verdict: 'good' });
    // Every trace a feedback, every third an expectation too; trace 0's feedback overridden.
    const assess = async (traceId: string, assessment: Record<string, unknown>) => {
      const response = await http.post(`/api/3.0/mlflow/traces/${traceId}/assessments`, {
        assessment: { source: { source_type: 'LLM_JUDGE', source_id: 'judge' }, ...assessment },
      });
      expect(response.status).toBe(200);
      return response.body.assessment.assessment_id as string;
    };
    for (const [i, traceId] of traceIds.entries()) {
      const feedback = await assess(traceId, {
        assessment_name: 'correct',
        feedback: { value: i % 2 === 0 },
      });
      if (i % 3 === 0) await assess(traceId, { assessment_name: 'expected', expectation: { value: [i] } });
      if (i === 0)
        await assess(traceId, { assessment_name: 'correct', feedback: { value: 1 }, overrides: feedback });
    }
  });
  afterAll(async () => server?.close());

  test('another subgraph references traces and adds fields to them', async () => {
    const { reviews: found } = await server.graphql.data(
      `{ reviews { verdict trace { id name state experiment { name } sourceRun { name } } } }`,
    );
    expect(found).toEqual([
      {
        verdict: 'wrong',
        trace: {
          id: traceIds[0],
          name: 'call-0',
          state: 'ERROR',
          experiment: { name: `agent-${process.pid}` },
          sourceRun: { name: 'eval' },
        },
      },
      {
        verdict: 'good',
        trace: {
          id: traceIds[5],
          name: 'call-5',
          state: 'OK',
          experiment: { name: `agent-${process.pid}` },
          sourceRun: { name: 'eval' },
        },
      },
    ]);

    const { traces } = await server.graphql.data(
      `query($ids: [ID!]!) { traces(experimentIds: $ids, filter: "trace.status = 'ERROR'", orderBy: ["timestamp_ms ASC"]) {
        nodes { id reviews { verdict } } } }`,
      { ids: [experimentId] },
    );
    expect(traces.nodes).toEqual([
      { id: traceIds[0], reviews: [{ verdict: 'wrong' }] },
      { id: traceIds[4], reviews: [] },
      { id: traceIds[8], reviews: [] },
      { id: traceIds[12], reviews: [] },
      { id: traceIds[16], reviews: [] },
    ]);
  });

  test('statement count: a page of 20 traces with their experiment, runs and assessments costs what 2 cost', async () => {
    const count = async (first: number, assessments = 'assessments { id kind value valid overrides }') => {
      const before = server.statements.count;
      const { experiment } = await server.graphql.data(
        `query($id: ID!, $first: Int!) { experiment(id: $id) { traces(first: $first) {
          nodes { id experiment { name } sourceRun { name } linkedRunIds linkedRuns { name } ${assessments} } } } }`,
        { id: experimentId, first },
      );
      expect(experiment.traces.nodes).toHaveLength(first);
      expect(experiment.traces.nodes[0].linkedRuns).toEqual([{ name: 'eval' }]);
      return server.statements.count - before;
    };
    const twenty = await count(TRACE_COUNT);
    expect(twenty).toBe(await count(2));
    // Read with the page of traces (one statement for all of them): asking for them costs nothing more.
    expect(twenty).toBe(await count(TRACE_COUNT, ''));
  });

  test("Trace.assessments through the gateway: REST's trace infos' assessments, overridden ones included", async () => {
    const { traces } = await server.graphql.data(
      `query($ids: [ID!]!) { traces(experimentIds: $ids, first: 20) { nodes { id
        assessments { id name kind value valid overrides source { type id } createTime } } } }`,
      { ids: [experimentId] },
    );
    const rest = await server.http.post('/api/3.0/mlflow/traces/search', {
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
      max_results: 20,
    });
    expect(rest.status).toBe(200);
    expect(traces.nodes).toEqual(
      rest.body.traces.map((trace: any) => ({
        id: trace.trace_id,
        assessments: trace.assessments.map((a: any) => ({
          id: a.assessment_id,
          name: a.assessment_name,
          kind: a.feedback ? 'FEEDBACK' : 'EXPECTATION',
          value: JSON.stringify(
            a.feedback
              ? a.feedback.value
              : (a.expectation.value ?? JSON.parse(a.expectation.serialized_value.value)),
          ),
          valid: a.valid,
          overrides: a.overrides ?? null,
          source: { type: a.source.source_type, id: a.source.source_id },
          createTime: Date.parse(a.create_time),
        })),
      })),
    );
    const first = traces.nodes.find((trace: { id: string }) => trace.id === traceIds[0]);
    expect(first.assessments.map((a: any) => [a.kind, a.value, a.valid])).toEqual([
      ['FEEDBACK', 'true', false],
      ['EXPECTATION', '[0]', true],
      ['FEEDBACK', '1', true],
    ]);
    expect(first.assessments[2].overrides).toBe(first.assessments[0].id);
  });

  test("errors keep MLflow's codes: an unknown trace, a bad filter", async () => {
    const missing = await server.graphql.error(`{ trace(id: "tr-nope") { id } }`);
    expect(missing).toMatchObject({
      message: "Trace with ID 'tr-nope' not found.",
      extensions: { code: 'RESOURCE_DOES_NOT_EXIST' },
      data: { trace: null },
    });
    const badFilter = await server.graphql.error(
      `query($ids: [ID!]!) { traces(experimentIds: $ids, filter: "trace.status = 1") { nodes { id } } }`,
      { ids: [experimentId] },
    );
    expect(badFilter.extensions?.code).toBe('INVALID_PARAMETER_VALUE');
    expect(badFilter.message).toContain('Expected a quoted string value');
  });
});
