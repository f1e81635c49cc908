import { API_DOCS_HINT, MlflowError, RequestReader } from '@mast/common';
import type {
  CreateRun_Response,
  GetMetricHistory_Response,
  GetMetricHistoryBulkInterval_Response,
  GetRun_Response,
  RunStatus,
  SearchDatasets_Response,
  SearchRuns_Response,
  UpdateRun_Response,
} from '@mast/proto';
import type { FastifyInstance } from 'fastify';
import { newRunId } from '../domain/ids.js';
import { LIMITS } from '../domain/limits.js';
import { parseRunOrderBy } from '../domain/order-by.js';
import { resolveRunName } from '../domain/run-names.js';
import { parseRunFilter } from '../domain/search-filter.js';
import {
  validateBatchSize,
  validateFilterSize,
  validateKey,
  validateLength,
  validateMetricTimestamp,
  validateNoDuplicateParamKeys,
  validateOrderByCount,
  validateRunId,
} from '../domain/validation.js';
import { DEFAULT_EXPERIMENT_ID } from '../store/experiment-store.js';
import type { KeyValue, MetricPoint, NewDatasetInput } from '../store/run-store.js';
import { decodePageToken, encodePageToken } from '../store/search-sql.js';
import type { TrackingContext } from './context.js';
import { readMaxResults, VIEW_TYPES } from './experiments.js';
import { readParam, readTag } from './key-values.js';
import { nonEmpty, rpc } from './rpc.js';

const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
const LOG_BATCH_BODY_LIMIT = 5 * 1024 * 1024;
const MODEL_HISTORY_TAG = 'mlflow.log-model.history';

/** `run_id`, or the deprecated `run_uuid` that older clients send. */
function readRunId(reader: RequestReader): string {
  return reader.string('run_id') ?? reader.string('run_uuid') ?? reader.string('run_id', { required: true });
}

function readMetric(reader: RequestReader): MetricPoint {
  const key = reader.string('key', { required: true });
  validateKey('metric', key, reader.path('key'));
  const value = reader.double('value', { required: true });
  const timestamp = reader.integer('timestamp', { required: true });
  validateMetricTimestamp(timestamp, reader.path('timestamp'));
  return {
    key,
    value,
    timestamp,
    step: reader.integer('step') ?? 0,
    model_id: reader.string('model_id'),
    dataset_name: reader.string('dataset_name'),
    dataset_digest: reader.string('dataset_digest'),
  };
}

function readDatasetInput(reader: RequestReader): NewDatasetInput {
  const dataset = reader.message('dataset', { required: true });
  const field = (name: string, limit: number, required: boolean) => {
    const value = required ? dataset.string(name, { required: true }) : dataset.string(name);
    validateLength(value, limit, dataset.path(name));
    return value;
  };
  const tags = reader.messageList('tags').map((tag) => {
    const key = tag.string('key', { required: true });
    const value = tag.stringOrEmpty('value') ?? '';
    validateLength(key, LIMITS.inputTagKey, tag.path('key'));
    validateLength(value, LIMITS.inputTagValue, tag.path('value'));
    return { key, value };
  });
  return {
    name: field('name', LIMITS.datasetName, true)!,
    digest: field('digest', LIMITS.datasetDigest, true)!,
    source_type: field('source_type', Number.MAX_SAFE_INTEGER, true)!,
    source: field('source', LIMITS.datasetSource, true)!,
    schema: field('schema', LIMITS.datasetSchema, false),
    profile: field('profile', LIMITS.datasetProfile, false),
    tags,
  };
}

function dedupeByKey(tags: KeyValue[]): KeyValue[] {
  return [...new Map(tags.map((tag) => [tag.key, tag])).values()];
}

