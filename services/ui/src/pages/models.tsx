import { type FormEvent, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const MODELS_QUERY = `
  query Models($filter: String, $orderBy: [String!]) {
    registeredModels(filter: $filter, orderBy: $orderBy, first: 500) {
      nodes {
        name description lastUpdatedTimestamp
        aliases { alias version }
        latestVersions { version currentStage }
      }
      pageInfo { hasNextPage }
    }
  }`;

interface ModelsData {
  registeredModels: {
    nodes: Array<{
      name: string;
      description: string | null;
      lastUpdatedTimestamp: number;
      aliases: Array<{ alias: string; version: string }>;
      latestVersions: Array<{ version: string; currentStage: string }>;
    }>;
    pageInfo: { hasNextPage: boolean };
  };
}

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/** A substring search as a registry filter: `name ILIKE '%text%'` (MLflow's search_registered_models). */
function nameFilter(text: string): string | null {
  return text ? `name ILIKE '%${text.replaceAll("'", "\\'")}%'` : null;
}

/**
 * P8: registered models with their latest version per stage and their aliases; `?q=` searches names
 * on the server, `?stage=` keeps models with a latest version in that stage.
 */
export function ModelsPage() {
  const url = useUrlState();
  const q = url.get('q');
  const stage = url.get('stage');
  const { data, error, loading } = useQuery<ModelsData>(MODELS_QUERY, {
    filter: nameFilter(q),
    orderBy: ['name ASC'],
  });
  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  function search(event: FormEvent) {
    event.preventDefault();
    url.set({ q: draft.trim() });
  }
  const models = (data?.registeredModels.nodes ?? []).filter(
    (model) => !stage || model.latestVersions.some((v) => v.currentStage === stage),
  );
  return (
    <>
      <PageHeader title="Registered models" />
      <form className="toolbar" aria-label="Search models" onSubmit={search}>
        <label>
          Name contains{' '}
          <input type="search" name="q" value={draft} onChange={(event) => setDraft(event.target.value)} />
        </label>
        <button type="submit">Search</button>
        <label>
          Stage{' '}
          <select value={stage} onChange={(event) => url.set({ stage: event.target.value })}>
            <option value="">Any</option>
            {STAGES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorMessage error={error} />
      {loading && !data ? <Loading what="models" /> : null}
      {data ? (
        models.length === 0 ? (
          <p className="muted">No registered model matches.</p>
        ) : (
          <table className="table">
            <caption className="visually-hidden">Registered models</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest versions</th>
                <th scope="col">Aliases</th>
                <th scope="col">Last updated</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {models.map((model) => (
                <tr key={model.name}>
                  <th scope="row">
                    <Link to={routes.model(model.name)}>{model.name}</Link>
                  </th>
                  <td>
                    {model.latestVersions.map((v) => (
                      <Link key={v.version} className="badge" to={routes.version(model.name, v.version)}>
                        v{v.version} {v.currentStage}
                      </Link>
                    ))}
                  </td>
                  <td>
                    {model.aliases.map((a) => (
                      <span key={a.alias} className="badge alias">
                        @{a.alias} → v{a.version}
                      </span>
                    ))}
                  </td>
                  <td>{formatTime(model.lastUpdatedTimestamp)}</td>
                  <td className="muted">{model.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {data?.registeredModels.pageInfo.hasNextPage ? (
        <p className="muted">Only the first 500 models are listed: narrow the search.</p>
      ) : null}
    </>
  );
}
