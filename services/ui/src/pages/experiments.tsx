import { type FormEvent, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { gql, useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';
import './experiments.css';

const EXPERIMENTS_QUERY = `
  query Experiments($first: Int!, $after: String, $nameContains: String, $folder: String,
                    $orderBy: ExperimentOrder) {
    experiments(first: $first, after: $after, nameContains: $nameContains, folder: $folder, orderBy: $orderBy) {
      nodes { id name creationTime lastUpdateTime runCount description }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }`;

const FOLDERS_QUERY = `
  query ExperimentFolders($parent: String) {
    experimentFolders(parent: $parent) { name path experimentCount runCount hasSubfolders }
  }`;

interface ExperimentFolder {
  name: string;
  path: string;
  experimentCount: number;
  runCount: number;
  hasSubfolders: boolean;
}

interface ExperimentRow {
  id: string;
  name: string;
  creationTime: number;
  lastUpdateTime: number;
  runCount: number;
  description: string | null;
}

interface ExperimentsData {
  experiments: {
    nodes: ExperimentRow[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}

const SORTS: Record<string, { label: string; field: string; direction: 'ASC' | 'DESC' }> = {
  updated: { label: 'Last updated', field: 'LAST_UPDATE_TIME', direction: 'DESC' },
  created: { label: 'Newest', field: 'CREATION_TIME', direction: 'DESC' },
  name: { label: 'Name', field: 'NAME', direction: 'ASC' },
};

const PAGE_SIZE = 50;

/** The folders holding `folder`, outermost first: `a/b/c` → `a`, `a/b`. */
function ancestors(folder: string): string[] {
  const segments = folder.split('/');
  return segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
}

/**
 * One level of the folder tree (ui.md §5.3: folders from `a/b/c` names), fetched when shown: a tree of
 * thousands of experiments asks the server for one folder's subfolders at a time.
 */
function FolderLevel({
  parent,
  selected,
  onSelect,
}: {
  parent: string;
  selected: string;
  onSelect(path: string): void;
}) {
  const { data, error } = useQuery<{ experimentFolders: ExperimentFolder[] }>(FOLDERS_QUERY, { parent });
  if (error) return <ErrorMessage error={error} />;
  if (!data) return null;
  return (
    <ul>
      {data.experimentFolders.map((folder) => (
        <FolderItem key={folder.path} folder={folder} selected={selected} onSelect={onSelect} />
      ))}
    </ul>
  );
}

function FolderItem({
  folder,
  selected,
  onSelect,
}: {
  folder: ExperimentFolder;
  selected: string;
  onSelect(path: string): void;
}) {
  // Open when the chosen folder is inside it, so a reloaded URL shows where it points.
  const [open, setOpen] = useState(() => ancestors(selected).includes(folder.path));
  return (
    <li>
      <span className="folder-row">
        {folder.hasSubfolders ? (
          <button
            type="button"
            className="link folder-toggle"
            aria-label={`Subfolders of ${folder.path}`}
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="folder-toggle" />
        )}
        <button
          type="button"
          className={selected === folder.path ? 'link folder-name current' : 'link folder-name'}
          aria-current={selected === folder.path ? 'true' : undefined}
          onClick={() => onSelect(folder.path)}
        >
          {folder.name}
        </button>{' '}
        <span className="muted" title={`${folder.experimentCount} experiments, ${folder.runCount} runs`}>
          {folder.experimentCount} · {folder.runCount} runs
        </span>
      </span>
      {open ? <FolderLevel parent={folder.path} selected={selected} onSelect={onSelect} /> : null}
    </li>
  );
}

/**
 * P2: experiments with a name search, a sort and a folder, all in the URL (`?q=&sort=&folder=`), 50 at
 * a time. Folders are the `/`-separated prefixes of names; the list shows a folder's own experiments.
 */
export function ExperimentsPage() {
  const url = useUrlState();
  const q = url.get('q');
  const sortKey = SORTS[url.get('sort')] ? url.get('sort') : 'updated';
  const sort = SORTS[sortKey]!;
  const folder = url.params.get('folder');
  const variables = {
    first: PAGE_SIZE,
    nameContains: q || null,
    folder,
    orderBy: { field: sort.field, direction: sort.direction },
  };
  const first = useQuery<ExperimentsData>(EXPERIMENTS_QUERY, variables);
  // Pages loaded past the first, for the query they continue (a new search starts over).
  const queryKey = JSON.stringify(variables);
  const [loaded, setMore] = useState<{
    queryKey: string;
    rows: ExperimentRow[];
    endCursor: string | null;
    hasNextPage: boolean;
  }>();
  const more = loaded?.queryKey === queryKey ? loaded : undefined;
  const [moreError, setMoreError] = useState<Error>();
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);

  const page = first.data?.experiments;
  const rows = [...(page?.nodes ?? []), ...(more?.rows ?? [])];
  const hasNextPage = more ? more.hasNextPage : (page?.pageInfo.hasNextPage ?? false);
  const endCursor = more ? more.endCursor : (page?.pageInfo.endCursor ?? null);

  async function loadMore() {
    try {
      const next = await gql<ExperimentsData>(EXPERIMENTS_QUERY, { ...variables, after: endCursor });
      setMore({
        queryKey,
        rows: [...(more?.rows ?? []), ...next.experiments.nodes],
        endCursor: next.experiments.pageInfo.endCursor,
        hasNextPage: next.experiments.pageInfo.hasNextPage,
      });
    } catch (error) {
      setMoreError(error as Error);
    }
  }

  function search(event: FormEvent) {
    event.preventDefault();
    url.set({ q: draft.trim() });
  }

  return (
    <>
      <PageHeader title="Experiments">
        {page ? (
          <p className="muted">
            {page.totalCount} experiment{page.totalCount === 1 ? '' : 's'}
            {folder ? ` in ${folder}` : ''}
          </p>
        ) : null}
      </PageHeader>
      <div className="experiments-layout">
        <nav className="folder-tree" aria-label="Folders">
          <button
            type="button"
            className={folder === null ? 'link folder-name current' : 'link folder-name'}
            aria-current={folder === null ? 'true' : undefined}
            onClick={() => url.set({ folder: undefined })}
          >
            All experiments
          </button>
          <FolderLevel parent="" selected={folder ?? ''} onSelect={(path) => url.set({ folder: path })} />
        </nav>
        <div>
          <form className="toolbar" aria-label="Search experiments" onSubmit={search}>
            <label>
              Name contains{' '}
              <input
                type="search"
                name="q"
                value={draft}
                onChange={(event) => setDraft(event.target.value)}
              />
            </label>
            <button type="submit">Search</button>
            <label>
              Sort by{' '}
              <select value={sortKey} onChange={(event) => url.set({ sort: event.target.value })}>
                {Object.entries(SORTS).map(([key, { label }]) => (
                  <option key={key} value={key}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
          </form>
          <ErrorMessage error={first.error ?? moreError} />
          {first.loading && !page ? <Loading what="experiments" /> : null}
          {page ? (
            <table className="table">
              <caption className="visually-hidden">Experiments</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">ID</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Last updated</th>
                  <th scope="col">Created</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((experiment) => (
                  <tr key={experiment.id}>
                    <th scope="row">
                      <Link to={routes.runs(experiment.id)}>{experiment.name}</Link>
                    </th>
                    <td>{experiment.id}</td>
                    <td>{experiment.runCount}</td>
                    <td>{formatTime(experiment.lastUpdateTime)}</td>
                    <td>{formatTime(experiment.creationTime)}</td>
                    <td className="muted">{experiment.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {page && rows.length === 0 ? <p className="muted">No experiment matches.</p> : null}
          {hasNextPage ? (
            <button type="button" onClick={loadMore}>
              Load more
            </button>
          ) : null}
        </div>
      </div>
    </>
  );
}
