import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INFRA = join(ROOT, 'infra');
export const HELM = join(ROOT, '.tools/bin/helm');

export function read(relative: string): string {
  return readFileSync(join(ROOT, relative), 'utf8');
}

/** The files of a folder of the repository whose names end with `suffix`, as repository paths. */
export function filesIn(relative: string, suffix: string): string[] {
  return readdirSync(join(ROOT, relative))
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => `${relative}/${name}`);
}

/** Runs a command from the repository's root; returns its output, or throws with everything it printed. */
export function run(command: string, args: string[], input?: string): string {
  try {
    return execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', input, stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

export function promtool(...args: string[]): string {
  return run('promtool', args);
}

/** Every document of a YAML stream (`---` separated), empty ones left out. */
export function yamlDocuments<T = any>(text: string): T[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.map(String).join('\n'));
      return document.toJS() as T;
    })
    .filter((value) => value !== null && value !== undefined);
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  [key: string]: unknown;
}

/** `helm template mast charts/mast -f tilt/values-dev.yaml`, as Tilt's helm() renders it. */
export function renderDevChart(): KubeObject[] {
  if (!existsSync(HELM)) throw new Error(`${HELM} is missing: run scripts/fetch-helm.sh`);
  return yamlDocuments<KubeObject>(
    run(HELM, ['template', 'mast', 'charts/mast', '-f', 'tilt/values-dev.yaml']),
  );
}

/** Whether an object is a `helm test` hook (the Tiltfile's without_helm_tests leaves those out). */
export function isHelmTest(object: KubeObject): boolean {
  const hook = (object.metadata as { annotations?: Record<string, string> }).annotations?.['helm.sh/hook'];
  return (hook ?? '').split(',').includes('test');
}

/** The pod template of a workload (a Pod is its own), if the object is one. */
export function podTemplate(object: KubeObject): { metadata?: any; spec: any } | undefined {
  if (object.kind === 'Pod') return { metadata: object.metadata, spec: object.spec };
  return ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(object.kind)
    ? object.spec?.template
    : undefined;
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges
 * and label lists (`by (...)`, `on (...)`) that are not function or aggregation names (those are
 * followed by a parenthesis) nor keywords.
 */
export function metricNames(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice(match.index + match[0].length);
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/**
 * The series names a Prometheus text exposition offers, from its `# TYPE` lines (so metrics that have
 * not been observed yet count too): a histogram is its `_bucket`, `_sum` and `_count` series.
 */
export function exposedSeries(exposition: string): Set<string> {
  const series = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) series.add(name + suffix);
    else series.add(name);
  }
  return series;
}

/** An alerting or recording rule of a Prometheus rules file. */
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

export function alertRules(): Rule[] {
  return filesIn('infra/prometheus', '.yml').flatMap((file) =>
    (yamlDocuments(read(file))[0].groups as Array<{ rules: Rule[] }>).flatMap((group) => group.rules),
  );
}

/** A Grafana dashboard as provisioned from infra/grafana/dashboards. */
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
  [key: string]: unknown;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { type: string; uid: string } }>;
}

export const DASHBOARD_FILES = filesIn('infra/grafana/dashboards', '.json');

export function dashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return DASHBOARD_FILES.map((file) => ({ file, dashboard: JSON.parse(read(file)) as Dashboard }));
}

/** Every PromQL expression of every dashboard, with where it comes from. */
export function dashboardQueries(): Array<{ where: string; expr: string }> {
  return dashboards().flatMap(({ dashboard }) =>
    dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `${dashboard.uid} panel ${panel.id} (${panel.title}) ${target.refId}`,
        expr: target.expr,
      })),
    ),
  );
}
