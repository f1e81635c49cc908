import {
  API_DOCS_HINT,
  decodePageToken,
  encodePageToken,
  JsonText,
  MlflowError,
  nonEmpty,
  RequestReader,
  readMaxResults,
  readViewType,
  rpc,
} from '@mast/common';
import type {
  CreateRun_Response,
  GetMetricHistoryBulkInterval_Response,
  GetRun_Response,
  RunStatus,
  SearchDatasets_Response,
  UpdateRun_Response,
} from '@mast/proto';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../domain/limits.js';
import { parseRunOrderBy } from '../domain/order-by.js';
import type { NewDatasetInput } from '../domain/records.js';
import { parseRunFilter } from '../domain/search-filter.js';
import { validateFilterSize, validateLength, validateOrderByCount } from '../domain/validation.js';
import type { MetricInput, TrackingServices } from '../service/index.js';
import { readKeyValue } from './key-values.js';
import { toWireDatasetSummary, toWireMetricWithRunId, toWireRun, toWireRunInfo } from './wire.js';

const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
const LOG_BATCH_BODY_LIMIT = 5 * 1024 * 1024;

/** `run_id`, or the deprecated `run_uuid` that older clients send. */
function readRunId(reader: RequestReader): string {
  return reader.string('run_id') ?? reader.string('run_uuid') ?? reader.string('run_id', { required: true });
}

