/** Mast's UI routes (ui.md §5.2), built in one place so links stay consistent. */
export const routes = {
  home: () => '/',
  experiments: () => '/experiments',
  runs: (experimentId: string) => `/experiments/${encodeURIComponent(experimentId)}/runs`,
  run: (experimentId: string, runId: string, tab?: string) =>
    `/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}${tab ? `/${tab}` : ''}`,
  compare: (runIds: readonly string[]) => `/compare?runs=${runIds.map(encodeURIComponent).join(',')}`,
  models: () => '/models',
  model: (name: string) => `/models/${encodeURIComponent(name)}`,
  version: (name: string, version: string) =>
    `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
  compareVersions: (name: string, versions: readonly string[]) =>
    `/models/${encodeURIComponent(name)}/compare?versions=${versions.map(encodeURIComponent).join(',')}`,
  charts: (experimentId: string) => `/experiments/${encodeURIComponent(experimentId)}/charts`,
  loggedModels: (experimentId: string) => `/experiments/${encodeURIComponent(experimentId)}/models`,
  loggedModel: (experimentId: string, modelId: string, tab?: string) =>
    `/experiments/${encodeURIComponent(experimentId)}/models/${encodeURIComponent(modelId)}${tab ? `/${tab}` : ''}`,
  settings: () => '/settings',
};

function parseJsonList(text: string | null): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * Mast's path for one of MLflow's hash links (`#/experiments/1/runs/abc`, `#/models/m/versions/2`,
 * `#/compare-runs?runs=["a","b"]`), or undefined when the hash is not a route. MLflow's routes are
 * listed in its `experiment-tracking/routes.ts` and `model-registry/routes.ts`.
 */
export function fromMlflowHashLink(hash: string): string | undefined {
  if (!hash.startsWith('#/')) return undefined;
  const url = new URL(hash.slice(1), 'http://mlflow');
  const path = url.pathname;
  if (path === '/compare-runs') return routes.compare(parseJsonList(url.searchParams.get('runs')));
  const experiment = /^\/experiments\/([^/]+)\/?$/.exec(path);
  if (experiment) return routes.runs(decodeURIComponent(experiment[1]!));
  return `${path}${url.search}`;
}