export function runRoutes(app: FastifyInstance, { runs, clock }: TrackingContext): void {
  rpc(app, 'POST', '/mlflow/runs/create', async (reader): Promise<CreateRun_Response> => {
    const experimentId = reader.id('experiment_id') ?? DEFAULT_EXPERIMENT_ID;
    const requestTags = dedupeByKey(reader.messageList('tags').map(readTag));
    const { name, tags } = resolveRunName(reader.string('run_name'), requestTags);
    const run = await runs.create({
      runId: newRunId(),
      experimentId,
      userId: reader.string('user_id') ?? tags.find((tag) => tag.key === 'mlflow.user')?.value ?? '',
      runName: name,
      startTime: reader.integer('start_time') ?? clock(),
      tags,
    });
    return { run };
  });

  rpc(app, 'POST', '/mlflow/runs/update', async (reader): Promise<UpdateRun_Response> => {
    const runId = readRunId(reader);
    const runInfo = await runs.update(runId, {
      status: reader.enumValue('status', RUN_STATUSES),
      endTime: reader.integer('end_time'),
      runName: reader.string('run_name'),
    });
    return { run_info: runInfo };
  });

  rpc(app, 'POST', '/mlflow/runs/delete', async (reader) => {
    await runs.setLifecycle(reader.string('run_id', { required: true }), 'deleted', clock());
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/restore', async (reader) => {
    await runs.setLifecycle(reader.string('run_id', { required: true }), 'active', clock());
    return {};
  });

  rpc(
    app,
    'GET',
    '/mlflow/runs/get',
    async (reader): Promise<GetRun_Response> => ({ run: await runs.get(readRunId(reader)) }),
  );

  rpc(app, 'POST', '/mlflow/runs/log-metric', async (reader) => {
    const runId = readRunId(reader);
    await runs.logBatch(runId, { metrics: [readMetric(reader)], params: [], tags: [] });
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/log-parameter', async (reader) => {
    const runId = readRunId(reader);
    await runs.logBatch(runId, { metrics: [], params: [readParam(reader)], tags: [] });
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/set-tag', async (reader) => {
    const runId = readRunId(reader);
    await runs.logBatch(runId, { metrics: [], params: [], tags: [readTag(reader)] });
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/delete-tag', async (reader) => {
    await runs.deleteTag(
      reader.string('run_id', { required: true }),
      reader.string('key', { required: true }),
    );
    return {};
  });

  rpc(
    app,
    'POST',
    '/mlflow/runs/log-batch',
    async (reader) => {
      const runId = reader.string('run_id', { required: true });
      validateRunId(runId);
      const metricReaders = reader.messageList('metrics');
      const paramReaders = reader.messageList('params');
      const tagReaders = reader.messageList('tags');
      validateBatchSize(metricReaders.length, paramReaders.length, tagReaders.length);
      const params = paramReaders.map(readParam);
      validateNoDuplicateParamKeys(params.map((p) => p.key));
      const metrics = metricReaders.map(readMetric);
      const tags = tagReaders.map(readTag);
      await runs.logBatch(runId, { metrics, params, tags });
      return {};
    },
    LOG_BATCH_BODY_LIMIT,
  );

  rpc(app, 'POST', '/mlflow/runs/log-model', async (reader) => {
    const runId = reader.string('run_id', { required: true });
    const modelJson = reader.string('model_json', { required: true });
    let model: unknown;
    try {
      model = JSON.parse(modelJson);
    } catch {
      throw MlflowError.invalidParameter(`Malformed model info. \n ${modelJson} \n is not a valid JSON.`);
    }
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw MlflowError.invalidParameter(`Malformed model info. \n ${modelJson} \n is not a JSON object.`);
    }
    const missing = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'].filter(
      (field) => !(field in model),
    );
    if (missing.length > 0) {
      throw MlflowError.invalidParameter(
        `Model json is missing mandatory fields: {${missing.map((f) => `'${f}'`).join(', ')}}`,
      );
    }
    await runs.appendToJsonListTag(runId, MODEL_HISTORY_TAG, model);
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/log-inputs', async (reader) => {
    const runId = reader.string('run_id', { required: true });
    validateRunId(runId);
    const datasetReaders = reader.messageList('datasets');
    if (datasetReaders.length > LIMITS.datasetsPerRequest) {
      throw MlflowError.invalidParameter(
        `A logging request can contain at most ${LIMITS.datasetsPerRequest} datasets. Got ${datasetReaders.length} datasets.`,
      );
    }
    const datasets = datasetReaders.map(readDatasetInput);
    const modelIds = reader
      .messageList('models')
      .map((model) => model.string('model_id', { required: true }));
    await runs.logInputs(runId, datasets, modelIds);
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/outputs', async (reader) => {
    const runId = reader.string('run_id', { required: true });
    const outputs = reader.messageList('models', { required: true }).map((model) => ({
      modelId: model.string('model_id', { required: true }),
      step: model.integer('step', { required: true }),
    }));
    await runs.logOutputs(runId, outputs);
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/search', async (reader): Promise<SearchRuns_Response> => {
    const maxResults = readMaxResults(reader, 'max_results', LIMITS.searchRunsDefault, LIMITS.searchRunsMax);
    const offset = decodePageToken(reader.string('page_token'));
    const filter = parseRunFilter(reader.string('filter'));
    validateFilterSize(filter);
    const orderBy = reader.stringList('order_by');
    validateOrderByCount(orderBy);
    const page = await runs.search({
      experimentIds: reader.stringList('experiment_ids'),
      filter,
      orderBy: parseRunOrderBy(orderBy),
      viewType: reader.enumValue('run_view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY',
      maxResults,
      offset,
    });
    return {
      runs: nonEmpty(page),
      next_page_token: page.length === maxResults ? encodePageToken(offset + maxResults) : undefined,
    };
  });

  rpc(app, 'GET', '/mlflow/metrics/get-history', async (reader): Promise<GetMetricHistory_Response> => {
    const runId = readRunId(reader);
    const key = reader.string('metric_key', { required: true });
    const maxResults = reader.has('max_results')
      ? readMaxResults(reader, 'max_results', LIMITS.metricHistoryPageMax, LIMITS.metricHistoryPageMax)
      : undefined;
    const offset = decodePageToken(reader.string('page_token'));
    const metrics = await runs.metricHistory(
      runId,
      key,
      offset,
      maxResults === undefined ? undefined : maxResults + 1,
    );
    const hasMore = maxResults !== undefined && metrics.length > maxResults;
    return {
      metrics: nonEmpty(hasMore ? metrics.slice(0, maxResults) : metrics),
      next_page_token: hasMore ? encodePageToken(offset + maxResults!) : undefined,
    };
  });

  rpc(
    app,
    'GET',
    '/mlflow/metrics/get-history-bulk-interval',
    async (reader): Promise<GetMetricHistoryBulkInterval_Response> => {
      const runIds = reader.stringList('run_ids');
      if (runIds.length === 0)
        throw MlflowError.invalidParameter(
          `GetMetricHistoryBulkInterval request must specify at least one run_id.`,
        );
      if (runIds.length > LIMITS.bulkIntervalRuns) {
        throw MlflowError.invalidParameter(
          `GetMetricHistoryBulkInterval request cannot specify more than ${LIMITS.bulkIntervalRuns} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      const key = reader.string('metric_key', { required: true });
      const startStep = reader.integer('start_step');
      const endStep = reader.integer('end_step');
      if ((startStep === undefined) !== (endStep === undefined)) {
        throw MlflowError.invalidParameter(
          'If either start step or end step are specified, both must be specified.',
        );
      }
      if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
        throw MlflowError.invalidParameter('end_step must be greater than start_step. ');
      }
      const maxResults = readMaxResults(
        reader,
        'max_results',
        LIMITS.bulkIntervalMaxResults,
        LIMITS.bulkIntervalMaxResults,
      );
      const metrics = await runs.historyBulkInterval({ runIds, key, startStep, endStep, maxResults });
      return { metrics: nonEmpty(metrics) };
    },
  );

  /** The UI's legacy bulk history (ajax only; repeated key `run_id`). */
  app.get('/ajax-api/2.0/mlflow/metrics/get-history-bulk', async (request) => {
    const reader = RequestReader.of(request.query);
    const runIds = reader.stringList('run_id');
    if (runIds.length === 0)
      throw MlflowError.invalidParameter(`GetMetricHistoryBulk request must specify at least one run_id.`);
    if (runIds.length > LIMITS.bulkHistoryRuns) {
      throw MlflowError.invalidParameter(
        `GetMetricHistoryBulk request cannot specify more than ${LIMITS.bulkHistoryRuns} run_ids. Received ${runIds.length} run_ids.`,
      );
    }
    const key = reader.string('metric_key', { required: true });
    const maxResults = Math.min(
      reader.integer('max_results') ?? LIMITS.bulkHistoryMaxResults,
      LIMITS.bulkHistoryMaxResults,
    );
    if (maxResults < 1) throw MlflowError.invalidParameter(`max_results must be positive.${API_DOCS_HINT}`);
    return { metrics: await runs.historyBulk(runIds, key, maxResults) };
  });

  rpc(
    app,
    'POST',
    '/mlflow/experiments/search-datasets',
    async (reader): Promise<SearchDatasets_Response> => {
      const experimentIds = reader.stringList('experiment_ids');
      if (experimentIds.length < 1 || experimentIds.length > LIMITS.searchDatasetsExperiments) {
        throw MlflowError.invalidParameter(
          `SearchDatasets request must specify at least one experiment_id and at most ${LIMITS.searchDatasetsExperiments} experiment_ids. Received ${experimentIds.length} experiment_ids.`,
        );
      }
      return { dataset_summaries: nonEmpty(await runs.searchDatasets(experimentIds)) };
    },
  );
}
