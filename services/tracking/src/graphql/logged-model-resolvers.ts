import { decodePageToken, encodePageToken } from '@mast/common';
import { experimentNotFound } from '../domain/errors.js';
import { parseLoggedModelFilter } from '../domain/search-filter.js';
import { loggedModelOrderTerm } from '../store/logged-model-store.js';
import type { GraphContext } from './context.js';
import type { LoggedModelStatus, QueryResolvers, Resolvers } from './generated/types.js';
import { byKeys, type GraphServices, requireRange } from './resolvers.js';

/** Stored proto names (`LOGGED_MODEL_READY`) → the GraphQL enum. */
const STATUSES: Readonly<Record<string, LoggedModelStatus>> = {
  LOGGED_MODEL_STATUS_UNSPECIFIED: 'UNSPECIFIED',
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'UPLOAD_FAILED',
};

/**
 * MLflow 3 logged models in the tracking subgraph (the UI's P12): `Query.loggedModels` and
 * `Query.loggedModel` call the same service as MLflow's REST `logged-models` routes; offset cursors, as
 * the REST page tokens.
 */
export function loggedModelResolvers(services: GraphServices): Pick<
  Resolvers<GraphContext>,
  'LoggedModel'
> & {
  Query: Pick<QueryResolvers<GraphContext>, 'loggedModels' | 'loggedModel'>;
} {
  const { loggedModels, limits } = services;
  return {
    Query: {
      async loggedModels(_parent, args) {
        requireRange('first', args.first, 1, limits.maxPageSize);
        const offset = decodePageToken(args.after ?? undefined);
        const { models, hasMore } = await loggedModels.search({
          experimentIds: args.experimentIds,
          filter: parseLoggedModelFilter(args.filter ?? undefined),
          datasets: [],
          orderBy: (args.orderBy ?? []).map((order) =>
            loggedModelOrderTerm({
              fieldName: order.field,
              ascending: order.ascending ?? true,
              datasetName: order.datasetName ?? undefined,
              datasetDigest: order.datasetDigest ?? undefined,
            }),
          ),
          maxResults: args.first,
          offset,
        });
        const cursors = models.map((_, i) => encodePageToken(offset + i + 1));
        return {
          edges: models.map((node, i) => ({ node, cursor: cursors[i]! })),
          nodes: models,
          pageInfo: { hasNextPage: hasMore, endCursor: cursors.at(-1) ?? null },
        };
      },
      loggedModel: (_parent, args) => loggedModels.get(args.id),
    },

    LoggedModel: {
      __resolveReference: (reference) => loggedModels.get(reference.id),
      id: (model) => model.modelId,
      experimentId: (model) => String(model.experimentId),
      async experiment(model, _args, context) {
        const experiment = await services.loaders(context).experiment.load(String(model.experimentId));
        if (!experiment) throw experimentNotFound(String(model.experimentId));
        return experiment;
      },
      status: (model) => STATUSES[model.status] ?? 'UNSPECIFIED',
      sourceRun: async (model, _args, context) =>
        model.sourceRunId ? await services.loaders(context).run.load(model.sourceRunId) : null,
      params: (model, args) => byKeys(model.params, args.keys),
      tags: (model, args) => byKeys(model.tags, args.keys),
      metrics: (model) => model.metrics,
    },
  };
}
