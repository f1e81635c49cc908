import { Link, useParams } from 'react-router-dom';
import { useQuery } from '../api';
import { ErrorMessage, KeyValueTable, Loading, PageHeader } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const MODEL_QUERY = `
  query Model($name: String!) {
    registeredModel(name: $name) {
      name description creationTimestamp lastUpdatedTimestamp
      tags { key value }
      aliases { alias version }
      versions {
        version currentStage aliases status creationTimestamp source runId
        run { id name experimentId }
      }
    }
  }`;

interface ModelData {
  registeredModel: {
    name: string;
    description: string | null;
    creationTimestamp: number;
    lastUpdatedTimestamp: number;
    tags: Array<{ key: string; value: string }>;
    aliases: Array<{ alias: string; version: string }>;
    versions: Array<{
      version: string;
      currentStage: string;
      aliases: string[];
      status: string;
      creationTimestamp: number;
      source: string;
      runId: string | null;
      run: { id: string; name: string; experimentId: string } | null;
    }>;
  } | null;
}

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

/**
 * P9: a registered model: its versions (stage, aliases, source run), tags and description; `?stage=`
 * filters the versions, `?sel=` selects some to compare (P11) or to compare their source runs (P7).
 */
export function ModelPage() {
  const { name } = useParams();
  const url = useUrlState();
  const stage = url.get('stage');
  const selected = url.list('sel');
  const { data, error, loading } = useQuery<ModelData>(MODEL_QUERY, { name });
  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading what="model" />;
  const model = data?.registeredModel;
  if (!model) return <p role="alert">Registered model {name} not found.</p>;
  const versions = [...model.versions]
    .sort((a, b) => Number(b.version) - Number(a.version))
    .filter((v) => !stage || v.currentStage === stage);
  const selectedRuns = model.versions.flatMap((v) =>
    selected.includes(v.version) && v.runId ? [v.runId] : [],
  );
  function toggle(version: string) {
    url.set({
      sel: selected.includes(version) ? selected.filter((s) => s !== version) : [...selected, version],
    });
  }
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.models()}>Registered models</Link> / {model.name}
      </nav>
      <PageHeader title={model.name}>
        <p className="muted">
          Created {formatTime(model.creationTimestamp)} · updated {formatTime(model.lastUpdatedTimestamp)}
        </p>
      </PageHeader>
      {model.description ? <p>{model.description}</p> : null}
      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versions</h2>
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
        </label>{' '}
        {selected.length > 1 ? (
          <Link className="button" to={routes.compareVersions(model.name, selected)}>
            Compare {selected.length} versions
          </Link>
        ) : null}{' '}
        {selectedRuns.length > 1 ? (
          <Link className="button" to={routes.compare(selectedRuns)}>
            Compare the runs of {selectedRuns.length} versions
          </Link>
        ) : null}
        <table className="table">
          <caption className="visually-hidden">Versions of {model.name}</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Stage</th>
              <th scope="col">Aliases</th>
              <th scope="col">Source run</th>
              <th scope="col">Status</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <th scope="row">
                  <input
                    type="checkbox"
                    aria-label={`Select version ${v.version}`}
                    checked={selected.includes(v.version)}
                    onChange={() => toggle(v.version)}
                  />{' '}
                  <Link to={routes.version(model.name, v.version)}>Version {v.version}</Link>
                </th>
                <td>
                  <span className="badge">{v.currentStage}</span>
                </td>
                <td>
                  {v.aliases.map((alias) => (
                    <span key={alias} className="badge alias">
                      @{alias}
                    </span>
                  ))}
                </td>
                <td>
                  {v.run ? (
                    <Link to={routes.run(v.run.experimentId, v.run.id)}>{v.run.name}</Link>
                  ) : (
                    <span className="mono muted">{v.runId ?? v.source}</span>
                  )}
                </td>
                <td>{v.status}</td>
                <td>{formatTime(v.creationTimestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.length === 0 ? <p className="muted">No version in this stage.</p> : null}
      </section>
      <section aria-labelledby="model-tags">
        <h2 id="model-tags">Tags</h2>
        <KeyValueTable caption="Model tags" rows={model.tags} empty="No tag." />
      </section>
    </>
  );
}
