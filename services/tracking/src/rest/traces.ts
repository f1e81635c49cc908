import {
  API_V3_PREFIXES,
  decodePageToken,
  encodePageToken,
  invalidParameter,
  MlflowError,
  nonEmpty,
  RequestReader,
  readMaxResults,
  requestBasePath,
  rpc,
} from '@mast/common';
import type {
  BatchGetTraceInfos_Response,
  CreateAssessment_Response,
  DeleteTraces_Response,
  EndTrace_Response,
  GetAssessmentRequest_Response,
  GetTraceInfo_Response,
  GetTraceInfoV3_Response,
  SearchTraces_Response,
  SearchTracesV3_Response,
  StartTrace_Response,
  StartTraceV3_Response,
  UpdateAssessment_Response,
} from '@mast/proto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ASSESSMENT_SOURCE_TYPES,
  type AssessmentDraft,
  type AssessmentUpdate,
  type AssessmentValue,
  expectationValue,
  feedbackValue,
  parseUpdateMask,
  toJsonValue,
} from '../domain/assessments.js';
import { parseTraceFilter, parseTraceOrderBy } from '../domain/trace-search.js';
import {
  checkRequestTime,
  parseDuration,
  parseTimestamp,
  promptVersionNumber,
  TRACE_LIMITS,
  TRACE_STATES,
  type TraceState,
  traceDeletion,
} from '../domain/traces.js';
import type { TrackingServices } from '../service/index.js';
import { toWireAssessment, toWireTraceInfoV2, toWireTraceInfoV3 } from './wire.js';

const TRACES = '/mlflow/traces';
const ASSESSMENTS = `${TRACES}/:trace_id/assessments`;
const V3 = { prefixes: API_V3_PREFIXES };
const V3_EXPENSIVE = { prefixes: API_V3_PREFIXES, expensive: true };

/** V2's TraceStatus names, in enum order (numbers 0..3), as the states they stand for. */
const V2_STATUSES = ['TRACE_STATUS_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'] as const;

function traceIdOf(request: FastifyRequest): string {
  const params = request.params as { trace_id?: string; request_id?: string };
  return (params.trace_id ?? params.request_id)!;
}

/**
 * V2's repeated `{key, value}` messages as a map (a repeated key keeps its last value, as MLflow's dict).
 * An entry without a key (or with an empty one) fails as MLflow's `_assert_map_key_present` fails: the
 * whole list is quoted (`Invalid value [{"value":"x"}] for parameter 'tags' supplied: …`).
 */
function readKeyValueMap(
  reader: RequestReader,
  name: string,
  request: FastifyRequest,
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of reader.messageList(name)) {
    const key = item.stringOrEmpty('key');
    if (!key) throw invalidParameter(name, (request.body as Record<string, unknown>)[name]);
    map[key] = item.stringOrEmpty('value') ?? '';
  }
  return map;
}

function readV2Status(reader: RequestReader): TraceState {
  const status = reader.enumValue('status', V2_STATUSES, 0) ?? 'TRACE_STATUS_UNSPECIFIED';
  return status === 'TRACE_STATUS_UNSPECIFIED' ? 'STATE_UNSPECIFIED' : status;
}

/** An int64 of milliseconds; beyond 2^53 no time is meaningful. */
function readMillis(reader: RequestReader, name: string): number | undefined {
  const value = reader.int64(name);
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') {
    throw MlflowError.invalidParameter(
      `Invalid value ${value} for parameter '${reader.path(name)}' supplied.`,
    );
  }
  return value;
}

/** Search paging shared by V2 and V3: `max_results` 1..500 (default 100), an offset page token. */
function readPaging(reader: RequestReader): { maxResults: number; offset: number } {
  return {
    maxResults: readMaxResults(reader, 'max_results', TRACE_LIMITS.searchDefault, TRACE_LIMITS.searchMax),
    offset: decodePageToken(reader.string('page_token')),
  };
}

function readDeletion(reader: RequestReader) {
  return traceDeletion({
    maxTimestampMillis: readMillis(reader, 'max_timestamp_millis'),
    maxTraces: reader.integer('max_traces'),
    traceIds: reader.stringList('request_ids'),
  });
}

function assessmentIdOf(request: FastifyRequest): string {
  return (request.params as { assessment_id: string }).assessment_id;
}

/** The request's `assessment.feedback` (absent: no value and no error, which MLflow refuses). */
function readFeedback(assessment: RequestReader): AssessmentValue {
  const feedback = assessment.message('feedback');
  const error = feedback?.message('error');
  return feedbackValue(
    feedback && toJsonValue(feedback.jsonValue('value')),
    error
      ? {
          errorCode: error.stringOrEmpty('error_code') ?? '',
          errorMessage: error.string('error_message') ?? null,
          stackTrace: error.string('stack_trace') ?? null,
        }
      : null,
  );
}

