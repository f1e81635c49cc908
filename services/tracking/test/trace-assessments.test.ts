import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { BACKENDS } from '@mast/test-support';
import { API, createExperiment, DOCS_HINT, expectEmptyOk, expectError } from './fixtures.js';
import { startTrackingServer, type TrackingServer } from './harness.js';

const V3 = '/api/3.0/mlflow/traces';
const T0 = '2025-02-03T04:05:06.789Z';
const ID = /^a-[0-9a-f]{32}$/;

let counter = 0;
function newTraceId(): string {
  counter += 1;
  return `tr-${process.pid.toString(16).padStart(8, '0')}${counter.toString(16).padStart(24, '0')}`;
}

const location = (experimentId: string) => ({
  type: 'MLFLOW_EXPERIMENT',
  mlflow_experiment: { experiment_id: experimentId },
});

/** What `mlflow.log_feedback(trace_id, name, value, source, rationale, metadata)` sends (`Feedback.to_proto`). */
function feedbackBody(traceId: string, extra: Record<string, unknown> = {}) {
  return {
    assessment: {
      assessment_name: 'correctness',
      trace_id: traceId,
      source: { source_type: 'HUMAN', source_id: 'alice@example.com' },
      create_time: T0,
      last_update_time: T0,
      feedback: { value: true },
      rationale: 'The answer is right.',
      metadata: { project: 'p1' },
      valid: true,
      ...extra,
    },
  };
}

/** What `mlflow.log_expectation(trace_id, name, value)` sends: scalars as `value`, others serialized. */
function expectationBody(traceId: string, expectation: Record<string, unknown>, extra = {}) {
  return {
    assessment: {
      assessment_name: 'expected_answer',
      trace_id: traceId,
      source: { source_type: 'HUMAN', source_id: 'default' },
      create_time: T0,
      last_update_time: T0,
      expectation,
      ...extra,
    },
  };
}

/**
 * MLflow 3's trace assessments over real HTTP (spec §1.6): what `mlflow.log_feedback`,
 * `log_expectation`, `get_assessment`, `update_assessment`, `override_feedback` and
 * `delete_assessment` send, the trace infos that list assessments, and MLflow's errors.
 */