/** A metric message; MLflow's wire format requires `timestamp`. */
function readMetric(reader: RequestReader): MetricInput {
  return {
    key: reader.string('key', { required: true }),
    value: reader.double('value', { required: true }),
    timestamp: reader.int64('timestamp', { required: true }),
    step: reader.int64('step'),
    model_id: reader.string('model_id'),
    dataset_name: reader.string('dataset_name'),
    dataset_digest: reader.string('dataset_digest'),
    path: reader.location,
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

/** MLflow's `runs/*` and `metrics/*` routes: parse the request, call the run service, shape the answer. */
export function runRoutes(app: FastifyInstance, { runs }: TrackingServices): void {
  rpc(app, 'POST', '/mlflow/runs/create', async (reader): Promise<CreateRun_Response> => {
    const run = await runs.create({
      // Required here (MLflow clients always send it); GraphQL's createRun documents its own default.
      experimentId: reader.id('experiment_id', { required: true }),
      userId: reader.string('user_id'),
      runName: reader.string('run_name'),
      startTime: reader.integer('start_time'),
      tags: reader.messageList('tags').map(readKeyValue),
    });
    return { run: toWireRun(run) };
  });

  rpc(app, 'POST', '/mlflow/runs/update', async (reader): Promise<UpdateRun_Response> => {
    const runId = readRunId(reader);
    const runInfo = await runs.update(runId, {
      status: reader.enumValue('status', RUN_STATUSES),
      endTime: reader.integer('end_time'),
      runName: reader.string('run_name'),
    });
    return { run_info: toWireRunInfo(runInfo) };
  });

  rpc(app, 'POST', '/mlflow/runs/delete', async (reader) => {
    await runs.delete(reader.string('run_id', { required: true }));
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/restore', async (reader) => {
    await runs.restore(reader.string('run_id', { required: true }));
    return {};
  });

  rpc(
    app,
    'GET',
    '/mlflow/runs/get',
    async (reader): Promise<GetRun_Response> => ({ run: toWireRun(await runs.get(readRunId(reader))) }),
  );

  rpc(app, 'POST', '/mlflow/runs/log-metric', async (reader) => {
    await runs.logMetric(readRunId(reader), readMetric(reader));
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/log-parameter', async (reader) => {
    await runs.logParam(readRunId(reader), readKeyValue(reader));
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/set-tag', async (reader) => {
    await runs.setTag(readRunId(reader), readKeyValue(reader));
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
      await runs.logBatch(reader.string('run_id', { required: true }), {
        metrics: reader.messageList('metrics').map(readMetric),
        params: reader.messageList('params').map(readKeyValue),
        tags: reader.messageList('tags').map(readKeyValue),
      });
      return {};
    },
    { bodyLimit: LOG_BATCH_BODY_LIMIT },
  );

  rpc(app, 'POST', '/mlflow/runs/log-model', async (reader) => {
    await runs.logModel(
      reader.string('run_id', { required: true }),
      reader.string('model_json', { required: true }),
    );
    return {};
  });

  rpc(app, 'POST', '/mlflow/runs/log-inputs', async (reader) => {
    const runId = reader.string('run_id', { required: true });
    const datasets = reader.messageList('datasets').map(readDatasetInput);
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

  rpc(
    app,
    'POST',
    '/mlflow/runs/search',
    async (reader, _request, signal) => {
      const maxResults = readMaxResults(
        reader,
        'max_results',
        LIMITS.searchRunsDefault,
        LIMITS.searchRunsMax,
      );
      const offset = decodePageToken(reader.string('page_token'));
      const filter = parseRunFilter(reader.string('filter'));
      validateFilterSize(filter);
      const orderBy = reader.stringList('order_by');
      validateOrderByCount(orderBy);
      const page = await runs.searchJson(
        {
          experimentIds: reader.stringList('experiment_ids'),
          filter,
          orderBy: parseRunOrderBy(orderBy),
          viewType: readViewType(reader, 'run_view_type'),
          maxResults,
          offset,
        },
        { signal, fanOut: app.expensiveRequests?.alone ?? true },
      );
      // MLflow writes `{}` for an empty page, and a token whenever the page is full.
      const token = page.count === maxResults ? encodePageToken(offset + maxResults) : undefined;
      const runsField = page.count > 0 ? `"runs":${page.json}` : undefined;
      const tokenField = token === undefined ? undefined : `"next_page_token":${JSON.stringify(token)}`;
      return new JsonText(`{${[runsField, tokenField].filter((f) => f !== undefined).join(',')}}`);
    },
    { expensive: true },
  );

  rpc(
    app,
    'GET',
    '/mlflow/metrics/get-history',
    async (reader, _request, signal) => {
      const runId = readRunId(reader);
      const key = reader.string('metric_key', { required: true });
      const maxResults = reader.has('max_results')
        ? readMaxResults(reader, 'max_results', LIMITS.metricHistoryPageMax, LIMITS.metricHistoryPageMax)
        : undefined;
      const offset = decodePageToken(reader.string('page_token'));
      const page = await runs.metricHistoryJson(runId, key, { offset, limit: maxResults }, signal);
      const fields = page.json === '[]' ? [] : [`"metrics":${page.json}`];
      if (page.more)
        fields.push(`"next_page_token":${JSON.stringify(encodePageToken(offset + maxResults!))}`);
      return new JsonText(`{${fields.join(',')}}`);
    },
    { expensive: true },
  );

  rpc(
    app,
    'GET',
    '/mlflow/metrics/get-history-bulk-interval',
    async (reader, _request, signal): Promise<GetMetricHistoryBulkInterval_Response> => {
      // Messages as MLflow's `get_metric_history_bulk_interval_handler` words them.
      const runIds = reader.stringList('run_ids', { required: true });
      if (runIds.length > LIMITS.bulkIntervalRuns) {
        throw MlflowError.invalidParameter(
          `GetMetricHistoryBulkInterval request must specify at most ${LIMITS.bulkIntervalRuns} run_ids. Received ${runIds.length} run_ids.${API_DOCS_HINT}`,
        );
      }
      const key = reader.string('metric_key', { required: true });
      const maxResults = reader.integer('max_results') ?? LIMITS.bulkIntervalMaxResults;
      if (maxResults < 1 || maxResults > LIMITS.bulkIntervalMaxResults) {
        throw MlflowError.invalidParameter(
          `max_results must be between 1 and ${LIMITS.bulkIntervalMaxResults}.${API_DOCS_HINT}`,
        );
      }
      const startStep = reader.integer('start_step');
      const endStep = reader.integer('end_step');
      if ((startStep === undefined) !== (endStep === undefined)) {
        throw MlflowError.invalidParameter(
          'If either start step or end step are specified, both must be specified.',
        );
      }
      if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
        throw MlflowError.invalidParameter(
          `end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`,
        );
      }
      const metrics = await runs.historyBulkInterval({ runIds, key, startStep, endStep, maxResults }, signal);
      return { metrics: nonEmpty(metrics.map(toWireMetricWithRunId)) };
    },
    { expensive: true },
  );

  /** The UI's legacy bulk history (ajax only; repeated key `run_id`). */
  app.get('/ajax-api/2.0/mlflow/metrics/get-history-bulk', async (request) => {
    const reader = RequestReader.of(request.query, { fromQuery: true });
    const runIds = reader.stringList('run_id');
    if (runIds.length === 0)
      throw MlflowError.invalidParameter(`GetMetricHistoryBulk request must specify at least one run_id.`);
    if (runIds.length > LIMITS.bulkHistoryRuns) {
      throw MlflowError.invalidParameter(
        `GetMetricHistoryBulk request cannot specify more than ${LIMITS.bulkHistoryRuns} run_ids. Received ${runIds.length} run_ids.`,
      );
    }
    const key = reader.string('metric_key');
    if (key === undefined)
      throw MlflowError.invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
    const maxResults = Math.min(
      reader.integer('max_results') ?? LIMITS.bulkHistoryMaxResults,
      LIMITS.bulkHistoryMaxResults,
    );
    if (maxResults < 1) throw MlflowError.invalidParameter(`max_results must be positive.${API_DOCS_HINT}`);
    return { metrics: (await runs.historyBulk(runIds, key, maxResults)).map(toWireMetricWithRunId) };
  });

  rpc(
    app,
    'POST',
    '/mlflow/experiments/search-datasets',
    async (reader): Promise<SearchDatasets_Response> => {
      // Messages as MLflow's `search_datasets_handler` words them.
      const experimentIds = reader.stringList('experiment_ids');
      if (experimentIds.length === 0)
        throw MlflowError.invalidParameter('SearchDatasets request must specify at least one experiment_id.');
      if (experimentIds.length > LIMITS.searchDatasetsExperiments) {
        throw MlflowError.invalidParameter(
          `SearchDatasets request cannot specify more than ${LIMITS.searchDatasetsExperiments} experiment_ids. Received ${experimentIds.length} experiment_ids.`,
        );
      }
      return {
        dataset_summaries: nonEmpty((await runs.searchDatasets(experimentIds)).map(toWireDatasetSummary)),
      };
    },
    { expensive: true },
  );
}
