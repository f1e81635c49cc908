import { type FormEvent, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { type GraphQLRequestError, gql, useQuery } from '../api';
import { ErrorMessage, KeyValueTable, Loading, PageHeader } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const VERSION_QUERY = `
  query Version($name: String!, $version: String!) {
    modelVersion(name: $name, version: $version) {
      name version currentStage aliases status description source runId creationTimestamp lastUpdatedTimestamp
      tags { key value }
      run { id name experimentId }
      history { kind from to alias actor reason timestamp }
      deployments { id state cause image endpoint lastUpdatedTimestamp target { name kind } transitions { toState reason timestamp } }
    }
  }`;

const TRANSITION = `
  mutation Transition($name: String!, $version: String!, $stage: String!, $archive: Boolean) {
    transitionModelVersionStage(name: $name, version: $version, stage: $stage, archiveExistingVersions: $archive) {
      currentStage
    }
  }`;

const SET_ALIAS = `
  mutation SetAlias($name: String!, $alias: String!, $version: String!) {
    setRegisteredModelAlias(name: $name, alias: $alias, version: $version) { aliases }
  }`;

const DELETE_ALIAS = `
  mutation DeleteAlias($name: String!, $alias: String!) { deleteRegisteredModelAlias(name: $name, alias: $alias) }`;

interface VersionData {
  modelVersion: {
    name: string;
    version: string;
    currentStage: string;
    aliases: string[];
    status: string;
    description: string | null;
    source: string;
    runId: string | null;
    creationTimestamp: number;
    lastUpdatedTimestamp: number;
    tags: Array<{ key: string; value: string }>;
    run: { id: string; name: string; experimentId: string } | null;
    history: Array<{
      kind: string;
      from: string | null;
      to: string | null;
      alias: string | null;
      actor: string | null;
      reason: string | null;
      timestamp: number;
    }>;
    deployments: Array<{
      id: string;
      state: string;
      cause: string;
      image: string | null;
      endpoint: string | null;
      lastUpdatedTimestamp: number;
      target: { name: string; kind: string };
      transitions: Array<{ toState: string; reason: string; timestamp: number }>;
    }>;
  } | null;
}

const STAGES = ['None', 'Staging', 'Production', 'Archived'];
const HISTORY_KINDS: Record<string, string> = {
  STAGE_TRANSITION: 'Stage transitions',
  ALIAS_SET: 'Aliases set',
  ALIAS_DELETED: 'Aliases deleted',
};

/**
 * P10: a model version with its stage transition (and the archive-the-others option, MLflow's
 * `archive_existing_versions`), alias set/delete, its history (`?history=<kind>` filters it) and its
 * rollouts (deploy's `ModelVersion.deployments`: state, target, last reason). The edits are the
 * registry's GraphQL mutations, which call the same service as MLflow's REST API.
 */
export function VersionPage() {
  const { name, version } = useParams();
  const url = useUrlState();
  const kind = url.get('history');
  const { data, error, loading, reload } = useQuery<VersionData>(VERSION_QUERY, { name, version });
  const [stage, setStage] = useState('Staging');
  const [archive, setArchive] = useState(false);
  const [alias, setAlias] = useState('');
  const [editError, setEditError] = useState<GraphQLRequestError>();
  const [notice, setNotice] = useState('');

  async function edit(what: string, query: string, variables: Record<string, unknown>) {
    setEditError(undefined);
    try {
      await gql(query, { name, version, ...variables });
      setNotice(what);
      reload();
    } catch (error) {
      setEditError(error as GraphQLRequestError);
    }
  }
  function transition(event: FormEvent) {
    event.preventDefault();
    void edit(`Moved to ${stage}.`, TRANSITION, { stage, archive });
  }
  function addAlias(event: FormEvent) {
    event.preventDefault();
    const chosen = alias.trim();
    void edit(`Alias @${chosen} now points at version ${version}.`, SET_ALIAS, { alias: chosen }).then(() =>
      setAlias(''),
    );
  }

  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading what="model version" />;
  const mv = data?.modelVersion;
  if (!mv)
    return (
      <p role="alert">
        Version {version} of {name} not found.
      </p>
    );
  const history = mv.history.filter((entry) => !kind || entry.kind === kind);
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.models()}>Registered models</Link> /{' '}
        <Link to={routes.model(mv.name)}>{mv.name}</Link> / Version {mv.version}
      </nav>
      <PageHeader title={`${mv.name} version ${mv.version}`}>
        <p>
          Stage{' '}
          <span className="badge" data-testid="current-stage">
            {mv.currentStage}
          </span>{' '}
          <span className="muted">
            {mv.status} · registered {formatTime(mv.creationTimestamp)}
          </span>
        </p>
      </PageHeader>
      <p role="status" className="notice">
        {notice}
      </p>
      <ErrorMessage error={editError} />
      <div className="cards">
        <section className="card" aria-labelledby="stage-heading">
          <h2 id="stage-heading">Stage</h2>
          <form onSubmit={transition} className="stack">
            <label>
              New stage{' '}
              <select value={stage} onChange={(event) => setStage(event.target.value)}>
                {STAGES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <input
                type="checkbox"
                checked={archive}
                onChange={(event) => setArchive(event.target.checked)}
              />{' '}
              Archive the other versions in this stage
            </label>
            <button type="submit">Transition</button>
          </form>
        </section>
        <section className="card" aria-labelledby="aliases-heading">
          <h2 id="aliases-heading">Aliases</h2>
          <ul className="plain-list" aria-label="Aliases of this version">
            {mv.aliases.map((a) => (
              <li key={a}>
                <span className="badge alias">@{a}</span>{' '}
                <button
                  type="button"
                  className="link"
                  aria-label={`Delete alias ${a}`}
                  onClick={() => void edit(`Alias @${a} deleted.`, DELETE_ALIAS, { alias: a })}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
          {mv.aliases.length === 0 ? <p className="muted">No alias points at this version.</p> : null}
          <form onSubmit={addAlias} className="toolbar">
            <label>
              Alias{' '}
              <input name="alias" value={alias} required onChange={(event) => setAlias(event.target.value)} />
            </label>
            <button type="submit">Set alias</button>
          </form>
        </section>
        <section className="card" aria-labelledby="source-heading">
          <h2 id="source-heading">Source</h2>
          <dl className="details">
            <dt>Run</dt>
            <dd>
              {mv.run ? (
                <Link to={routes.run(mv.run.experimentId, mv.run.id)}>{mv.run.name}</Link>
              ) : (
                (mv.runId ?? '—')
              )}
            </dd>
            <dt>Source</dt>
            <dd className="mono">{mv.source}</dd>
            <dt>Description</dt>
            <dd>{mv.description || '—'}</dd>
          </dl>
          <KeyValueTable caption="Version tags" rows={mv.tags} empty="No tag." />
        </section>
      </div>
      <section aria-labelledby="rollouts-heading">
        <h2 id="rollouts-heading">Rollouts</h2>
        {mv.deployments.length === 0 ? (
          <p className="muted">Not deployed: a rollout policy on its stage or alias deploys it.</p>
        ) : (
          <table className="table" data-testid="rollouts">
            <caption className="visually-hidden">Deployments of version {mv.version}</caption>
            <thead>
              <tr>
                <th scope="col">Updated</th>
                <th scope="col">Target</th>
                <th scope="col">State</th>
                <th scope="col">Why</th>
                <th scope="col">Last step</th>
                <th scope="col">Serving at</th>
              </tr>
            </thead>
            <tbody>
              {mv.deployments.map((deployment) => (
                <tr key={deployment.id}>
                  <td>{formatTime(deployment.lastUpdatedTimestamp)}</td>
                  <td>
                    {deployment.target.name} ({deployment.target.kind.toLowerCase()})
                  </td>
                  <td>{deployment.state}</td>
                  <td>{deployment.cause}</td>
                  <td>{deployment.transitions.at(-1)?.reason ?? '—'}</td>
                  <td className="mono">
                    {deployment.state === 'LIVE' ? (deployment.endpoint ?? deployment.image ?? '—') : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        <label>
          Show{' '}
          <select value={kind} onChange={(event) => url.set({ history: event.target.value })}>
            <option value="">Everything</option>
            {Object.entries(HISTORY_KINDS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {history.length === 0 ? (
          <p className="muted">Nothing yet.</p>
        ) : (
          <table className="table">
            <caption className="visually-hidden">History of version {mv.version}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Change</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {history.map((entry) => (
                <tr key={`${entry.timestamp}-${entry.kind}-${entry.alias ?? ''}-${entry.from}-${entry.to}`}>
                  <td>{formatTime(entry.timestamp)}</td>
                  <td>
                    {HISTORY_KINDS[entry.kind] ?? entry.kind}
                    {entry.alias ? ` @${entry.alias}` : ''}
                  </td>
                  <td>{entry.from ?? '—'}</td>
                  <td>{entry.to ?? '—'}</td>
                  <td>{entry.actor ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