describe.each(BACKENDS)('trace assessments (%s)', (backend) => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer(backend);
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server?.close());

  const http = () => server.client;

  async function startTrace(): Promise<string> {
    const traceId = newTraceId();
    const response = await http().post(V3, {
      trace: {
        trace_info: {
          trace_id: traceId,
          trace_location: location(experimentId),
          request_time: T0,
          execution_duration: '1.500s',
          state: 'OK',
        },
      },
    });
    expect(response.status).toBe(200);
    return traceId;
  }

  async function create(traceId: string, body: unknown): Promise<any> {
    const response = await http().post(`${V3}/${traceId}/assessments`, body);
    expect({ status: response.status, body: response.body }).toEqual({
      status: 200,
      body: expect.anything(),
    });
    return response.body.assessment;
  }

  async function get(traceId: string, assessmentId: string): Promise<any> {
    const response = await http().get(`${V3}/${traceId}/assessments/${assessmentId}`);
    expect(response.status).toBe(200);
    return response.body.assessment;
  }

  const patch = (traceId: string, assessmentId: string, body: unknown) =>
    http().request('PATCH', `${V3}/${traceId}/assessments/${assessmentId}`, body);
  const remove = (traceId: string, assessmentId: string) =>
    http().request('DELETE', `${V3}/${traceId}/assessments/${assessmentId}`);

  async function traceInfo(traceId: string): Promise<any> {
    const response = await http().get(`${V3}/${traceId}`);
    expect(response.status).toBe(200);
    return response.body.trace.trace_info;
  }

  test('log_feedback and get_assessment: every field as MLflow writes it, under both prefixes', async () => {
    const traceId = await startTrace();
    const created = await create(traceId, feedbackBody(traceId, { span_id: 'span-1' }));
    expect(created.assessment_id).toMatch(ID);
    const expected = {
      assessment_id: created.assessment_id,
      assessment_name: 'correctness',
      trace_id: traceId,
      span_id: 'span-1',
      source: { source_type: 'HUMAN', source_id: 'alice@example.com' },
      create_time: T0,
      last_update_time: T0,
      feedback: { value: true },
      rationale: 'The answer is right.',
      metadata: { project: 'p1' },
      valid: true,
    };
    expect(created).toEqual(expected);
    for (const prefix of ['/api/3.0', '/ajax-api/3.0']) {
      const got = await http().get(`${prefix}/mlflow/traces/${traceId}/assessments/${created.assessment_id}`);
      expect({ status: got.status, body: got.body }).toEqual({ status: 200, body: { assessment: expected } });
    }
    // The trace id of the path wins over the body's.
    const other = await create(
      traceId,
      feedbackBody('tr-elsewhere', { feedback: { value: { score: 0.5 } } }),
    );
    expect(other).toMatchObject({ trace_id: traceId, feedback: { value: { score: 0.5 } } });
  });

  test('a minimal feedback: defaults, server times, and an error instead of a value', async () => {
    const traceId = await startTrace();
    const before = Date.now();
    const created = await create(traceId, {
      assessment: { feedback: { error: { error_code: 'RATE_LIMIT', error_message: 'Too many calls.' } } },
    });
    const after = Date.now();
    expect(created).toEqual({
      assessment_id: expect.stringMatching(ID),
      assessment_name: '',
      trace_id: traceId,
      source: { source_type: 'SOURCE_TYPE_UNSPECIFIED' },
      create_time: created.last_update_time,
      last_update_time: expect.any(String),
      feedback: { value: null, error: { error_code: 'RATE_LIMIT', error_message: 'Too many calls.' } },
      valid: true,
    });
    const time = Date.parse(created.create_time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(after);
    // An empty error still counts as one; its code is always written.
    const bare = await create(traceId, { assessment: { assessment_name: 'x', feedback: { error: {} } } });
    expect(bare.feedback).toEqual({ value: null, error: { error_code: '' } });
    // Long stack traces keep their last 10000 characters.
    const long = await create(traceId, {
      assessment: { feedback: { error: { error_code: 'E', stack_trace: `${'a'.repeat(20000)}end` } } },
    });
    expect(long.feedback.error.stack_trace).toHaveLength(10000);
    expect(long.feedback.error.stack_trace).toMatch(/^\[Stack trace is truncated\]\n\.\.\.\na+end$/);
  });

  test('log_expectation: scalars as value, lists and objects serialized as JSON_FORMAT text', async () => {
    const traceId = await startTrace();
    const scalar = await create(
      traceId,
      expectationBody(traceId, { value: 'Paris' }, { rationale: 'dropped' }),
    );
    expect(scalar).toEqual({
      assessment_id: expect.stringMatching(ID),
      assessment_name: 'expected_answer',
      trace_id: traceId,
      source: { source_type: 'HUMAN', source_id: 'default' },
      create_time: T0,
      last_update_time: T0,
      expectation: { value: 'Paris' },
      valid: true,
    });
    const serialized = { serialization_format: 'JSON_FORMAT', value: '["Paris", "France"]' };
    const list = await create(traceId, expectationBody(traceId, { serialized_value: serialized }));
    expect(list.expectation).toEqual({ serialized_value: serialized });
    // A client that sends a struct as a protobuf Value gets it back serialized, as MLflow answers.
    const struct = await create(traceId, expectationBody(traceId, { value: { city: 'Paris', n: [1, 2] } }));
    expect(struct.expectation).toEqual({
      serialized_value: { serialization_format: 'JSON_FORMAT', value: '{"city": "Paris", "n": [1, 2]}' },
    });
    // overrides is a feedback's: an expectation ignores it and overrides nothing.
    const ignored = await create(
      traceId,
      expectationBody(traceId, { value: 1 }, { overrides: scalar.assessment_id }),
    );
    expect(ignored.overrides).toBeUndefined();
    expect((await get(traceId, scalar.assessment_id)).valid).toBe(true);
  });

  test('trace infos list the assessments, oldest first, in get, search and batch reads (not in V2)', async () => {
    const traceId = await startTrace();
    expect((await traceInfo(traceId)).assessments).toBeUndefined();
    const late = await create(traceId, feedbackBody(traceId, { create_time: '2025-03-01T00:00:00Z' }));
    const early = await create(traceId, expectationBody(traceId, { value: 42 }));
    const same = await create(traceId, feedbackBody(traceId, { assessment_name: 'second' }));
    const ids = [early.assessment_id, same.assessment_id, late.assessment_id];
    const info = await traceInfo(traceId);
    expect(info.assessments.map((a: any) => a.assessment_id)).toEqual(ids);
    expect(info.assessments[0]).toEqual(early);

    const searched = await http().post(`${V3}/search`, {
      locations: [location(experimentId)],
      filter: `trace.request_id = '${traceId}'`,
    });
    expect(searched.status).toBe(200);
    expect(searched.body.traces).toHaveLength(1);
    expect(searched.body.traces[0].assessments.map((a: any) => a.assessment_id)).toEqual(ids);

    const batch = await http().post(`${V3}/batchGetInfos`, { trace_ids: [traceId] });
    expect(batch.status).toBe(200);
    expect(batch.body.trace_infos[0].assessments).toEqual(info.assessments);

    const v2 = await http().get(`${API}/traces/${traceId}/info`);
    expect(v2.status).toBe(200);
    expect(v2.body.trace_info.assessments).toBeUndefined();
  });

  test('update_assessment: the masked fields change, metadata merges, the rest stays', async () => {
    const traceId = await startTrace();
    const created = await create(traceId, feedbackBody(traceId));
    // What the client sends: a FieldMask in its JSON form, camelCase paths joined by commas.
    const response = await patch(traceId, created.assessment_id, {
      assessment: {
        assessment_id: created.assessment_id,
        trace_id: traceId,
        assessment_name: 'renamed',
        feedback: { value: 0.25 },
        rationale: 'Revised.',
        metadata: { reviewer: 'bob' },
        source: { source_type: 'CODE' },
        span_id: 'ignored',
      },
      update_mask: 'assessmentName,feedback,rationale,metadata,valid,spanId',
    });
    expect(response.status).toBe(200);
    const updated = response.body.assessment;
    expect(updated).toEqual({
      ...created,
      assessment_name: 'renamed',
      feedback: { value: 0.25 },
      rationale: 'Revised.',
      metadata: { project: 'p1', reviewer: 'bob' },
      last_update_time: expect.any(String),
    });
    expect(Date.parse(updated.last_update_time)).toBeGreaterThan(Date.parse(T0));
    expect(await get(traceId, created.assessment_id)).toEqual(updated);

    // An empty rationale is written as given; an expectation's value is replaced.
    const cleared = await patch(traceId, created.assessment_id, { assessment: {}, update_mask: 'rationale' });
    expect(cleared.body.assessment.rationale).toBe('');
    const expectation = await create(traceId, expectationBody(traceId, { value: 'a' }));
    const replaced = await patch(traceId, expectation.assessment_id, {
      assessment: {
        expectation: { serialized_value: { serialization_format: 'JSON_FORMAT', value: '{"b":1}' } },
      },
      update_mask: 'expectation',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.assessment.expectation).toEqual({
      serialized_value: { serialization_format: 'JSON_FORMAT', value: '{"b": 1}' },
    });
  });

  test('override_feedback: the overridden one turns invalid; deleting the override restores it', async () => {
    const traceId = await startTrace();
    const original = await create(traceId, feedbackBody(traceId));
    const override = await create(
      traceId,
      feedbackBody(traceId, { feedback: { value: false }, overrides: original.assessment_id }),
    );
    expect(override).toMatchObject({ overrides: original.assessment_id, valid: true });
    expect(await get(traceId, original.assessment_id)).toEqual({ ...original, valid: false });
    const info = await traceInfo(traceId);
    expect(info.assessments.map((a: any) => [a.assessment_id, a.valid])).toEqual([
      [original.assessment_id, false],
      [override.assessment_id, true],
    ]);
    // Updates keep validity and the override link.
    const updated = await patch(traceId, original.assessment_id, {
      assessment: { assessment_name: 'x' },
      update_mask: 'assessmentName',
    });
    expect(updated.body.assessment).toMatchObject({ valid: false, assessment_name: 'x' });

    expectEmptyOk(await remove(traceId, override.assessment_id));
    expect((await get(traceId, original.assessment_id)).valid).toBe(true);
    expect((await traceInfo(traceId)).assessments.map((a: any) => a.assessment_id)).toEqual([
      original.assessment_id,
    ]);
    // Deleting what is not there is no error (MLflow's delete is idempotent).
    expectEmptyOk(await remove(traceId, override.assessment_id));
  });

  test('deleting a trace deletes its assessments', async () => {
    const traceId = await startTrace();
    await create(traceId, feedbackBody(traceId));
    await create(traceId, expectationBody(traceId, { value: 1 }));
    const deleted = await http().post(`${V3}/delete-traces`, {
      experiment_id: experimentId,
      request_ids: [traceId],
    });
    expect(deleted.body).toEqual({ traces_deleted: 1 });
    const left = await server.database.db
      .selectFrom('tracking.assessments')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('trace_id', '=', traceId)
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
  });

  test('unknown traces and assessments: MLflow’s 404s', async () => {
    const traceId = await startTrace();
    const created = await create(traceId, feedbackBody(traceId));
    const missingTrace = 'tr-00000000000000000000000000000000';
    expectError(
      await http().post(`${V3}/${missingTrace}/assessments`, feedbackBody(missingTrace)),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with ID '${missingTrace}' not found.`,
    );
    expectError(
      await http().get(`${V3}/${missingTrace}/assessments/${created.assessment_id}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with request_id '${missingTrace}' not found`,
    );
    expectError(
      await http().get(`${V3}/${traceId}/assessments/a-missing`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Assessment with ID 'a-missing' not found for trace '${traceId}'`,
    );
    const mask = { assessment: { assessment_name: 'y' }, update_mask: 'assessmentName' };
    expectError(
      await patch(missingTrace, created.assessment_id, mask),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with request_id '${missingTrace}' not found`,
    );
    expectError(
      await patch(traceId, 'a-missing', mask),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Assessment with ID 'a-missing' not found for trace '${traceId}'`,
    );
    expectError(
      await remove(missingTrace, created.assessment_id),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with ID '${missingTrace}' not found.`,
    );
    // An assessment of another trace is not this trace's.
    const otherTrace = await startTrace();
    expectError(
      await http().get(`${V3}/${otherTrace}/assessments/${created.assessment_id}`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Assessment with ID '${created.assessment_id}' not found for trace '${otherTrace}'`,
    );
    // Overriding what the trace does not have writes nothing (MLflow's message, `{trace_id}` and all).
    for (const overrides of ['a-missing', created.assessment_id]) {
      expectError(
        await http().post(`${V3}/${otherTrace}/assessments`, feedbackBody(otherTrace, { overrides })),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Assessment with ID '${overrides}' not found for trace '{trace_id}'`,
      );
    }
    expect((await traceInfo(otherTrace)).assessments).toBeUndefined();
    expect((await get(traceId, created.assessment_id)).valid).toBe(true);
  });

  test('bad requests: INVALID_PARAMETER_VALUE with MLflow’s words, nothing written', async () => {
    const traceId = await startTrace();
    const created = await create(traceId, feedbackBody(traceId));
    const post = (body: unknown) => http().post(`${V3}/${traceId}/assessments`, body);
    const cases: Array<[unknown, string | RegExp]> = [
      [{}, `Missing value for required parameter 'assessment'.${DOCS_HINT}`],
      [{ assessment: { assessment_name: 'x' } }, 'Unknown assessment type: None'],
      [
        { assessment: { feedback: { value: 1 }, expectation: { value: 1 } } },
        'Exactly one of `expectation` or `feedback` should be specified.',
      ],
      [{ assessment: { feedback: {} } }, 'Either `value` or `error` must be provided.'],
      [{ assessment: { feedback: { value: null } } }, 'Either `value` or `error` must be provided.'],
      [{ assessment: { expectation: {} } }, 'The `value` field must be specified.'],
      [
        { assessment: { expectation: { serialized_value: { serialization_format: 'PICKLE', value: 'x' } } } },
        'Unknown serialization format: PICKLE. Only JSON_FORMAT is supported.',
      ],
      [
        {
          assessment: {
            expectation: { serialized_value: { serialization_format: 'JSON_FORMAT', value: '{' } },
          },
        },
        /parameter 'assessment\.expectation\.serialized_value\.value'/,
      ],
      [
        { assessment: { feedback: { value: 1 }, create_time: 'yesterday' } },
        /Invalid value 'yesterday' for parameter 'assessment\.create_time'/,
      ],
      [
        { assessment: { feedback: { value: 1 }, assessment_name: 5 } },
        /Invalid value 5 for parameter 'assessment\.assessment_name'/,
      ],
      [
        { assessment: { feedback: { value: 1 }, metadata: { k: 1 } } },
        /Invalid value 1 for parameter 'assessment\.metadata\.k'/,
      ],
      [{ assessment: 'x' }, /Invalid value "x" for parameter 'assessment'/],
    ];
    for (const [body, message] of cases)
      expectError(await post(body), 400, 'INVALID_PARAMETER_VALUE', message);

    const update = (body: unknown) => patch(traceId, created.assessment_id, body);
    const updateCases: Array<[unknown, string | RegExp]> = [
      [{ update_mask: 'rationale' }, `Missing value for required parameter 'assessment'.${DOCS_HINT}`],
      [{ assessment: {} }, `Missing value for required parameter 'update_mask'.${DOCS_HINT}`],
      [
        { assessment: {}, update_mask: { paths: ['rationale'] } },
        /Invalid value .* for parameter 'update_mask'/,
      ],
      [
        { assessment: { rationale: 'x' }, update_mask: 'assessment_name' },
        /Fail to parse FieldMask: Path name assessment_name must not contain "_"s\./,
      ],
      [{ assessment: {}, update_mask: 'feedback' }, 'Either `value` or `error` must be provided.'],
      [
        { assessment: { expectation: { value: 1 } }, update_mask: 'expectation' },
        'Cannot update expectation value on a Feedback assessment.',
      ],
    ];
    for (const [body, message] of updateCases)
      expectError(await update(body), 400, 'INVALID_PARAMETER_VALUE', message);
    const expectation = await create(traceId, expectationBody(traceId, { value: 1 }));
    expectError(
      await patch(traceId, expectation.assessment_id, {
        assessment: { feedback: { value: 1 } },
        update_mask: 'feedback',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Cannot update feedback value on an Expectation assessment.',
    );
    expectError(
      await patch(traceId, expectation.assessment_id, { assessment: {}, update_mask: 'expectation' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'The `value` field must be specified.',
    );

    // Nothing of the failed calls was written.
    const info = await traceInfo(traceId);
    expect(info.assessments.map((a: any) => a.assessment_id)).toEqual([
      created.assessment_id,
      expectation.assessment_id,
    ]);
    expect(info.assessments[0]).toEqual(created);
  });

  test('fields longer than MLflow’s columns: 400 INVALID_PARAMETER_VALUE after its 404s, nothing written', async () => {
    const traceId = await startTrace();
    const run = 'mlflow.assessment.sourceRunId';
    // At the widths of SqlAssessments' columns everything is stored whole.
    const atWidth = await create(
      traceId,
      feedbackBody(traceId, {
        assessment_name: 'n'.repeat(250),
        source: { source_type: 'CODE', source_id: 's'.repeat(250) },
        span_id: 'p'.repeat(50),
        metadata: { [run]: 'r'.repeat(32) },
      }),
    );
    expect(await get(traceId, atWidth.assessment_id)).toMatchObject({
      assessment_name: 'n'.repeat(250),
      source: { source_type: 'CODE', source_id: 's'.repeat(250) },
      span_id: 'p'.repeat(50),
      metadata: { [run]: 'r'.repeat(32) },
    });

    const tooLong = (path: string, limit: number) =>
      `'${path}' exceeds the maximum length of ${limit} characters.`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ assessment_name: 'n'.repeat(251) }, tooLong('assessment.assessment_name', 250)],
      [
        { source: { source_type: 'HUMAN', source_id: 's'.repeat(251) } },
        tooLong('assessment.source.source_id', 250),
      ],
      [{ span_id: 'p'.repeat(51) }, tooLong('assessment.span_id', 50)],
      [{ metadata: { [run]: 'r'.repeat(33) } }, tooLong(`assessment.metadata.${run}`, 32)],
    ];
    for (const [extra, message] of cases) {
      expectError(
        await http().post(`${V3}/${traceId}/assessments`, feedbackBody(traceId, extra)),
        400,
        'INVALID_PARAMETER_VALUE',
        message,
      );
      expectError(
        await http().post(`${V3}/${traceId}/assessments`, expectationBody(traceId, { value: 1 }, extra)),
        400,
        'INVALID_PARAMETER_VALUE',
        message,
      );
    }
    // An overriding one that is too long leaves the overridden one valid.
    expectError(
      await http().post(
        `${V3}/${traceId}/assessments`,
        feedbackBody(traceId, { overrides: atWidth.assessment_id, assessment_name: 'n'.repeat(251) }),
      ),
      400,
      'INVALID_PARAMETER_VALUE',
      tooLong('assessment.assessment_name', 250),
    );
    expect((await get(traceId, atWidth.assessment_id)).valid).toBe(true);

    // MLflow looks the trace (and what is overridden) up before its database sees the row.
    const missingTrace = 'tr-00000000000000000000000000000000';
    const long = { assessment_name: 'n'.repeat(251) };
    expectError(
      await http().post(`${V3}/${missingTrace}/assessments`, feedbackBody(missingTrace, long)),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Trace with ID '${missingTrace}' not found.`,
    );
    expectError(
      await http().post(
        `${V3}/${traceId}/assessments`,
        feedbackBody(traceId, { ...long, overrides: 'a-missing' }),
      ),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Assessment with ID 'a-missing' not found for trace '{trace_id}'",
    );

    // UpdateAssessment: a name too long is refused and the stored one stays; unknown ones are 404 first.
    const rename = { assessment: { assessment_name: 'm'.repeat(251) }, update_mask: 'assessmentName' };
    expectError(
      await patch(traceId, atWidth.assessment_id, rename),
      400,
      'INVALID_PARAMETER_VALUE',
      tooLong('assessment.assessment_name', 250),
    );
    expectError(
      await patch(traceId, 'a-missing', rename),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Assessment with ID 'a-missing' not found for trace '${traceId}'`,
    );
    const renamed = await patch(traceId, atWidth.assessment_id, {
      assessment: { assessment_name: 'm'.repeat(250) },
      update_mask: 'assessmentName',
    });
    expect({ status: renamed.status, name: renamed.body.assessment?.assessment_name }).toEqual({
      status: 200,
      name: 'm'.repeat(250),
    });

    // Nothing of the refused calls was written.
    const info = await traceInfo(traceId);
    expect(info.assessments.map((a: any) => a.assessment_id)).toEqual([atWidth.assessment_id]);
  });
});

/** Rounds of the concurrency scenarios; writers per round (the test database's pool has 10 connections). */
const ROUNDS = 10;
const WRITERS = 8;

/**
 * Conflicting assessment writes fired at once over HTTP against real PostgreSQL (PGlite runs one
 * session at a time, so it can never show a race).
 */
describe('concurrent assessment writes (postgres)', () => {
  let server: TrackingServer;
  let experimentId: string;
  beforeAll(async () => {
    server = await startTrackingServer('postgres');
    experimentId = await createExperiment(server.client);
  });
  afterAll(async () => server?.close());

  async function startTrace(): Promise<string> {
    const traceId = newTraceId();
    const response = await server.client.post(V3, {
      trace: { trace_info: { trace_id: traceId, trace_location: location(experimentId), request_time: T0 } },
    });
    expect(response.status).toBe(200);
    return traceId;
  }

  test('overrides of one assessment and other creates at once: each stored once, the original invalid', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const traceId = await startTrace();
      const original = (await server.client.post(`${V3}/${traceId}/assessments`, feedbackBody(traceId))).body
        .assessment;
      const responses = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          server.client.post(
            `${V3}/${traceId}/assessments`,
            feedbackBody(traceId, {
              assessment_name: `w${i}`,
              overrides: i % 2 === 0 ? original.assessment_id : undefined,
            }),
          ),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(WRITERS).fill(200));
      const created = responses.map((r) => r.body.assessment);
      const info = (await server.client.get(`${V3}/${traceId}`)).body.trace.trace_info;
      const byId = new Map<string, any>(info.assessments.map((a: any) => [a.assessment_id, a]));
      expect(byId.size).toBe(WRITERS + 1);
      expect(info.assessments).toHaveLength(WRITERS + 1);
      expect(byId.get(original.assessment_id).valid).toBe(false);
      for (const [i, assessment] of created.entries()) {
        expect(byId.get(assessment.assessment_id)).toEqual(assessment);
        expect(assessment).toMatchObject({ assessment_name: `w${i}`, valid: true });
      }
    }
  });

  test('creates racing the deletion of their trace: 200 or 404, never an orphan nor a 500', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const traceId = await startTrace();
      const writes = Array.from({ length: WRITERS - 1 }, () =>
        server.client.post(`${V3}/${traceId}/assessments`, feedbackBody(traceId)),
      );
      const deletion = server.client.post(`${V3}/delete-traces`, {
        experiment_id: experimentId,
        request_ids: [traceId],
      });
      const [deleted, ...created] = await Promise.all([deletion, ...writes]);
      expect(deleted.body).toEqual({ traces_deleted: 1 });
      for (const response of created) expect([200, 404]).toContain(response.status);
      const left = await server.database.db
        .selectFrom('tracking.assessments')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('trace_id', '=', traceId)
        .executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(0);
    }
  });
});
