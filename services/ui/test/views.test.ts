import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { screenshot } from './browser.js';
import { startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(120_000);

/** Metric keys long enough that choosing 60 of them as columns makes a URL of about 3,000 characters. */
const KEYS = Array.from(
  { length: 60 },
  (_, i) => `validation/metric_with_a_rather_long_name_${String(i).padStart(2, '0')}`,
);
const VIEW_URL = /\?view=[0-9A-Za-z]{10}$/;

/**
 * Issue 14, item 3 (ui.md §5.1; goals G9 and G10): a page state too long for a URL becomes a short
 * server-stored `?view=<id>` that a reload (or another browser) restores; named views are saved from a
 * page's "Views" menu, shared ones seen by another user in a fresh browser context, personal ones not.
 * The all-in-one server on PostgreSQL in Debian's headless Chromium; users named by the
 * `X-Forwarded-User` header an authenticating proxy sets.
 */
describe('saved views in the web UI (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let base: string;
  let browser: Browser;
  let experimentId: string;
  let runIds: string[];
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  /** A page in a fresh browser context (no storage shared with any other) of `user`. */
  async function pageOf(user: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      extraHTTPHeaders: { 'x-forwarded-user': user },
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  beforeAll(async () => {
    ui = await startUi();
    ({ base, browser } = ui);
    const http = ui.http;
    experimentId = (await http.post('/api/2.0/mlflow/experiments/create', { name: 'views-fixtures' })).body
      .experiment_id;
    runIds = [];
    for (let i = 0; i < 3; i++) {
      const run = await http.post('/api/2.0/mlflow/runs/create', {
        experiment_id: experimentId,
        run_name: `view-run-${i}`,
        start_time: 1_700_000_000_000 + i,
      });
      const runId = run.body.run.info.run_id as string;
      runIds.push(runId);
      const metrics = KEYS.map((key, k) => ({ key, value: i * 100 + k, timestamp: 1, step: 0 }));
      expect((await http.post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics })).status).toBe(
        200,
      );
    }
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await ui?.close();
  });

  const runsPath = () => `/experiments/${experimentId}/runs`;
  const longState = () =>
    `?cols=${encodeURIComponent(KEYS.map((key) => `m:${key}`).join(','))}&sort=${encodeURIComponent('attributes.run_name ASC')}`;
  const firstRow = (page: Page) => page.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);

  test('a state too long for a URL becomes ?view=<id>; a reload and another browser restore it (G9)', async () => {
    const page = await pageOf('alice');
    expect(longState().length).toBeGreaterThan(2500);
    await page.goto(`${base}${runsPath()}${longState()}`);
    await page.waitForURL(VIEW_URL);
    const linked = page.url();
    console.log(
      `a ${longState().length}-character state became ${linked.length - base.length} characters: ${linked.slice(base.length)}`,
    );
    await page.getByText('Columns (60)').waitFor();
    await firstRow(page).getByRole('link', { name: 'view-run-0' }).waitFor();

    // Changing a long state stores the new one: another id, still short.
    await page.getByRole('columnheader', { name: KEYS[0]! }).getByRole('button').click();
    await page.waitForURL((url) => url.toString() !== linked && VIEW_URL.test(url.toString()));
    await firstRow(page).getByRole('link', { name: 'view-run-2' }).waitFor();
    expect(page.url().length).toBeLessThan(2000);
    await page.reload();
    await firstRow(page).getByRole('link', { name: 'view-run-2' }).waitFor();
    await page.getByText('Columns (60)').waitFor();
    expect(await page.getByRole('columnheader', { name: KEYS[0]! }).getAttribute('aria-sort')).toBe(
      'descending',
    );

    // The link is the state: another user's fresh browser opens the same table.
    const other = await pageOf('bob');
    await other.goto(page.url());
    await firstRow(other).getByRole('link', { name: 'view-run-2' }).waitFor();
    await other.getByText('Columns (60)').waitFor();

    // Back under the limit, the state is in the URL again.
    await page.getByRole('columnheader', { name: KEYS[0]! }).getByRole('button').click();
    await page.waitForURL((url) => VIEW_URL.test(url.toString()) && url.toString() !== other.url());
    await page.goto(`${base}${runsPath()}?sort=${encodeURIComponent('attributes.run_name DESC')}`);
    await firstRow(page).getByRole('link', { name: 'view-run-2' }).waitFor();
    await page.getByRole('columnheader', { name: 'User' }).getByRole('button').click();
    await page.waitForURL(/\?sort=attributes.user_id/);
    expect(pageErrors).toEqual([]);
  });

  test('named views: a shared one is seen by another user in a fresh context, a personal one is not (G10)', async () => {
    const alice = await pageOf('alice');
    await alice.goto(`${base}${runsPath()}${longState()}`);
    await alice.waitForURL(VIEW_URL);
    await alice.getByRole('columnheader', { name: KEYS[1]! }).getByRole('button').click();
    await alice.waitForURL((url) => url.search.startsWith('?view=') && !url.toString().includes('cols='));
    await firstRow(alice).getByRole('link', { name: 'view-run-2' }).waitFor();

    const saveView = async (name: string, shared: boolean) => {
      const form = alice.getByRole('form', { name: 'Save this view' });
      await form.getByLabel('Name').fill(name);
      await form.getByLabel('Shared with everyone').setChecked(shared);
      await form.getByRole('button', { name: 'Save view' }).click();
      await alice
        .getByRole('list', { name: 'Saved views' })
        .getByRole('button', { name, exact: true })
        .waitFor();
    };
    await alice.getByText(/^Views/).click();
    await saveView('Team view', true);
    await saveView('My view', false);
    await screenshot(alice, 'views-menu');

    // Bob, in his own browser: the shared view only, which opens to Alice's table.
    const bob = await pageOf('bob');
    await bob.goto(`${base}${runsPath()}`);
    await firstRow(bob).getByRole('link', { name: 'view-run-2' }).waitFor();
    await bob.getByText(/^Views/).click();
    const bobsList = bob.getByRole('list', { name: 'Saved views' });
    await bobsList.getByRole('button', { name: 'Team view' }).waitFor();
    expect(await bobsList.getByRole('listitem').count()).toBe(1);
    expect(await bobsList.getByText('My view').count()).toBe(0);
    expect(await bobsList.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
    await bobsList.getByRole('button', { name: 'Team view' }).click();
    await bob.waitForURL(VIEW_URL);
    await bob.getByText('Columns (60)').waitFor();
    expect(await bob.getByRole('columnheader', { name: KEYS[1]! }).getAttribute('aria-sort')).toBe(
      'descending',
    );

    // Alice deletes her personal view; the compare page has its own views.
    await alice.getByRole('button', { name: 'Delete view My view' }).click();
    await alice
      .getByRole('list', { name: 'Saved views' })
      .getByText('My view')
      .waitFor({ state: 'detached' });
    await alice.goto(`${base}/compare?runs=${runIds.join(',')}`);
    await alice.getByRole('heading', { name: 'Compare 3 runs' }).waitFor();
    await alice.getByText(/^Views/).click();
    await alice.getByText('No saved views yet.').waitFor();
    expect(pageErrors).toEqual([]);
  });
});