/** The request's `assessment.expectation`: its `value`, or its `serialized_value` text. */
function readExpectation(assessment: RequestReader): AssessmentValue {
  const expectation = assessment.message('expectation');
  const serialized = expectation?.message('serialized_value');
  return expectationValue(
    expectation && toJsonValue(expectation.jsonValue('value')),
    serialized && {
      format: serialized.stringOrEmpty('serialization_format') ?? '',
      text: serialized.stringOrEmpty('value') ?? '',
    },
    serialized?.path('value') ?? '',
  );
}

/** A Timestamp field in milliseconds; 0 when absent (the server then uses the current time). */
function readTime(reader: RequestReader, name: string): number {
  const text = reader.string(name);
  return text === undefined ? 0 : parseTimestamp(text, reader.path(name));
}

/**
 * CreateAssessment's `assessment` as MLflow's handler reads it (`Assessment.from_proto`): exactly one of
 * feedback and expectation, checked first with MLflow's words; absent strings are null (the name is
 * "" then); the source type defaults to SOURCE_TYPE_UNSPECIFIED. Its id, trace id and validity are
 * the server's and not read.
 */
function readAssessmentDraft(reader: RequestReader): AssessmentDraft {
  const assessment = reader.message('assessment', { required: true });
  const isFeedback = assessment.has('feedback');
  if (!isFeedback && !assessment.has('expectation')) {
    throw MlflowError.invalidParameter('Unknown assessment type: None');
  }
  if (isFeedback && assessment.has('expectation')) {
    throw MlflowError.invalidParameter('Exactly one of `expectation` or `feedback` should be specified.');
  }
  const value = isFeedback ? readFeedback(assessment) : readExpectation(assessment);
  const source = assessment.message('source');
  return {
    name: assessment.stringOrEmpty('assessment_name') ?? '',
    source: {
      type: source?.enumValue('source_type', ASSESSMENT_SOURCE_TYPES, 0) ?? 'SOURCE_TYPE_UNSPECIFIED',
      id: source?.string('source_id') ?? null,
    },
    createTime: readTime(assessment, 'create_time'),
    lastUpdateTime: readTime(assessment, 'last_update_time'),
    value,
    rationale: assessment.string('rationale') ?? null,
    metadata: assessment.stringMap('metadata'),
    spanId: assessment.string('span_id') ?? null,
    overrides: assessment.string('overrides') ?? null,
  };
}

/**
 * UpdateAssessment's changes as MLflow's handler reads them: for each path of `update_mask`, in order,
 * that field of `assessment` (an absent name or rationale is ""). Other paths change nothing, as in
 * MLflow (whose store cannot take the `valid` its handler passes on).
 */
function readAssessmentUpdate(reader: RequestReader): AssessmentUpdate {
  const assessment = reader.message('assessment', { required: true });
  const update: AssessmentUpdate = {};
  for (const path of parseUpdateMask(reader.string('update_mask', { required: true }))) {
    if (path === 'assessment_name') update.name = assessment.stringOrEmpty('assessment_name') ?? '';
    else if (path === 'expectation') update.value = readExpectation(assessment);
    else if (path === 'feedback') update.value = readFeedback(assessment);
    else if (path === 'rationale') update.rationale = assessment.stringOrEmpty('rationale') ?? '';
    else if (path === 'metadata') update.metadata = assessment.stringMap('metadata');
  }
  return update;
}

