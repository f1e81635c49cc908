import { type FormEvent, useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { type GraphQLRequestError, gql, useQuery } from './api';
import { ErrorMessage } from './components';
import { SAVE_VIEW, useUrlState, VIEW_PARAM, viewPageOf } from './url-state';

const LIST_VIEWS = `query SavedViews($page: String!, $experimentId: ID) {
  views(page: $page, experimentId: $experimentId) { id name owner shared viewerCanDelete } }`;
const DELETE_VIEW = `mutation DeleteView($id: ID!) { deleteView(id: $id) { id } }`;

interface SavedView {
  id: string;
  name: string;
  owner: string;
  shared: boolean;
  viewerCanDelete: boolean;
}

/**
 * The "Views" menu of a page (ui.md §5.1, goal G10): the page's named views (the user's own and shared
 * ones) to open or delete, and the current state saved under a name, personal or shared. Views are the
 * server's, so they outlive the browser's storage and follow the user to any browser.
 */
export function ViewsMenu() {
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const url = useUrlState();
  const { page, experimentId } = viewPageOf(pathname);
  const list = useQuery<{ views: SavedView[] }>(LIST_VIEWS, { page, experimentId });
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const [error, setError] = useState<GraphQLRequestError>();
  const [saved, setSaved] = useState<string>();

  async function run(action: () => Promise<unknown>) {
    try {
      await action();
      setError(undefined);
      list.reload();
    } catch (failure) {
      setError(failure as GraphQLRequestError);
    }
  }

  function save(event: FormEvent) {
    event.preventDefault();
    void run(async () => {
      const state = url.params.toString();
      await gql(SAVE_VIEW, { input: { page, experimentId, state, name: name.trim(), shared } });
      setSaved(name.trim());
      setName('');
      setShared(false);
    });
  }

  return (
    <details className="picker views-menu">
      <summary>Views{list.data ? ` (${list.data.views.length})` : ''}</summary>
      <div className="picker-panel">
        <ErrorMessage error={error ?? list.error ?? url.viewError} />
        {list.data?.views.length === 0 ? <p className="muted">No saved views yet.</p> : null}
        <ul className="views-list" aria-label="Saved views">
          {list.data?.views.map((view) => (
            <li key={view.id}>
              <button
                type="button"
                className="link"
                onClick={() => navigate(`${pathname}?${VIEW_PARAM}=${encodeURIComponent(view.id)}`)}
              >
                {view.name}
              </button>{' '}
              <span className="muted">
                {view.shared ? 'shared' : 'personal'} · {view.owner}
              </span>
              {view.viewerCanDelete ? (
                <button
                  type="button"
                  aria-label={`Delete view ${view.name}`}
                  onClick={() => void run(() => gql(DELETE_VIEW, { id: view.id }))}
                >
                  Delete
                </button>
              ) : null}
            </li>
          ))}
        </ul>
        <form aria-label="Save this view" onSubmit={save}>
          <label>
            Name{' '}
            <input value={name} required maxLength={256} onChange={(event) => setName(event.target.value)} />
          </label>{' '}
          <label>
            <input type="checkbox" checked={shared} onChange={(event) => setShared(event.target.checked)} />{' '}
            Shared with everyone
          </label>{' '}
          <button type="submit">Save view</button>
        </form>
        {saved ? (
          <p role="status" className="muted">
            Saved “{saved}”.
          </p>
        ) : null}
      </div>
    </details>
  );
}
