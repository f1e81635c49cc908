import { Link, NavLink, useParams } from 'react-router-dom';
import { useQuery } from '../api';
import { ArtifactBrowser } from '../artifact-browser';
import { ErrorMessage, KeyValueTable, Loading, PageHeader } from '../components';
import { formatTime, formatValue } from '../format';
import {
  type LoggedModelMetric,
  LoggedModelStatusBadge,
  type LoggedModelSummary,
} from '../logged-model-parts';
import { useMlflowTags } from '../mlflow-tags';
import { routes } from '../routes';

const MODEL_QUERY = `
  query LoggedModel($id: ID!) {
    loggedModel(id: $id) {
      id name status statusMessage modelType creationTime lastUpdatedTime artifactLocation
      experiment { id name }
      sourceRun { id name experimentId }
      params { key value } tags { key value }
      metrics { key value step timestamp datasetName datasetDigest runId }
    }
  }`;

interface LoggedModelData {
  loggedModel:
    | (Omit<LoggedModelSummary, 'metrics'> & {
        statusMessage: string | null;
        lastUpdatedTime: number;
        artifactLocation: string;
        experiment: { id: string; name: string };
        metrics: Array<LoggedModelMetric & { datasetDigest: string | null; runId: string | null }>;
      })
    | null;
}

const TABS = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'artifacts', label: 'Artifacts' },
] as const;

/**
 * P12: one logged model (`/experiments/:id/models/:modelId/overview`): its attributes, every metric value
 * (with the dataset and run it was measured in), params and tags (`?internal=1` shows MLflow's own);
 * `artifacts/<path>` browses its files as a run's (P6).
 */
export default function LoggedModelPage() {
  const params = useParams();
  const { experimentId, modelId } = params as { experimentId: string; modelId: string };
  // `…/artifacts/<path>` is the artifact browser at that path.
  const artifactPath = params['*'];
  const tab = artifactPath !== undefined ? 'artifacts' : (params.tab ?? 'overview');
  const mlflowTags = useMlflowTags();
  const { data, error, loading } = useQuery<LoggedModelData>(MODEL_QUERY, { id: modelId });
  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading what="logged model" />;
  const model = data?.loggedModel;
  if (!model) return <p role="alert">Logged model {modelId} not found.</p>;
  const tags = mlflowTags.visible(model.tags);
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.experiments()}>Experiments</Link> /{' '}
        <Link to={routes.loggedModels(experimentId)}>{model.experiment.name}</Link> / {model.name}
      </nav>
      <PageHeader title={model.name}>
        <p>
          <LoggedModelStatusBadge status={model.status} /> <span className="muted">{model.id}</span>
        </p>
      </PageHeader>
      <nav aria-label="Model sections" className="tabs">
        {TABS.map(({ tab: name, label }) => (
          <NavLink
            key={name}
            to={routes.loggedModel(experimentId, model.id, name)}
            aria-current={tab === name ? 'page' : undefined}
          >
            {label}
          </NavLink>
        ))}
      </nav>
      {tab === 'artifacts' ? (
        <ArtifactBrowser
          owner={{ kind: 'loggedModel', id: model.id }}
          root={routes.loggedModel(experimentId, model.id, 'artifacts')}
          path={artifactPath ?? ''}
        />
      ) : (
        <div className="cards">
          <section className="card" aria-labelledby="model-details">
            <h2 id="model-details">Details</h2>
            <dl className="details">
              <dt>Experiment</dt>
              <dd>
                <Link to={routes.loggedModels(model.experiment.id)}>{model.experiment.name}</Link>
              </dd>
              <dt>Source run</dt>
              <dd>
                {model.sourceRun ? (
                  <Link to={routes.run(model.sourceRun.experimentId, model.sourceRun.id)}>
                    {model.sourceRun.name}
                  </Link>
                ) : (
                  '—'
                )}
              </dd>
              <dt>Type</dt>
              <dd>{model.modelType ?? '—'}</dd>
              <dt>Created</dt>
              <dd>{formatTime(model.creationTime)}</dd>
              <dt>Updated</dt>
              <dd>{formatTime(model.lastUpdatedTime)}</dd>
              {model.statusMessage ? (
                <>
                  <dt>Status message</dt>
                  <dd>{model.statusMessage}</dd>
                </>
              ) : null}
              <dt>Artifacts</dt>
              <dd className="mono">{model.artifactLocation}</dd>
            </dl>
          </section>
          <section className="card" aria-labelledby="model-metrics">
            <h2 id="model-metrics">Metrics</h2>
            {model.metrics.length === 0 ? (
              <p className="muted">No metric logged.</p>
            ) : (
              <table className="table">
                <caption className="visually-hidden">Metrics</caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col">Value</th>
                    <th scope="col">Step</th>
                    <th scope="col">Dataset</th>
                    <th scope="col">Run</th>
                  </tr>
                </thead>
                <tbody>
                  {model.metrics.map((metric) => (
                    <tr
                      key={`${metric.key}/${metric.timestamp}/${metric.step}/${metric.datasetName}/${metric.runId}`}
                    >
                      <th scope="row">{metric.key}</th>
                      <td>{formatValue(metric.value)}</td>
                      <td>{metric.step}</td>
                      <td>{metric.datasetName ?? '—'}</td>
                      <td>
                        {metric.runId ? (
                          <Link to={routes.run(experimentId, metric.runId)} className="mono">
                            {metric.runId.slice(0, 8)}
                          </Link>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="model-params">
            <h2 id="model-params">Parameters</h2>
            <KeyValueTable caption="Parameters" rows={model.params} empty="No parameter logged." />
          </section>
          <section className="card" aria-labelledby="model-tags">
            <h2 id="model-tags">Tags</h2>
            {mlflowTags.toggle("Show MLflow's own tags (mlflow.*)")}
            <KeyValueTable caption="Tags" rows={tags} empty="No tag to show." />
          </section>
        </div>
      )}
    </>
  );
}
