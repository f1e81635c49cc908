import { canDelete } from '../domain/views.js';
import type { TrackingServices } from '../service/index.js';
import { contextUser, type GraphContext } from './context.js';
import type { MutationResolvers, QueryResolvers, Resolvers } from './generated/types.js';

/**
 * The web UI's saved views (`Query.view`, `Query.views`, `Mutation.saveView`, `Mutation.deleteView`),
 * as the request's user (`contextUser`) sees them.
 */
export function viewResolvers({ views }: Pick<TrackingServices, 'views'>): Pick<
  Resolvers<GraphContext>,
  'SavedView'
> & {
  Query: Pick<QueryResolvers<GraphContext>, 'view' | 'views'>;
  Mutation: Pick<MutationResolvers<GraphContext>, 'saveView' | 'deleteView'>;
} {
  return {
    Query: {
      view: (_parent, args, context) => views.get(contextUser(context), args.id),
      views: (_parent, args, context) =>
        views.list(contextUser(context), args.page, args.experimentId ?? undefined),
    },
    Mutation: {
      saveView: (_parent, { input }, context) =>
        views.save(contextUser(context), {
          page: input.page,
          state: input.state,
          name: input.name ?? undefined,
          description: input.description ?? undefined,
          shared: input.shared ?? undefined,
          experimentId: input.experimentId ?? undefined,
        }),
      deleteView: (_parent, args, context) => views.delete(contextUser(context), args.id),
    },
    SavedView: {
      experimentId: (view) => (view.experimentId === null ? null : String(view.experimentId)),
      viewerCanDelete: (view, _args, context) => canDelete(view, contextUser(context)),
    },
  };
}
