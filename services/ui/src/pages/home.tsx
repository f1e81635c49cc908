import { Link } from 'react-router-dom';
import { useQuery } from '../api';
import { ErrorMessage, Loading, PageHeader, StatusBadge } from '../components';
import { formatTime } from '../format';
import { routes } from '../routes';

const HOME_QUERY = `
  query Home {
    experiments(first: 10, orderBy: { field: LAST_UPDATE_TIME, direction: DESC }) {
      nodes { id name lastUpdateTime runCount }
    }
    modelVersions(first: 10, orderBy: ["creation_timestamp DESC"]) {
      nodes { name version currentStage aliases creationTimestamp }
    }
  }`;

const RUNNING_QUERY = `
  query Running($experimentIds: [ID!]!) {
    runs(experimentIds: $experimentIds, filter: "attributes.status = 'RUNNING'", first: 10) {
      nodes { id name experimentId startTime status }
    }
  }`;

interface HomeData {
  experiments: { nodes: Array<{ id: string; name: string; lastUpdateTime: number; runCount: number }> };
  modelVersions: {
    nodes: Array<{
      name: string;
      version: string;
      currentStage: string;
      aliases: string[];
      creationTimestamp: number;
    }>;
  };
}

interface RunningData {
  runs: {
    nodes: Array<{ id: string; name: string; experimentId: string; startTime: number; status: string }>;
  };
}

/** P1: recently changed experiments, running runs among them, recently registered model versions. */
export function HomePage() {
  const home = useQuery<HomeData>(HOME_QUERY);
  const experimentIds = home.data?.experiments.nodes.map((e) => e.id) ?? [];
  const running = useQuery<RunningData>(RUNNING_QUERY, { experimentIds }, experimentIds.length === 0);
  return (
    <>
      <PageHeader title="Home" />
      <ErrorMessage error={home.error} />
      {home.loading && !home.data ? <Loading what="recent activity" /> : null}
      {home.data ? (
        <div className="cards">
          <section className="card" aria-labelledby="recent-experiments">
            <h2 id="recent-experiments">Recent experiments</h2>
            <ul className="plain-list">
              {home.data.experiments.nodes.map((experiment) => (
                <li key={experiment.id}>
                  <Link to={routes.runs(experiment.id)}>{experiment.name}</Link>{' '}
                  <span className="muted">
                    {experiment.runCount} runs · {formatTime(experiment.lastUpdateTime)}
                  </span>
                </li>
              ))}
            </ul>
            <Link to={routes.experiments()}>All experiments</Link>
          </section>
          <section className="card" aria-labelledby="running-runs">
            <h2 id="running-runs">Running runs</h2>
            <ErrorMessage error={running.error} />
            {running.data?.runs.nodes.length === 0 || experimentIds.length === 0 ? (
              <p className="muted">No run is running in the recent experiments.</p>
            ) : (
              <ul className="plain-list">
                {running.data?.runs.nodes.map((run) => (
                  <li key={run.id}>
                    <Link to={routes.run(run.experimentId, run.id)}>{run.name}</Link>{' '}
                    <StatusBadge status={run.status} />{' '}
                    <span className="muted">since {formatTime(run.startTime)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-labelledby="recent-versions">
            <h2 id="recent-versions">Recent model versions</h2>
            {home.data.modelVersions.nodes.length === 0 ? (
              <p className="muted">No model is registered yet.</p>
            ) : (
              <ul className="plain-list">
                {home.data.modelVersions.nodes.map((version) => (
                  <li key={`${version.name}/${version.version}`}>
                    <Link to={routes.version(version.name, version.version)}>
                      {version.name} v{version.version}
                    </Link>{' '}
                    <span className="badge">{version.currentStage}</span>
                    {version.aliases.map((alias) => (
                      <span key={alias} className="badge alias">
                        @{alias}
                      </span>
                    ))}{' '}
                    <span className="muted">{formatTime(version.creationTimestamp)}</span>
                  </li>
                ))}
              </ul>
            )}
            <Link to={routes.models()}>All models</Link>
          </section>
        </div>
      ) : null}
    </>
  );
}
