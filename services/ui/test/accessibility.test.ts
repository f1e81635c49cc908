import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startUi, type UiFixture } from './pages-fixture.js';
import { type SeededData, seed } from './seed.js';

jest.setTimeout(240_000);

/** A page of the UI (its path as `src/routes.tsx` builds it) and what shows its data has arrived. */
interface PageCheck {
  name: string;
  path: (data: FixtureData) => string;
  ready: (page: Page, data: FixtureData) => Promise<unknown>;
}

/** The seeded data, plus a logged model of the seeded experiment (for P12). */
type FixtureData = SeededData & { loggedModelId: string };

const PAGES: PageCheck[] = [
  {
    name: 'P1 home',
    path: () => '/',
    ready: (page, data) => page.getByRole('main').getByRole('link', { name: data.experimentName }).waitFor(),
  },
  {
    name: 'P2 experiments',
    path: () => '/experiments',
    ready: (page, data) => page.getByRole('main').getByRole('link', { name: data.experimentName }).waitFor(),
  },
  {
    name: 'P3 runs table',
    path: (data) => `/experiments/${data.experimentId}/runs`,
    ready: (page) => page.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1).waitFor(),
  },
  {
    name: 'P4 chart view',
    path: (data) => `/experiments/${data.experimentId}/charts`,
    ready: (page) =>
      page
        .getByRole('main')
        .getByRole('list', { name: 'Charted runs' })
        .getByRole('listitem')
        .first()
        .waitFor(),
  },
  {
    name: 'P5 run',
    path: (data) => `/experiments/${data.experimentId}/runs/${data.artifactRunId}`,
    ready: (page) => page.getByRole('main').getByText('run-000').first().waitFor(),
  },
  {
    name: 'P6 artifacts',
    path: (data) => `/experiments/${data.experimentId}/runs/${data.artifactRunId}/artifacts`,
    ready: (page) => page.getByRole('main').getByText('notes').first().waitFor(),
  },
  {
    name: 'P7 compare runs',
    path: (data) => `/compare?runs=${data.runIds.slice(0, 3).join(',')}`,
    ready: (page) => page.getByRole('main').getByText('run-002').first().waitFor(),
  },
  {
    name: 'P8 registered models',
    path: () => '/models',
    ready: (page, data) => page.getByRole('main').getByRole('link', { name: data.modelName }).waitFor(),
  },
  {
    name: 'P9 model',
    path: (data) => `/models/${encodeURIComponent(data.modelName)}`,
    ready: (page) => page.getByRole('main').getByRole('link', { name: 'Version 1' }).first().waitFor(),
  },
  {
    name: 'P10 version',
    path: (data) => `/models/${encodeURIComponent(data.modelName)}/versions/1`,
    ready: (page, data) => page.getByRole('main').getByText(data.modelName).first().waitFor(),
  },
  {
    name: 'P11 compare versions',
    path: (data) => `/models/${encodeURIComponent(data.modelName)}/compare?versions=1,2`,
    ready: (page, data) =>
      page
        .getByRole('main')
        .getByRole('heading', { name: `Compare 2 versions of ${data.modelName}` })
        .waitFor(),
  },
  {
    name: 'P12 logged models',
    path: (data) => `/experiments/${data.experimentId}/models`,
    ready: (page) =>
      page
        .getByRole('main')
        .getByRole('row', { name: /^a11y-model/ })
        .waitFor(),
  },
  {
    name: 'P12 logged model',
    path: (data) => `/experiments/${data.experimentId}/models/${data.loggedModelId}/overview`,
    ready: (page) => page.getByRole('main').getByRole('heading', { name: 'a11y-model' }).waitFor(),
  },
  {
    name: 'P14 settings',
    path: () => '/settings',
    ready: (page) => page.getByRole('main').getByText('Theme').first().waitFor(),
  },
];

const THEMES = ['light', 'dark'] as const;

/** axe's impact levels that goal G15 forbids. */
const FORBIDDEN_IMPACTS = new Set(['serious', 'critical']);

/**
 * Goal G15 of ui.md (§5.4): every page in both themes has no serious or critical axe-core violations
 * (WCAG 2.x A and AA rules, contrast included), and the `system` theme follows `prefers-color-scheme`
 * live. The all-in-one server on PostgreSQL, seeded through REST; Debian's headless Chromium.
 */
describe('web UI accessibility (G15: axe-core, both themes, Chromium)', () => {
  let ui: UiFixture;
  let base: string;
  let data: FixtureData;
  let browser: Browser;

  beforeAll(async () => {
    ui = await startUi();
    ({ base, browser } = ui);
    const http = ui.http;
    const seeded = await seed(http);
    const created = await http.post('/api/2.0/mlflow/logged-models', {
      experiment_id: seeded.experimentId,
      name: 'a11y-model',
      model_type: 'sklearn',
      source_run_id: seeded.runIds[0],
      params: [{ key: 'alpha', value: '0.5' }],
    });
    expect(created.status).toBe(200);
    data = { ...seeded, loggedModelId: created.body.model.info.model_id };
  });
  afterAll(async () => ui?.close());

  test.each(THEMES)('every page, %s theme: no serious or critical violations', async (theme) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: theme });
    const page = await context.newPage();
    const found: string[] = [];
    try {
      for (const check of PAGES) {
        await page.goto(`${base}${check.path(data)}`);
        await check.ready(page, data);
        expect(await page.evaluate('document.documentElement.dataset.theme')).toBe(theme);
        const results = await new AxeBuilder({ page })
          .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
          .analyze();
        const serious = results.violations.filter((violation) =>
          FORBIDDEN_IMPACTS.has(violation.impact ?? ''),
        );
        console.log(
          `G15 ${theme} ${check.name}: ${results.passes.length} rules passed, ${results.violations.length} violations (${serious.length} serious or critical)`,
        );
        for (const violation of serious) {
          const targets = violation.nodes.slice(0, 3).map((node) => node.target.join(' '));
          found.push(`${check.name}: ${violation.id} (${violation.impact}) at ${targets.join('; ')}`);
        }
      }
    } finally {
      await context.close();
    }
    expect(found).toEqual([]);
  });

  test('the system theme follows prefers-color-scheme while the page is open', async () => {
    const context = await browser.newContext({ colorScheme: 'light' });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/settings`);
      const theme = () => page.evaluate('document.documentElement.dataset.theme');
      const background = () => page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(await theme()).toBe('light');
      const light = await background();
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => (globalThis as any).document.documentElement.dataset.theme === 'dark');
      expect(await background()).not.toBe(light);
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForFunction(
        () => (globalThis as any).document.documentElement.dataset.theme === 'light',
      );
      expect(await background()).toBe(light);
    } finally {
      await context.close();
    }
  });
});
