import { Link, NavLink, useParams } from 'react-router-dom';
import { useQuery } from '../api';
import { ArtifactBrowser } from '../artifact-browser';
import { ErrorMessage, KeyValueTable, Loading, PageHeader, StatusBadge } from '../components';
import { formatDuration, formatTime, formatValue } from '../format';
import { MetricChart } from '../metric-chart';
import { useMlflowTags } from '../mlflow-tags';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

const RUN_QUERY = `
  query Run($id: ID!) {
    run(id: $id) {
      id name experimentId status startTime endTime userId artifactUri lifecycleStage
      experiment { id name }
      latestMetrics { key value step timestamp }
      params { key value }
      tags { key value }
      datasetInputs { dataset { name digest sourceType } context }
      modelVersions { name version currentStage }
    }
  }`;

interface RunData {
  run: {
    id: string;
    name: string;
    experimentId: string;
    status: string;
    startTime: number;
    endTime: number | null;
    userId: string;
    artifactUri: string;
    lifecycleStage: string;
    experiment: { id: string; name: string };
    latestMetrics: Array<{ key: string; value: number | string; step: number; timestamp: number }>;
    params: Array<{ key: string; value: string }>;
    tags: Array<{ key: string; value: string }>;
    datasetInputs: Array<{
      dataset: { name: string; digest: string; sourceType: string };
      context: string | null;
    }>;
    modelVersions: Array<{ name: string; version: string; currentStage: string }>;
  } | null;
}

const TABS = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'metrics', label: 'Metric charts' },
  { tab: 'system', label: 'System metrics' },
  { tab: 'artifacts', label: 'Artifacts' },
] as const;

/** Where MLflow's client logs system metrics (`mlflow.enable_system_metrics_logging`: `system/cpu_utilization_percentage`, ...). */
const SYSTEM_PREFIX = 'system/';

/** `from-to` (steps) from the URL, or undefined. */
function parseRange(text: string): { from: number; to: number } | undefined {
  const match = /^(-?\d+)-(-?\d+)$/.exec(text);
  return match ? { from: Number(match[1]), to: Number(match[2]) } : undefined;
}

/**
 * Charts of some of `keys`: those named in `?metrics=` (else the first `defaultCount`), zoomed to
 * `?range=from-to` steps.
 */
function MetricCharts({
  runId,
  title,
  keys,
  defaultCount,
}: {
  runId: string;
  title: string;
  keys: string[];
  defaultCount: number;
}) {
  const url = useUrlState();
  const chosen = url.list('metrics').filter((key) => keys.includes(key));
  const charted = chosen.length > 0 ? chosen : keys.slice(0, defaultCount);
  const range = parseRange(url.get('range'));
  if (keys.length === 0) return <p className="muted">No {title.toLowerCase()} logged.</p>;
  return (
    <section aria-label={title}>
      <fieldset className="metric-choices">
        <legend>Metrics to chart</legend>
        {keys.map((key) => (
          <label key={key}>
            <input
              type="checkbox"
              checked={charted.includes(key)}
              onChange={() =>
                url.set({
                  metrics: charted.includes(key) ? charted.filter((k) => k !== key) : [...charted, key],
                })
              }
            />{' '}
            {key}
          </label>
        ))}
      </fieldset>
      {charted.map((key) => (
        <MetricChart
          key={key}
          runId={runId}
          metricKey={key}
          range={range}
          onZoom={(next) => url.set({ range: next ? `${next.from}-${next.to}` : undefined })}
        />
      ))}
    </section>
  );
}

/**
 * P5: a run. `overview` shows its attributes, parameters, latest metrics, tags, datasets and the model
 * versions registered from it; `metrics` charts its model metrics and `system` the `system/...` ones
 * MLflow's client logs; `artifacts/<path>` is P6, the artifact browser.
 */
