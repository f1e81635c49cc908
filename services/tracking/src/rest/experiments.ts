import {
  decodePageToken,
  encodePageToken,
  nonEmpty,
  type RequestReader,
  readMaxResults,
  readViewType,
  rpc,
} from '@mast/common';
import type {
  CreateExperiment_Response,
  GetExperiment_Response,
  SearchExperiments_Response,
} from '@mast/proto';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../domain/limits.js';
import { parseExperimentOrderBy } from '../domain/order-by.js';
import { parseExperimentFilter } from '../domain/search-filter.js';
import { validateFilterSize, validateOrderByCount } from '../domain/validation.js';
import type { TrackingServices } from '../service/index.js';
import { readKeyValue } from './key-values.js';
import { toWireExperiment } from './wire.js';

/** MLflow's `experiments/*` routes: parse the request, call the experiment service, shape the answer. */
export function experimentRoutes(app: FastifyInstance, { experiments }: TrackingServices): void {
  rpc(app, 'POST', '/mlflow/experiments/create', async (reader): Promise<CreateExperiment_Response> => {
    const experimentId = await experiments.create({
      name: reader.string('name', { required: true }),
      artifactLocation: reader.string('artifact_location'),
      tags: reader.messageList('tags').map(readKeyValue),
    });
    return { experiment_id: experimentId };
  });

  const search = async (
    reader: RequestReader,
    _request: unknown,
    signal: AbortSignal,
  ): Promise<SearchExperiments_Response> => {
    const maxResults = readMaxResults(
      reader,
      'max_results',
      LIMITS.searchExperimentsDefault,
      LIMITS.searchExperimentsMax,
    );
    const offset = decodePageToken(reader.string('page_token'));
    const filter = parseExperimentFilter(reader.string('filter'));
    validateFilterSize(filter);
    const orderBy = reader.stringList('order_by');
    validateOrderByCount(orderBy);
    const { experiments: page, hasMore } = await experiments.search(
      {
        filter,
        orderBy: parseExperimentOrderBy(orderBy),
        viewType: readViewType(reader, 'view_type'),
        maxResults,
        offset,
      },
      signal,
    );
    return {
      experiments: nonEmpty(page.map(toWireExperiment)),
      next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
    };
  };
  rpc(app, 'POST', '/mlflow/experiments/search', search, { expensive: true });
  rpc(app, 'GET', '/mlflow/experiments/search', search, { expensive: true });

  /** Legacy `experiments/list` (MLflow 1.x clients): every experiment of a view type, paged like search. */
  rpc(app, 'GET', '/mlflow/experiments/list', search, { expensive: true });

  rpc(app, 'GET', '/mlflow/experiments/get', async (reader): Promise<GetExperiment_Response> => {
    const experiment = await experiments.get(reader.id('experiment_id', { required: true }));
    return { experiment: toWireExperiment(experiment) };
  });

  rpc(app, 'GET', '/mlflow/experiments/get-by-name', async (reader): Promise<GetExperiment_Response> => {
    const experiment = await experiments.getByName(reader.string('experiment_name', { required: true }));
    return { experiment: toWireExperiment(experiment) };
  });

  rpc(app, 'POST', '/mlflow/experiments/delete', async (reader) => {
    await experiments.delete(reader.id('experiment_id', { required: true }));
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/restore', async (reader) => {
    await experiments.restore(reader.id('experiment_id', { required: true }));
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/update', async (reader) => {
    await experiments.rename(
      reader.id('experiment_id', { required: true }),
      reader.string('new_name', { required: true }),
    );
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/set-experiment-tag', async (reader) => {
    await experiments.setTag(
      reader.id('experiment_id', { required: true }),
      reader.string('key', { required: true }),
      reader.stringOrEmpty('value') ?? '',
    );
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/delete-experiment-tag', async (reader) => {
    await experiments.deleteTag(
      reader.id('experiment_id', { required: true }),
      reader.string('key', { required: true }),
    );
    return {};
  });
}
