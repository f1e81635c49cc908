/**
 * infra/grafana: every dashboard is valid JSON with the fields Grafana's provisioning needs, a unique
 * uid, well-placed panels, and PromQL that Prometheus parses (checked by promtool as recording rules,
 * Grafana's interval variables substituted). The Grafana provisioning files point at these dashboards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { stringify } from 'yaml';
import { DASHBOARD_FILES, dashboardQueries, dashboards, promtool, read, yamlDocuments } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'mast-infra-dashboards-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Grafana's built-in interval variables, replaced by a value Prometheus accepts. */
/** The datasource every panel uses: the dashboard's `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template string
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: '1m',
  $__interval: '1m',
  $__range: '1h',
};

function asPromQL(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, (variable) => GRAFANA_VARIABLES[variable]);
}

/** Runs `promtool check rules` on the expressions as recording rules; returns promtool's output. */
function checkPromQL(expressions: string[], file: string): string {
  const rules = expressions.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: asPromQL(expr) }));
  const path = join(scratch, file);
  writeFileSync(path, stringify({ groups: [{ name: 'dashboards', rules }] }));
  return promtool('check', 'rules', path);
}

describe('Grafana dashboards (infra/grafana/dashboards)', () => {
  test('the dashboards: tracking ingest, GraphQL, deployments and queues, model servers; unique uids', () => {
    const all = dashboards().map(({ dashboard }) => dashboard);
    expect(all.map((dashboard) => dashboard.uid).sort()).toEqual([
      'mast-deploy',
      'mast-graphql',
      'mast-model-server',
      'mast-tracking',
    ]);
    expect(new Set(all.map((dashboard) => dashboard.title)).size).toBe(all.length);
  });

  test.each(DASHBOARD_FILES)('%s has the fields Grafana needs and well-formed panels', (file) => {
    const dashboard = JSON.parse(read(file));
    expect(dashboard).toMatchObject({
      uid: expect.stringMatching(/^[a-z0-9-]{1,40}$/),
      title: expect.stringMatching(/^Mast \/ /),
      schemaVersion: expect.any(Number),
      tags: expect.arrayContaining(['mast']),
      time: { from: expect.any(String), to: 'now' },
      panels: expect.any(Array),
    });
    expect(dashboard.id ?? null).toBeNull();
    // a datasource variable, so the dashboard works with any Prometheus
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    const ids = dashboard.panels.map((panel: { id: number }) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel).toMatchObject({ type: expect.any(String), title: expect.any(String) });
      expect(panel.datasource).toEqual(DATASOURCE);
      const { x, y, w, h } = panel.gridPos;
      expect([x >= 0 && x + w <= 24, y >= 0, w > 0, h > 0]).toEqual([true, true, true, true]);
      expect(panel.targets.length).toBeGreaterThan(0);
      const refIds = panel.targets.map((target: { refId: string }) => target.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets) expect(target.expr).toMatch(/\S/);
    }
    // panels do not overlap
    const cells = new Set<string>();
    for (const { gridPos } of dashboard.panels)
      for (let col = gridPos.x; col < gridPos.x + gridPos.w; col++)
        for (let row = gridPos.y; row < gridPos.y + gridPos.h; row++) {
          expect(cells.has(`${col},${row}`)).toBe(false);
          cells.add(`${col},${row}`);
        }
  });

  test('every query is PromQL that promtool parses, with only Grafana interval variables', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    for (const { where, expr } of queries) {
      expect([where, asPromQL(expr).match(/\$\w+/g)]).toEqual([where, null]);
    }
    expect(
      checkPromQL(
        queries.map((query) => query.expr),
        'dashboards.yml',
      ),
    ).toMatch(new RegExp(`SUCCESS: ${queries.length} rules found`));
  });

  test('the PromQL check catches a broken query', () => {
    expect(() => checkPromQL(['sum by (le) (rate(mast_x_bucket[$__rate_interval])'], 'broken.yml')).toThrow(
      /parse error/,
    );
  });
});

describe('Grafana provisioning (infra/grafana/provisioning)', () => {
  test('the dashboard provider reads the folder infra/k8s/observability.yaml mounts the dashboards in', () => {
    const providers = yamlDocuments(read('infra/grafana/provisioning/dashboards/mast.yaml'))[0].providers;
    const grafana = yamlDocuments(read('infra/k8s/observability.yaml')).find(
      (object) => object.kind === 'Deployment' && object.metadata.name === 'grafana',
    );
    const mounts = grafana.spec.template.spec.containers[0].volumeMounts;
    const dashboardsMount = mounts.find((mount: { name: string }) => mount.name === 'dashboards');
    expect(providers).toEqual([
      expect.objectContaining({ type: 'file', options: { path: dashboardsMount.mountPath } }),
    ]);
    const datasources = yamlDocuments(read('infra/grafana/provisioning/datasources/prometheus.yaml'))[0]
      .datasources;
    expect(datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
  });
});
