/**
 * infra/prometheus: the alert rules pass `promtool check rules`, their unit tests pass `promtool test
 * rules` and cover every alert, and the dev cluster's Prometheus configuration is valid.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { alertRules, filesIn, promtool, read, yamlDocuments } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'mast-infra-prometheus-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('Prometheus alert rules (infra/prometheus)', () => {
  test('promtool check rules accepts every rules file, and rejects a broken one', () => {
    const files = filesIn('infra/prometheus', '.yml');
    expect(files).toContain('infra/prometheus/alerts.yml');
    expect(promtool('check', 'rules', ...files)).toMatch(/SUCCESS: \d+ rules found/);
    const broken = join(scratch, 'broken.yml');
    writeFileSync(broken, 'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n');
    expect(() => promtool('check', 'rules', broken)).toThrow(/parse error/);
  });

  test('every alert has a severity and a summary', () => {
    const rules = alertRules() as Array<{
      alert: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }>;
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const rule of rules) {
      expect([rule.alert, rule.labels?.severity]).toEqual([
        rule.alert,
        expect.stringMatching(/^(warning|critical)$/),
      ]);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
    }
  });

  test('promtool test rules: each alert fires on its series and stays silent otherwise', () => {
    expect(promtool('test', 'rules', 'infra/prometheus/tests/alerts.test.yml')).toMatch(/SUCCESS/);
  });

  test('the unit tests cover every alert, each with a firing and a silent evaluation', () => {
    const suite = yamlDocuments(read('infra/prometheus/tests/alerts.test.yml'))[0] as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    const evaluations = suite.tests.flatMap((entry) => entry.alert_rule_test);
    for (const { alert } of alertRules()) {
      const own = evaluations.filter((evaluation) => evaluation.alertname === alert);
      expect([alert, own.some((evaluation) => (evaluation.exp_alerts ?? []).length > 0)]).toEqual([
        alert,
        true,
      ]);
      expect([alert, own.some((evaluation) => (evaluation.exp_alerts ?? []).length === 0)]).toEqual([
        alert,
        true,
      ]);
    }
  });
});

describe('Prometheus of the dev cluster (infra/prometheus/config/prometheus.yml)', () => {
  test('promtool check config accepts it (Kubernetes discovery swapped for static targets: Debian builds promtool without it)', () => {
    const text = read('infra/prometheus/config/prometheus.yml');
    expect(text.match(/kubernetes_sd_configs:\n\s+- role: pod/g)).toHaveLength(2);
    const checked = join(scratch, 'prometheus.yml');
    writeFileSync(
      checked,
      text.replace(
        /kubernetes_sd_configs:\n(\s+)- role: pod/g,
        'static_configs:\n$1- targets: ["127.0.0.1:5000"]',
      ),
    );
    expect(promtool('check', 'config', checked)).toMatch(/SUCCESS/);
  });

  test('it loads the alert rules from where infra/k8s/observability.yaml mounts them', () => {
    const config = yamlDocuments(read('infra/prometheus/config/prometheus.yml'))[0];
    const prometheus = yamlDocuments(read('infra/k8s/observability.yaml')).find(
      (object) => object.kind === 'Deployment' && object.metadata.name === 'prometheus',
    );
    const rulesMount = prometheus.spec.template.spec.containers[0].volumeMounts.find(
      (mount: { name: string }) => mount.name === 'rules',
    );
    expect(config.rule_files).toEqual([`${rulesMount.mountPath}/*.yml`]);
  });
});
