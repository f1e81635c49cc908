import { type FormEvent, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { gql, useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const EXPERIMENTS_QUERY = `
  query Experiments($first: Int!, $after: String, $nameContains: String, $orderBy: ExperimentOrder) {
    experiments(first: $first, after: $after, nameContains: $nameContains, orderBy: $orderBy) {
      nodes { id name creationTime lastUpdateTime runCount description }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }`;

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

/** P2: experiments with a name search and a sort, both in the URL (`?q=&sort=`), 50 at a time. */
export function ExperimentsPage() {
  const url = useUrlState();
  const q = url.get('q');
  const sortKey = SORTS[url.get('sort')] ? url.get('sort') : 'updated';
  const sort = SORTS[sortKey]!;
  const variables = {
    first: PAGE_SIZE,
    nameContains: q || null,
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
        {page ? <p className="muted">{page.totalCount} experiments</p> : null}
      </PageHeader>
      <form className="toolbar" aria-label="Search experiments" onSubmit={search}>
        <label>
          Name contains{' '}
          <input type="search" name="q" value={draft} onChange={(event) => setDraft(event.target.value)} />
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
    </>
  );
}