/** Answers as MLflow does for an RPC it does not serve, so clients take their fallback. */
function notServed(request: FastifyRequest): never {
  throw new MlflowError('ENDPOINT_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`);
}

/**
 * MLflow traces over REST (spec §1.6, §1.7): the V3 RPCs under /api/3.0 (and /ajax-api/3.0), the legacy
 * V2 ones and LinkTracesToRun under /api/2.0 (all prefixes). Span storage (GetTrace, BatchGetTraces,
 * OTLP) is not served: `traces/get` and `traces/batchGet` answer ENDPOINT_NOT_FOUND, on which the
 * Python client reads `traces.json` from the trace's artifact location instead. LinkPromptsToTrace
 * (2.0 prefixes) keeps the links in the trace's `mlflow.linkedPrompts` tag. The web UI's span download
 * (`/ajax-api/{2,3}.0/mlflow/get-trace-artifact?request_id=`) redirects (302) to the artifact service's
 * download of `traces.json`, as the registry's `/model-versions/get-artifact` does, so the bytes stream
 * from the service that owns them in both wirings: the same attachment headers and text/plain type as
 * MLflow's handler, and its 404 NOT_FOUND "Trace data not found for path=..." for a missing or empty file.
 */
export function traceRoutes(app: FastifyInstance, { traces, assessments }: TrackingServices): void {
  // ---- V3 ------------------------------------------------------------------------------------------
  rpc(
    app,
    'POST',
    TRACES,
    async (reader): Promise<StartTraceV3_Response> => {
      const info = reader.message('trace', { required: true }).message('trace_info', { required: true });
      const requestTime = info.string('request_time');
      const duration = info.string('execution_duration');
      const trace = await traces.start({
        traceId: info.string('trace_id', { required: true }),
        experimentId: info.message('trace_location')?.message('mlflow_experiment')?.id('experiment_id'),
        clientRequestId: info.stringOrEmpty('client_request_id'),
        requestTime: requestTime === undefined ? 0 : parseTimestamp(requestTime, info.path('request_time')),
        executionDuration:
          duration === undefined ? undefined : parseDuration(duration, info.path('execution_duration')),
        state: info.enumValue('state', TRACE_STATES, 0) ?? 'STATE_UNSPECIFIED',
        requestPreview: info.stringOrEmpty('request_preview'),
        responsePreview: info.stringOrEmpty('response_preview'),
        tags: info.stringMap('tags'),
        metadata: info.stringMap('trace_metadata'),
      });
      return { trace: { trace_info: toWireTraceInfoV3(trace) } };
    },
    V3,
  );

  // Static routes win over `:trace_id` in Fastify: these must not read as trace ids.
  rpc(app, 'GET', `${TRACES}/get`, async (_reader, request) => notServed(request), V3);
  rpc(app, 'GET', `${TRACES}/batchGet`, async (_reader, request) => notServed(request), V3);

  rpc(
    app,
    'GET',
    `${TRACES}/:trace_id`,
    async (_reader, request): Promise<GetTraceInfoV3_Response> => ({
      trace: { trace_info: toWireTraceInfoV3(await traces.get(traceIdOf(request))) },
    }),
    V3,
  );

  rpc(
    app,
    'POST',
    `${TRACES}/search`,
    async (reader): Promise<SearchTracesV3_Response> => {
      const experimentIds = reader
        .messageList('locations', { required: true })
        .flatMap((location) => location.message('mlflow_experiment')?.id('experiment_id') ?? []);
      const filter = parseTraceFilter(reader.string('filter'));
      const orderBy = parseTraceOrderBy(reader.stringList('order_by'));
      const { maxResults, offset } = readPaging(reader);
      const page = await traces.search({ experimentIds, filter, orderBy, maxResults, offset });
      return {
        traces: nonEmpty(page.traces.map(toWireTraceInfoV3)),
        next_page_token: page.hasMore ? encodePageToken(offset + maxResults) : undefined,
      };
    },
    V3_EXPENSIVE,
  );

  rpc(
    app,
    'POST',
    `${TRACES}/batchGetInfos`,
    async (reader): Promise<BatchGetTraceInfos_Response> => {
      const found = await traces.getMany(reader.stringList('trace_ids', { required: true }));
      return { trace_infos: nonEmpty(found.map(toWireTraceInfoV3)) };
    },
    V3_EXPENSIVE,
  );

  // ---- Assessments (V3) ----------------------------------------------------------------------------
  rpc(
    app,
    'POST',
    ASSESSMENTS,
    async (reader, request): Promise<CreateAssessment_Response> => {
      const created = await assessments.create(traceIdOf(request), readAssessmentDraft(reader));
      return { assessment: toWireAssessment(created) };
    },
    V3,
  );

  rpc(
    app,
    'GET',
    `${ASSESSMENTS}/:assessment_id`,
    async (_reader, request): Promise<GetAssessmentRequest_Response> => ({
      assessment: toWireAssessment(await assessments.get(traceIdOf(request), assessmentIdOf(request))),
    }),
    V3,
  );

  rpc(
    app,
    'PATCH',
    `${ASSESSMENTS}/:assessment_id`,
    async (reader, request): Promise<UpdateAssessment_Response> => {
      const update = readAssessmentUpdate(reader);
      const updated = await assessments.update(traceIdOf(request), assessmentIdOf(request), update);
      return { assessment: toWireAssessment(updated) };
    },
    V3,
  );

  rpc(
    app,
    'DELETE',
    `${ASSESSMENTS}/:assessment_id`,
    async (_reader, request) => {
      await assessments.delete(traceIdOf(request), assessmentIdOf(request));
      return {};
    },
    V3,
  );

  // ---- V2 and V3 alike -----------------------------------------------------------------------------
  for (const options of [{}, V3]) {
    rpc(
      app,
      'POST',
      `${TRACES}/delete-traces`,
      async (reader): Promise<DeleteTraces_Response> => {
        const experimentId = reader.id('experiment_id', { required: true });
        return { traces_deleted: await traces.delete(experimentId, readDeletion(reader)) };
      },
      options,
    );
    rpc(
      app,
      'PATCH',
      `${TRACES}/:trace_id/tags`,
      async (reader, request) => {
        await traces.setTag(
          traceIdOf(request),
          reader.string('key', { required: true }),
          reader.stringOrEmpty('value') ?? '',
        );
        return {};
      },
      options,
    );
    rpc(
      app,
      'DELETE',
      `${TRACES}/:trace_id/tags`,
      async (reader, request) => {
        await traces.deleteTag(traceIdOf(request), reader.string('key', { required: true }));
        return {};
      },
      options,
    );
  }

  rpc(app, 'POST', `${TRACES}/link-to-run`, async (reader) => {
    const traceIds = reader.stringList('trace_ids', { required: true });
    await traces.linkToRun(traceIds, reader.string('run_id', { required: true }));
    return {};
  });

  rpc(app, 'POST', `${TRACES}/link-prompts`, async (reader) => {
    const traceId = reader.string('trace_id', { required: true });
    const prompts = reader.messageList('prompt_versions', { required: true }).map((ref) => ({
      name: ref.stringOrEmpty('name') ?? '',
      version: promptVersionNumber(ref.stringOrEmpty('version') ?? '', ref.path('version')),
    }));
    await traces.linkPrompts(traceId, prompts);
    return {};
  });

  // The web UI's span download: not an RPC (no JSON answer), on MLflow's two ajax routes only.
  for (const prefix of ['/ajax-api/2.0', '/ajax-api/3.0']) {
    app.get(`${prefix}/mlflow/get-trace-artifact`, async (request, reply) => {
      const given = (request.query as { request_id?: string | string[] }).request_id;
      // Flask's `request.args.get` reads the first of repeated keys; that one is screened as every
      // request string is (a NUL is a 400, not a database failure).
      const traceId = RequestReader.of({ request_id: Array.isArray(given) ? given[0] : given }).string(
        'request_id',
      );
      if (!traceId) {
        throw new MlflowError('BAD_REQUEST', 'Request must include the "request_id" query parameter.');
      }
      return reply.redirect(`${requestBasePath(request)}${await traces.traceDataPath(traceId)}`, 302);
    });
  }

  // ---- V2 ------------------------------------------------------------------------------------------
  rpc(app, 'POST', TRACES, async (reader, request): Promise<StartTrace_Response> => {
    const trace = await traces.startV2({
      experimentId: reader.id('experiment_id'),
      timestampMs: checkRequestTime(readMillis(reader, 'timestamp_ms') ?? 0, 'timestamp_ms'),
      metadata: readKeyValueMap(reader, 'request_metadata', request),
      tags: readKeyValueMap(reader, 'tags', request),
    });
    return { trace_info: toWireTraceInfoV2(trace) };
  });

  rpc(app, 'PATCH', `${TRACES}/:trace_id`, async (reader, request): Promise<EndTrace_Response> => {
    const trace = await traces.end(traceIdOf(request), {
      timestampMs: readMillis(reader, 'timestamp_ms') ?? 0,
      state: readV2Status(reader),
      metadata: readKeyValueMap(reader, 'request_metadata', request),
      tags: readKeyValueMap(reader, 'tags', request),
    });
    return { trace_info: toWireTraceInfoV2(trace) };
  });

  rpc(
    app,
    'GET',
    `${TRACES}/:trace_id/info`,
    async (_reader, request): Promise<GetTraceInfo_Response> => ({
      trace_info: toWireTraceInfoV2(await traces.get(traceIdOf(request))),
    }),
  );

  rpc(
    app,
    'GET',
    TRACES,
    async (reader): Promise<SearchTraces_Response> => {
      const experimentIds = reader.stringList('experiment_ids', { required: true });
      const filter = parseTraceFilter(reader.string('filter'));
      const orderBy = parseTraceOrderBy(reader.stringList('order_by'));
      const { maxResults, offset } = readPaging(reader);
      const page = await traces.search({ experimentIds, filter, orderBy, maxResults, offset });
      return {
        traces: nonEmpty(page.traces.map(toWireTraceInfoV2)),
        next_page_token: page.hasMore ? encodePageToken(offset + maxResults) : undefined,
      };
    },
    { expensive: true },
  );
}
