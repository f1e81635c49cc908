import {
  API_DOCS_HINT,
  decodePageToken,
  encodePageToken,
  invalidParameter,
  MlflowError,
  missingParameter,
  nonEmpty,
  type RequestReader,
  rpc,
} from '@mast/common';
import type {
  CreateLoggedModel_Response,
  FinalizeLoggedModel_Response,
  GetLoggedModel_Response,
  LoggedModelStatus,
  SearchLoggedModels_Response,
} from '@mast/proto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../domain/limits.js';
import { parseLoggedModelFilter } from '../domain/search-filter.js';
import type { TrackingServices } from '../service/index.js';
import {
  type DatasetFilter,
  type LoggedModelOrderTerm,
  loggedModelOrderTerm,
} from '../store/logged-model-store.js';
import { readKeyValue } from './key-values.js';
import { toWireLoggedModel } from './wire.js';

const MODELS = '/mlflow/logged-models';

/** Proto enum order (numbers 0..3), so clients may send the number too. */
const STATUSES: readonly LoggedModelStatus[] = [
  'LOGGED_MODEL_STATUS_UNSPECIFIED',
  'LOGGED_MODEL_PENDING',
  'LOGGED_MODEL_READY',
  'LOGGED_MODEL_UPLOAD_FAILED',
];
const FINAL_STATUSES: readonly LoggedModelStatus[] = ['LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'];

/** MLflow sets no upper bound; this one keeps a single page from exhausting memory. */
const SEARCH_MAX_RESULTS = 50_000;
function modelIdOf(request: FastifyRequest): string {
  return (request.params as { model_id: string }).model_id;
}

/** MLflow reads `allow_deleted` straight from the query string: only "true" (any case) means true. */
function readAllowDeleted(request: FastifyRequest): boolean {
  const raw = (request.query as Record<string, unknown> | undefined)?.allow_deleted;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return String(value ?? 'false').toLowerCase() === 'true';
}

function readFinalStatus(reader: RequestReader): LoggedModelStatus {
  const status = reader.enumValue('status', STATUSES, 0);
  if (status === undefined) throw missingParameter(reader.path('status'));
  if (!FINAL_STATUSES.includes(status)) {
    throw invalidParameter(
      reader.path('status'),
      status,
      `A logged model can only be finalized as ${FINAL_STATUSES.join(' or ')}.`,
    );
  }
  return status;
}

function readDatasets(reader: RequestReader): DatasetFilter[] {
  return reader.messageList('datasets').map((dataset) => {
    const name = dataset.string('dataset_name');
    if (name === undefined) {
      throw MlflowError.invalidParameter('`dataset_name` in the `datasets` clause must be specified.');
    }
    return { name, digest: dataset.string('dataset_digest') };
  });
}

/** `order_by` messages: attribute names or `metrics.<key>` (optionally on one dataset). */
function readOrderBy(reader: RequestReader): LoggedModelOrderTerm[] {
  return reader.messageList('order_by').map((item) => {
    const fieldName = item.string('field_name');
    if (fieldName === undefined) {
      throw MlflowError.invalidParameter('`field_name` in the `order_by` clause must be specified.');
    }
    return loggedModelOrderTerm({
      fieldName,
      ascending: item.boolean('ascending') ?? true,
      datasetName: item.string('dataset_name'),
      datasetDigest: item.string('dataset_digest'),
    });
  });
}

/** `max_results`: absent or 0 means the default (protobuf's unset), otherwise 1..SEARCH_MAX_RESULTS. */
function readSearchMaxResults(reader: RequestReader): number {
  const value = reader.integer('max_results');
  if (value === undefined || value === 0) return LIMITS.loggedModelsDefault;
  if (value < 1 || value > SEARCH_MAX_RESULTS) {
    throw MlflowError.invalidParameter(
      `Invalid value ${value} for parameter 'max_results' supplied. It must be at most ${SEARCH_MAX_RESULTS} and at least 1.${API_DOCS_HINT}`,
    );
  }
  return value;
}

/** MLflow 3 logged models (spec §1.5); ListLoggedModelArtifacts belongs to the artifact service. */
export function loggedModelRoutes(app: FastifyInstance, { loggedModels }: TrackingServices): void {
  rpc(app, 'POST', MODELS, async (reader): Promise<CreateLoggedModel_Response> => {
    const model = await loggedModels.create({
      experimentId: reader.id('experiment_id', { required: true }),
      name: reader.string('name'),
      modelType: reader.string('model_type'),
      sourceRunId: reader.string('source_run_id'),
      params: reader.messageList('params').map(readKeyValue),
      tags: reader.messageList('tags').map(readKeyValue),
    });
    return { model: toWireLoggedModel(model) };
  });

  rpc(
    app,
    'POST',
    `${MODELS}/search`,
    async (reader): Promise<SearchLoggedModels_Response> => {
      const experimentIds = reader.stringList('experiment_ids', { required: true });
      const filter = parseLoggedModelFilter(reader.string('filter'));
      const datasets = readDatasets(reader);
      const orderBy = readOrderBy(reader);
      const maxResults = readSearchMaxResults(reader);
      const offset = decodePageToken(reader.string('page_token'));
      const { models, hasMore } = await loggedModels.search({
        experimentIds,
        filter,
        datasets,
        orderBy,
        maxResults,
        offset,
      });
      return {
        models: nonEmpty(models.map(toWireLoggedModel)),
        next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
      };
    },
    { expensive: true },
  );

  rpc(app, 'GET', `${MODELS}/:model_id`, async (_reader, request): Promise<GetLoggedModel_Response> => {
    const model = await loggedModels.get(modelIdOf(request), { allowDeleted: readAllowDeleted(request) });
    return { model: toWireLoggedModel(model) };
  });

  rpc(app, 'PATCH', `${MODELS}/:model_id`, async (reader, request): Promise<FinalizeLoggedModel_Response> => {
    const status = readFinalStatus(reader);
    return { model: toWireLoggedModel(await loggedModels.finalize(modelIdOf(request), status)) };
  });

  rpc(app, 'DELETE', `${MODELS}/:model_id`, async (_reader, request) => {
    await loggedModels.delete(modelIdOf(request));
    return {};
  });

  rpc(app, 'PATCH', `${MODELS}/:model_id/tags`, async (reader, request) => {
    await loggedModels.setTags(modelIdOf(request), reader.messageList('tags').map(readKeyValue));
    return {};
  });

  // A wildcard, so tag keys containing '/' (legal in MLflow keys) work whether or not clients encode it.
  rpc(app, 'DELETE', `${MODELS}/:model_id/tags/*`, async (_reader, request) => {
    const key = (request.params as { '*': string })['*'];
    if (key === '') throw missingParameter('tag_key');
    await loggedModels.deleteTag(modelIdOf(request), key);
    return {};
  });

  rpc(app, 'POST', `${MODELS}/:model_id/params`, async (reader, request) => {
    await loggedModels.logParams(modelIdOf(request), reader.messageList('params').map(readKeyValue));
    return {};
  });
}
