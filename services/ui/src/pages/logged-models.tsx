import { type FormEvent, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { gql, useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { ExperimentTabs } from '../experiment-tabs';
import { formatTime, formatValue } from '../format';
import { LoggedModelStatusBadge, type LoggedModelSummary, latestMetrics } from '../logged-model-parts';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const EXPERIMENT_QUERY = `query ModelsHeader($id: ID!) { experiment(id: $id) { id name } }`;

const MODELS_QUERY = `
  query LoggedModels($ids: [ID!]!, $filter: String, $orderBy: [LoggedModelOrder!], $after: String) {
    loggedModels(experimentIds: $ids, filter: $filter, orderBy: $orderBy, first: 100, after: $after) {
      nodes {
        id name status modelType creationTime sourceRun { id name experimentId }
        params { key value } tags { key value } metrics { key value step timestamp datasetName }
      }
      pageInfo { hasNextPage endCursor }
    }
  }`;

interface ModelsPage {
  loggedModels: {
    nodes: LoggedModelSummary[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** `?sort=<field>:<asc|desc>` (a SearchLoggedModels field: `name`, `creation_timestamp`, `metrics.<key>`). */
function parseSort(text: string): { field: string; ascending: boolean } {
  const [field, direction] = text.split(':');
  return field
    ? { field, ascending: direction !== 'desc' }
    : { field: 'creation_timestamp', ascending: false };
}

/** A column header that sorts by `field` through the URL (click again to reverse). */
function SortHeader({ label, field }: { label: string; field: string }) {
  const url = useUrlState();
  const sort = parseSort(url.get('sort'));
  const active = sort.field === field;
  return (
    <th scope="col" aria-sort={active ? (sort.ascending ? 'ascending' : 'descending') : undefined}>
      <button
        type="button"
        className="link"
        onClick={() => url.set({ sort: `${field}:${active && !sort.ascending ? 'asc' : 'desc'}` })}
      >
        {label}
        {active ? (sort.ascending ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );
}

/**
 * P12: an experiment's logged models (MLflow 3's Models tab): name, status, source run, creation time,
 * latest metrics, params and tags; `?filter=` (MLflow's search grammar) and `?sort=` live in the URL;
 * pages of 100 load on demand.
 */
export default function LoggedModelsPage() {
  const { experimentId } = useParams() as { experimentId: string };
  const url = useUrlState();
  const filter = url.get('filter');
  const sort = parseSort(url.get('sort'));
  const header = useQuery<{ experiment: { id: string; name: string } | null }>(EXPERIMENT_QUERY, {
    id: experimentId,
  });
  const variables = { ids: [experimentId], filter: filter || null, orderBy: [sort] };
  const first = useQuery<ModelsPage>(MODELS_QUERY, variables);
  // Pages after the first, appended by "Load more"; reset when the query changes.
  const [more, setMore] = useState<ModelsPage[]>([]);
  const [moreError, setMoreError] = useState<Error>();
  const variablesKey = JSON.stringify(variables);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for the variables
  useEffect(() => setMore([]), [variablesKey]);
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);

  if (header.error) return <ErrorMessage error={header.error} />;
  if (!header.data) return <Loading what="experiment" />;
  const experiment = header.data.experiment!;
  const pages = first.data ? [first.data, ...more] : [];
  const models = pages.flatMap((page) => page.loggedModels.nodes);
  const last = pages.at(-1)?.loggedModels.pageInfo;
  const metricKeys = [...new Set(models.flatMap((m) => m.metrics.map((metric) => metric.key)))].sort();
  const paramKeys = [...new Set(models.flatMap((m) => m.params.map((param) => param.key)))].sort();

  function applyFilter(event: FormEvent) {
    event.preventDefault();
    url.set({ filter: draft.trim() });
  }
  async function loadMore() {
    setMoreError(undefined);
    try {
      const page = await gql<ModelsPage>(MODELS_QUERY, { ...variables, after: last?.endCursor });
      setMore((pages) => [...pages, page]);
    } catch (error) {
      setMoreError(error as Error);
    }
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.experiments()}>Experiments</Link> / {experiment.name}
      </nav>
      <PageHeader title={experiment.name} />
      <ExperimentTabs experimentId={experimentId} />
      <form className="toolbar" aria-label="Filter models" onSubmit={applyFilter}>
        <label>
          Filter{' '}
          <input
            size={50}
            value={draft}
            placeholder="metrics.accuracy > 0.9 and params.alpha = '0.1'"
            onChange={(event) => setDraft(event.target.value)}
          />
        </label>
        <button type="submit">Apply</button>
      </form>
      <ErrorMessage error={first.error ?? moreError} />
      {first.loading && !first.data ? <Loading what="logged models" /> : null}
      <p className="muted" role="status">
        {first.data
          ? `${models.length} model${models.length === 1 ? '' : 's'} loaded${last?.hasNextPage ? ', more available' : ''}`
          : ''}
      </p>
      <div style={{ overflowX: 'auto' }}>
        <table className="table">
          <caption className="visually-hidden">Logged models</caption>
          <thead>
            <tr>
              <td colSpan={4} />
              {metricKeys.length > 0 ? (
                <th scope="colgroup" colSpan={metricKeys.length}>
                  Metrics
                </th>
              ) : null}
              {paramKeys.length > 0 ? (
                <th scope="colgroup" colSpan={paramKeys.length}>
                  Parameters
                </th>
              ) : null}
              <td />
            </tr>
            <tr>
              <SortHeader label="Name" field="name" />
              <SortHeader label="Status" field="status" />
              <th scope="col">Source run</th>
              <SortHeader label="Created" field="creation_timestamp" />
              {metricKeys.map((key) => (
                <SortHeader key={`m:${key}`} label={key} field={`metrics.${key}`} />
              ))}
              {paramKeys.map((key) => (
                <th key={`p:${key}`} scope="col">
                  {key}
                </th>
              ))}
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => {
              const latest = latestMetrics(model.metrics);
              return (
                <tr key={model.id}>
                  <th scope="row">
                    <Link to={routes.loggedModel(experimentId, model.id)}>{model.name}</Link>
                  </th>
                  <td>
                    <LoggedModelStatusBadge status={model.status} />
                  </td>
                  <td>
                    {model.sourceRun ? (
                      <Link to={routes.run(model.sourceRun.experimentId, model.sourceRun.id)}>
                        {model.sourceRun.name}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{formatTime(model.creationTime)}</td>
                  {metricKeys.map((key) => (
                    <td key={`m:${key}`}>{formatValue(latest.get(key)?.value)}</td>
                  ))}
                  {paramKeys.map((key) => (
                    <td key={`p:${key}`}>{model.params.find((p) => p.key === key)?.value ?? ''}</td>
                  ))}
                  <td>
                    {model.tags
                      .filter((tag) => !tag.key.startsWith('mlflow.'))
                      .map((tag) => (
                        <span key={tag.key} className="badge">
                          {tag.key}: {tag.value}
                        </span>
                      ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {first.data && models.length === 0 ? (
        <p className="muted">
          {filter ? 'No logged model matches.' : 'This experiment has no logged model.'}
        </p>
      ) : null}
      {last?.hasNextPage ? (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      ) : null}
    </>
  );
}
