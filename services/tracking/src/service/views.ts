import { MlflowError } from '@mast/common';
import { experimentNotFound } from '../domain/errors.js';
import { parseExperimentId } from '../domain/ids.js';
import {
  canDelete,
  canRead,
  isViewId,
  linkViewId,
  type NewView,
  randomViewId,
  type SavedViewRecord,
  VIEW_LIMITS,
  validateNewView,
} from '../domain/views.js';
import { findExperiment } from '../store/experiment-store.js';
import type { TrackingExecutor } from '../store/schema.js';
import { deleteView, findView, insertLinkView, listViews, upsertNamedView } from '../store/view-store.js';

export interface SaveViewInput {
  page: string;
  state: string;
  name?: string;
  description?: string;
  shared?: boolean;
  experimentId?: string;
}

/** Tries of another short-link id when a hash is taken by a different view (never seen in practice). */
const LINK_ID_ATTEMPTS = 3;

function viewNotFound(id: string): MlflowError {
  return MlflowError.notFound(`No view with id '${id}'.`);
}

/**
 * The web UI's saved views (see `domain/views.ts`), for GraphQL. `user` is the request's user
 * (`requestUser`): personal views are invisible to others, as if they did not exist.
 */
export class ViewService {
  constructor(
    private readonly db: TrackingExecutor,
    private readonly clock: () => number,
  ) {}

  async save(user: string, input: SaveViewInput): Promise<SavedViewRecord> {
    const view: NewView = {
      ...validateNewView(input),
      experimentId: await this.experimentId(input.experimentId),
    };
    const now = this.clock();
    if (view.name !== null) return upsertNamedView(this.db, randomViewId(), view, user, now);
    for (let attempt = 0; attempt < LINK_ID_ATTEMPTS; attempt++) {
      const stored = await insertLinkView(this.db, linkViewId(view, attempt), view, user, now);
      const same =
        stored.name === null &&
        stored.page === view.page &&
        stored.experimentId === view.experimentId &&
        stored.state === view.state;
      if (same) return stored;
    }
    throw new MlflowError('INTERNAL_ERROR', 'Could not find a free id for the view.');
  }

  async get(user: string, id: string): Promise<SavedViewRecord> {
    const view = isViewId(id) ? await findView(this.db, id) : undefined;
    if (!view || !canRead(view, user)) throw viewNotFound(id);
    return view;
  }

  async list(user: string, page: string, experimentId?: string): Promise<SavedViewRecord[]> {
    return listViews(this.db, {
      page,
      experimentId: await this.experimentId(experimentId),
      user,
      limit: VIEW_LIMITS.listed,
    });
  }

  /** Deletes a named view of `user`'s; another's shared view is PERMISSION_DENIED. */
  async delete(user: string, id: string): Promise<SavedViewRecord> {
    const view = await this.get(user, id);
    if (!canDelete(view, user)) {
      throw new MlflowError(
        'PERMISSION_DENIED',
        view.name === null
          ? `View '${id}' is a short link: links are kept, they may be bookmarked.`
          : `View '${id}' belongs to ${view.owner}: only its owner can delete it.`,
      );
    }
    if (!(await deleteView(this.db, id))) throw viewNotFound(id);
    return view;
  }

  /** The id of an existing experiment (null when none is given). */
  private async experimentId(id: string | undefined): Promise<number | null> {
    if (id === undefined) return null;
    const parsed = parseExperimentId(id);
    if (parsed === undefined || !(await findExperiment(this.db, parsed))) throw experimentNotFound(id);
    return parsed;
  }
}
