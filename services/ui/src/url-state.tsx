import { use, useCallback, useEffect, useMemo, useRef } from 'react';
import { useLocation, useSearchParams } from 'react-router-dom';
import { type GraphQLRequestError, gql } from './api';

/** Longest query string a page keeps in its URL (ui.md §5.1); a longer state becomes `?view=<id>`. */
export const URL_STATE_LIMIT = 1800;

/** The search parameter naming a stored view (a short link or a named saved view). */
export const VIEW_PARAM = 'view';

const VIEW_QUERY = `query SavedView($id: ID!) { view(id: $id) { id state } }`;
export const SAVE_VIEW = `mutation SaveView($input: SaveViewInput!) {
  saveView(input: $input) { id name owner shared viewerCanDelete } }`;

/** The page a path shows, as saved views name it, and its experiment: `/experiments/1/runs` → runs of 1. */
export function viewPageOf(pathname: string): { page: string; experimentId?: string } {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  if (segments[0] === 'experiments' && segments.length >= 3) {
    // Deeper than an experiment's tab: one run's or one logged model's page.
    const page = segments.length === 3 ? segments[2]! : segments[2]!.replace(/s$/, '');
    return { page, experimentId: decodeURIComponent(segments[1]!) };
  }
  if (segments[0] === 'models' && segments[2] === 'compare') return { page: 'compare-versions' };
  return { page: segments[0] ?? 'home' };
}

/** A stored state as `view(id)` answered it, or why it could not be read. */
type LoadedView = { state: string; error?: undefined } | { state?: undefined; error: GraphQLRequestError };

const loadedViews = new Map<string, Promise<LoadedView>>();

/** The state of view `id`, fetched once per page load (a promise for React's `use`: it never rejects). */
function loadView(id: string): Promise<LoadedView> {
  let loaded = loadedViews.get(id);
  if (!loaded) {
    loaded = gql<{ view: { state: string } }>(VIEW_QUERY, { id }).then(
      (data) => ({ state: data.view.state }),
      (error: GraphQLRequestError) => ({ error }),
    );
    loadedViews.set(id, loaded);
  }
  return loaded;
}

const savedLinks = new Map<string, Promise<string>>();

/** Stores `state` as a short link of the page at `pathname`; its id (the server's, the same per state). */
function saveLink(pathname: string, state: string): Promise<string> {
  const { page, experimentId } = viewPageOf(pathname);
  const key = JSON.stringify([page, experimentId, state]);
  let saved = savedLinks.get(key);
  if (!saved) {
    saved = gql<{ saveView: { id: string } }>(SAVE_VIEW, { input: { page, experimentId, state } }).then(
      (data) => {
        // Opening the link needs no request: its state is this one.
        loadedViews.set(data.saveView.id, Promise.resolve({ state }));
        return data.saveView.id;
      },
    );
    saved.catch(() => savedLinks.delete(key));
    savedLinks.set(key, saved);
  }
  return saved;
}

/** The page's state: the URL's parameters over those of the view it names (`?view=<id>`), if any. */
function effectiveParams(search: URLSearchParams, view: LoadedView | undefined): URLSearchParams {
  if (!search.has(VIEW_PARAM)) return search;
  const params = new URLSearchParams(view?.state ?? '');
  for (const [name, value] of search) if (name !== VIEW_PARAM) params.set(name, value);
  return params;
}

/**
 * A page's state in its URL's search parameters (ui.md §5.1: the URL is the state, so it survives a
 * reload and can be shared). `set` merges: `undefined` or '' removes a parameter; it replaces the
 * history entry unless `push` is asked for. A state longer than `URL_STATE_LIMIT` is stored by the
 * server and the URL becomes `?view=<id>`, which this hook reads back (suspending while it loads).
 */
export function useUrlState(): {
  params: URLSearchParams;
  get(name: string, fallback?: string): string;
  list(name: string): string[];
  set(changes: Record<string, string | readonly string[] | undefined>, options?: { push?: boolean }): void;
  /** Why the view the URL names could not be read (its state is then ignored). */
  viewError: GraphQLRequestError | undefined;
} {
  const [search, setSearch] = useSearchParams();
  const { pathname } = useLocation();
  const viewId = search.get(VIEW_PARAM);
  const view = viewId ? use(loadView(viewId)) : undefined;
  const params = useMemo(() => effectiveParams(search, view), [search, view]);
  // The latest state, so that several `set` calls before a render build on each other.
  const latest = useRef(params);
  latest.current = params;

  /** The URL for a state: the state itself, or a short link when too long (the long URL if storing fails). */
  const show = useCallback(
    (state: URLSearchParams, replace: boolean) => {
      const text = state.toString();
      if (text.length <= URL_STATE_LIMIT) return setSearch(state, { replace });
      saveLink(pathname, text).then(
        (id) => setSearch({ [VIEW_PARAM]: id }, { replace }),
        () => setSearch(state, { replace }),
      );
    },
    [pathname, setSearch],
  );

  // A long state arriving in the URL (a pasted link) is swapped for a short one too.
  useEffect(() => {
    if (!search.has(VIEW_PARAM) && search.toString().length > URL_STATE_LIMIT) show(search, true);
  }, [search, show]);

  const set = useCallback(
    (changes: Record<string, string | readonly string[] | undefined>, options: { push?: boolean } = {}) => {
      const next = new URLSearchParams(latest.current);
      next.delete(VIEW_PARAM);
      for (const [name, value] of Object.entries(changes)) {
        const text = Array.isArray(value) ? value.join(',') : (value as string | undefined);
        if (text === undefined || text === '') next.delete(name);
        else next.set(name, text);
      }
      latest.current = next;
      show(next, !options.push);
    },
    [show],
  );
  return {
    params,
    get: (name, fallback = '') => params.get(name) ?? fallback,
    list: (name) => (params.get(name) ?? '').split(',').filter((item) => item !== ''),
    set,
    viewError: view?.error,
  };
}
