import { API_DOCS_HINT, MlflowError, type RequestReader } from '@mast/common';
import type {
  CreateExperiment_Response,
  ExperimentTag,
  GetExperiment_Response,
  SearchExperiments_Response,
  ViewType,
} from '@mast/proto';
import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../domain/limits.js';
import { parseExperimentOrderBy } from '../domain/order-by.js';
import { parseExperimentFilter } from '../domain/search-filter.js';
import {
  validateArtifactLocation,
  validateExperimentName,
  validateExperimentTagValue,
  validateFilterSize,
  validateKey,
  validateOrderByCount,
} from '../domain/validation.js';
import { lastValuePerKey } from '../store/experiment-store.js';
import { decodePageToken, encodePageToken } from '../store/search-sql.js';
import type { TrackingContext } from './context.js';
import { nonEmpty, rpc } from './rpc.js';

export const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

/** `max_results` within [1, max]; absent means the default. */
export function readMaxResults(reader: RequestReader, name: string, fallback: number, max: number): number {
  const value = reader.integer(name) ?? fallback;
  if (value < 1 || value > max) {
    throw MlflowError.invalidParameter(
      `Invalid value ${value} for parameter '${name}' supplied. It must be at most ${max} and at least 1.${API_DOCS_HINT}`,
    );
  }
  return value;
}

export function experimentRoutes(app: FastifyInstance, { experiments, clock }: TrackingContext): void {
  rpc(app, 'POST', '/mlflow/experiments/create', async (reader): Promise<CreateExperiment_Response> => {
    const name = reader.string('name', { required: true });
    validateExperimentName(name);
    const artifactLocation = reader.string('artifact_location');
    if (artifactLocation !== undefined) validateArtifactLocation(artifactLocation);
    const tags: ExperimentTag[] = reader.messageList('tags').map((tag) => {
      const key = tag.string('key', { required: true });
      const value = tag.stringOrEmpty('value') ?? '';
      validateKey('tag', key, tag.path('key'));
      validateExperimentTagValue(value, tag.path('value'));
      return { key, value };
    });
    const experimentId = await experiments.create({
      name,
      artifactLocation,
      tags: lastValuePerKey(tags),
      now: clock(),
    });
    return { experiment_id: experimentId };
  });

  const search = async (reader: RequestReader): Promise<SearchExperiments_Response> => {
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
    const { experiments: page, hasMore } = await experiments.search({
      filter,
      orderBy: parseExperimentOrderBy(orderBy),
      viewType: reader.enumValue('view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY',
      maxResults,
      offset,
    });
    return {
      experiments: nonEmpty(page),
      next_page_token: hasMore ? encodePageToken(offset + maxResults) : undefined,
    };
  };
  rpc(app, 'POST', '/mlflow/experiments/search', search);
  rpc(app, 'GET', '/mlflow/experiments/search', search);

  /** Legacy `experiments/list` (MLflow 1.x clients): every experiment of a view type, paged like search. */
  rpc(app, 'GET', '/mlflow/experiments/list', search);

  rpc(app, 'GET', '/mlflow/experiments/get', async (reader): Promise<GetExperiment_Response> => {
    const experiment = await experiments.get(reader.id('experiment_id', { required: true }));
    return { experiment };
  });

  rpc(app, 'GET', '/mlflow/experiments/get-by-name', async (reader): Promise<GetExperiment_Response> => {
    const experiment = await experiments.getByName(reader.string('experiment_name', { required: true }));
    return { experiment };
  });

  rpc(app, 'POST', '/mlflow/experiments/delete', async (reader) => {
    await experiments.setLifecycle(
      reader.id('experiment_id', { required: true }),
      'active',
      'deleted',
      clock(),
    );
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/restore', async (reader) => {
    await experiments.setLifecycle(
      reader.id('experiment_id', { required: true }),
      'deleted',
      'active',
      clock(),
    );
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/update', async (reader) => {
    const experimentId = reader.id('experiment_id', { required: true });
    const newName = reader.string('new_name', { required: true });
    validateExperimentName(newName);
    await experiments.rename(experimentId, newName, clock());
    return {};
  });

  rpc(app, 'POST', '/mlflow/experiments/set-experiment-tag', async (reader) => {
    const experimentId = reader.id('experiment_id', { required: true });
    const key = reader.string('key', { required: true });
    const value = reader.stringOrEmpty('value') ?? '';
    validateKey('tag', key);
    validateExperimentTagValue(value);
    await experiments.setTag(experimentId, key, value);
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