export default function RunPage() {
  const params = useParams();
  const { experimentId, runId } = params;
  // `…/artifacts/<path>` is the artifact browser at that path.
  const artifactPath = params['*'];
  const tab = artifactPath !== undefined ? 'artifacts' : (params.tab ?? 'overview');
  const url = useUrlState();
  const mlflowTags = useMlflowTags();
  const { data, error, loading } = useQuery<RunData>(RUN_QUERY, { id: runId });
  if (error) return <ErrorMessage error={error} />;
  if (loading && !data) return <Loading what="run" />;
  const run = data?.run;
  if (!run) return <p role="alert">Run {runId} not found.</p>;
  const visibleTags = mlflowTags.visible(run.tags);

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.experiments()}>Experiments</Link> /{' '}
        <Link to={routes.runs(run.experimentId)}>{run.experiment.name}</Link> / {run.name}
      </nav>
      <PageHeader title={run.name}>
        <p>
          <StatusBadge status={run.status} /> <span className="muted">{run.id}</span>
        </p>
      </PageHeader>
      <nav aria-label="Run sections" className="tabs">
        {TABS.map(({ tab: name, label }) => (
          <NavLink
            key={name}
            to={`${routes.run(experimentId!, run.id, name)}?${url.params}`}
            aria-current={tab === name ? 'page' : undefined}
          >
            {label}
          </NavLink>
        ))}
      </nav>
      {tab === 'artifacts' ? (
        <ArtifactBrowser
          owner={{ kind: 'run', id: run.id }}
          root={routes.run(experimentId!, run.id, 'artifacts')}
          path={artifactPath ?? ''}
        />
      ) : tab === 'metrics' || tab === 'system' ? (
        <MetricCharts
          runId={run.id}
          title={tab === 'system' ? 'System metrics' : 'Metric charts'}
          keys={run.latestMetrics
            .map((m) => m.key)
            .filter((key) => key.startsWith(SYSTEM_PREFIX) === (tab === 'system'))}
          defaultCount={tab === 'system' ? 12 : 4}
        />
      ) : (
        <div className="cards">
          <section className="card" aria-labelledby="run-details">
            <h2 id="run-details">Details</h2>
            <dl className="details">
              <dt>Experiment</dt>
              <dd>
                <Link to={routes.runs(run.experimentId)}>{run.experiment.name}</Link>
              </dd>
              <dt>Started</dt>
              <dd>{formatTime(run.startTime)}</dd>
              <dt>Duration</dt>
              <dd>{formatDuration(run.startTime, run.endTime) || 'running'}</dd>
              <dt>User</dt>
              <dd>{run.userId || '—'}</dd>
              <dt>Lifecycle</dt>
              <dd>{run.lifecycleStage}</dd>
              <dt>Artifacts</dt>
              <dd className="mono">{run.artifactUri}</dd>
              <dt>Registered as</dt>
              <dd>
                {run.modelVersions.length === 0
                  ? '—'
                  : run.modelVersions.map((v) => (
                      <Link
                        key={`${v.name}/${v.version}`}
                        to={routes.version(v.name, v.version)}
                        className="spaced"
                      >
                        {v.name} v{v.version} ({v.currentStage})
                      </Link>
                    ))}
              </dd>
              {run.datasetInputs.length > 0 ? (
                <>
                  <dt>Datasets</dt>
                  <dd>
                    {run.datasetInputs
                      .map((input) => `${input.dataset.name} (${input.context ?? input.dataset.sourceType})`)
                      .join(', ')}
                  </dd>
                </>
              ) : null}
            </dl>
          </section>
          <section className="card" aria-labelledby="run-metrics">
            <h2 id="run-metrics">Metrics</h2>
            {run.latestMetrics.length === 0 ? (
              <p className="muted">No metric logged.</p>
            ) : (
              <table className="table">
                <caption className="visually-hidden">Latest metric values</caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col">Latest value</th>
                    <th scope="col">Step</th>
                  </tr>
                </thead>
                <tbody>
                  {run.latestMetrics.map((metric) => (
                    <tr key={metric.key}>
                      <th scope="row">
                        <Link
                          to={`${routes.run(run.experimentId, run.id, 'metrics')}?metrics=${encodeURIComponent(metric.key)}`}
                        >
                          {metric.key}
                        </Link>
                      </th>
                      <td>{formatValue(metric.value)}</td>
                      <td>{metric.step}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="run-params">
            <h2 id="run-params">Parameters</h2>
            <KeyValueTable caption="Parameters" rows={run.params} empty="No parameter logged." />
          </section>
          <section className="card" aria-labelledby="run-tags">
            <h2 id="run-tags">Tags</h2>
            {mlflowTags.toggle("Show MLflow's own tags (mlflow.*)")}
            <KeyValueTable caption="Tags" rows={visibleTags} empty="No tag to show." />
          </section>
        </div>
      )}
    </>
  );
}
