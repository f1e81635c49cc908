import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { screenshot, seriousAxeViolations } from './browser.js';
import { checkUrlState, createExperiment, createRun, startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(120_000);

/** 600 steps of `loss` (3 chunk summaries): high at first, lowest mid-way, ending at `last`. */
function lossHistory(offset: number, last: number) {
  return Array.from({ length: 600 }, (_, step) => ({
    key: 'loss',
    step,
    value: step === 0 ? 9 + offset : step === 300 ? 0.01 + offset : step === 599 ? last : 1 + offset,
  }));
}

/**
 * Issue 14, P2 and P3 of ui.md §5.3: the experiments list's folder tree (from `/`-separated names, with
 * experiment and run counts, the folder in the URL), the runs table's min/max/mean/count metric columns
 * (from `Run.metricStats`) and the column picker's glob, `/regex/`, "only columns that vary" and "hide
 * empty columns". Every state survives a reload. All-in-one server on PostgreSQL, Debian's Chromium.
 */
describe('experiment folders and runs table columns (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let page: Page;
  let tableId: string;

  beforeAll(async () => {
    ui = await startUi();
    page = ui.page;
    const { http } = ui;
    const bert = await createExperiment(http, 'team/nlp/bert');
    await createExperiment(http, 'team/nlp/gpt-v1.2');
    await createExperiment(http, 'team/vision/resnet');
    await createExperiment(http, '/Users/me/scratch');
    tableId = await createExperiment(http, 'team/tables');
    await createRun(http, bert, 'bert-1');
    await createRun(http, bert, 'bert-2');
    await createRun(http, tableId, 'run-a', {
      params: { lr: '0.1', model: 'lr' },
      metrics: [...lossHistory(0, 0.5), { key: 'val_loss', value: 0.7 }, { key: 'val_acc', value: 0.8 }],
    });
    await createRun(http, tableId, 'run-b', {
      params: { lr: '0.1', model: 'tree' },
      metrics: [...lossHistory(1, 2), { key: 'val_loss', value: 0.6 }, { key: 'acc', value: 0.9 }],
    });
  });
  afterAll(async () => {
    expect(ui?.pageErrors).toEqual([]);
    await ui?.close();
  });

  const main = () => page.getByRole('main');
  const folders = () => page.getByRole('navigation', { name: 'Folders' });
  const grid = () => page.getByRole('table', { name: 'Runs' });
  const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text });

  /** The text of a run's cell under the column headed `header`. */
  async function cell(run: string, header: string): Promise<string> {
    const column = await grid()
      .getByRole('columnheader', { name: header, exact: true })
      .getAttribute('aria-colindex');
    const row = grid()
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: run, exact: true }) });
    return (await row.locator(`[role=cell][aria-colindex="${column}"]`).textContent()) ?? '';
  }

  async function openPicker(): Promise<Locator> {
    await page.getByText(/^Columns \(/).click();
    return page.locator('.picker-panel');
  }

  test('P2 folders: tree with counts, the chosen folder in the URL lists its experiments, after a reload too', async () => {
    await page.goto(`${ui.base}/experiments`);
    await folders().getByRole('button', { name: 'team', exact: true }).waitFor();
    // team/nlp (2), team/vision (1), team/tables: 4 experiments, 4 runs.
    await folders().getByTitle('4 experiments, 4 runs').waitFor();
    await folders().getByRole('button', { name: 'Users', exact: true }).waitFor();
    await main().getByRole('link', { name: 'Default' }).waitFor();

    await folders().getByRole('button', { name: 'team', exact: true }).click();
    await page.waitForURL(/\?folder=team$/);
    // The count names the folder only once its list has arrived (the unfiltered one shows until then).
    await page.getByText('1 experiment in team', { exact: true }).waitFor();
    await main().getByRole('link', { name: 'team/tables' }).waitFor();
    expect(await main().getByRole('link', { name: 'team/nlp/bert' }).count()).toBe(0);

    await folders().getByRole('button', { name: 'Subfolders of team' }).click();
    await folders().getByRole('button', { name: 'nlp', exact: true }).click();
    await page.waitForURL(/\?folder=team%2Fnlp$/);
    await page.reload();
    await main().getByRole('link', { name: 'team/nlp/bert' }).waitFor();
    await main().getByRole('link', { name: 'team/nlp/gpt-v1.2' }).waitFor();
    expect(await main().getByRole('link', { name: 'team/tables' }).count()).toBe(0);
    expect(await main().getByRole('link', { name: 'Default' }).count()).toBe(0);
    // The tree opens on the chosen folder.
    const nlp = folders().getByRole('button', { name: 'nlp', exact: true });
    expect(await nlp.getAttribute('aria-current')).toBe('true');
    expect(
      await folders().getByRole('button', { name: 'Subfolders of team' }).getAttribute('aria-expanded'),
    ).toBe('true');
    await page.getByText('2 experiments in team/nlp').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'p2-folders');

    await folders().getByRole('button', { name: 'All experiments' }).click();
    await page.waitForURL(/\/experiments$/);
    await main().getByRole('link', { name: 'Default' }).waitFor();
  });

  test('P3 min/max/mean/count columns from the whole history, in the URL; not sortable, said in the header', async () => {
    await page.goto(`${ui.base}/experiments/${tableId}/runs?cols=m:loss`);
    await grid().getByRole('link', { name: 'run-a' }).waitFor();
    const picker = await openPicker();
    await checkUrlState(picker.getByRole('checkbox', { name: 'loss (min)', exact: true }));
    await checkUrlState(picker.getByRole('checkbox', { name: 'loss (max)', exact: true }));
    await checkUrlState(picker.getByRole('checkbox', { name: 'loss (mean)', exact: true }));
    await checkUrlState(picker.getByRole('checkbox', { name: 'loss (count)', exact: true }));
    await page.waitForURL(
      /cols=m%3Aloss%2Cm%3Aloss%40min%2Cm%3Aloss%40max%2Cm%3Aloss%40mean%2Cm%3Aloss%40count/,
    );
    await page.reload();
    await grid().getByRole('columnheader', { name: 'loss (count)' }).waitFor();
    expect(await cell('run-a', 'loss')).toBe('0.5');
    expect(await cell('run-a', 'loss (min)')).toBe('0.01');
    expect(await cell('run-a', 'loss (max)')).toBe('9');
    expect(await cell('run-a', 'loss (count)')).toBe('600');
    // (9 + 0.01 + 0.5 + 597 × 1) / 600
    expect(await cell('run-a', 'loss (mean)')).toBe(
      String(Number(((9 + 0.01 + 0.5 + 597) / 600).toPrecision(6))),
    );
    expect(await cell('run-b', 'loss (min)')).toBe('1.01');
    expect(await cell('run-b', 'loss (max)')).toBe('10');

    const minHeader = grid().getByRole('columnheader', { name: 'loss (min)' });
    expect(await minHeader.getAttribute('title')).toContain('not sortable');
    expect(await minHeader.getByRole('button').count()).toBe(0);
    expect(await minHeader.getAttribute('aria-sort')).toBeNull();
    // The latest value sorts through MLflow's order_by.
    await grid().getByRole('columnheader', { name: 'loss', exact: true }).getByRole('button').click();
    await page.waitForURL(/sort=metrics/);
    await grid().getByRole('row').nth(1).getByRole('link', { name: 'run-b' }).waitFor();
    await screenshot(page, 'p3-metric-stats');
  });

  test('P3 column picker: glob, /regex/ and substring key filters; add matching; bad regex reported', async () => {
    await page.goto(`${ui.base}/experiments/${tableId}/runs?cols=p:lr`);
    await grid().getByRole('link', { name: 'run-a' }).waitFor();
    const picker = await openPicker();
    const metrics = picker.getByRole('group', { name: 'Metrics' });
    const find = picker.getByLabel('Find keys');
    const shownMetrics = async () =>
      (await metrics.locator('.picker-metric > label:first-child').allTextContents()).map((t) => t.trim());

    await find.fill('val_*');
    expect(await shownMetrics()).toEqual(['val_acc', 'val_loss']);
    await find.fill('/^(acc|loss)$/');
    expect(await shownMetrics()).toEqual(['acc', 'loss']);
    await find.fill('LOSS');
    expect(await shownMetrics()).toEqual(['loss', 'val_loss']);
    await find.fill('/(/');
    await picker.getByRole('alert').waitFor();
    expect(await shownMetrics()).toEqual([]);

    await find.fill('val_*');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await picker.getByRole('button', { name: 'Add 2 matching' }).click();
    await page.waitForURL(/cols=p%3Alr%2Cm%3Aval_acc%2Cm%3Aval_loss/);
    await page.reload();
    await grid().getByRole('columnheader', { name: 'val_acc' }).waitFor();
    expect(await cell('run-a', 'val_loss')).toBe('0.7');
  });

  test('P3 column picker: "only columns that vary" and "hide empty columns" over the loaded runs, in the URL', async () => {
    // `lr` is the same in both runs, `ghost` in none, `acc` in one.
    await page.goto(`${ui.base}/experiments/${tableId}/runs?cols=p:lr,p:model,p:ghost,m:acc`);
    await grid().getByRole('columnheader', { name: 'ghost' }).waitFor();
    const picker = await openPicker();
    await checkUrlState(picker.getByLabel('Hide empty columns'));
    await page.waitForURL(/nonempty=1/);
    await status('1 columns hidden').waitFor();
    expect(await grid().getByRole('columnheader', { name: 'ghost' }).count()).toBe(0);
    expect(await grid().getByRole('columnheader', { name: 'lr' }).count()).toBe(1);

    await checkUrlState(picker.getByLabel('Only columns that vary'));
    await page.waitForURL(/vary=1/);
    await page.reload();
    await status('2 columns hidden').waitFor();
    await grid().getByRole('columnheader', { name: 'model' }).waitFor();
    await grid().getByRole('columnheader', { name: 'acc' }).waitFor();
    expect(await grid().getByRole('columnheader', { name: 'lr' }).count()).toBe(0);
    expect(await grid().getByRole('columnheader', { name: 'ghost' }).count()).toBe(0);
    // Attributes always stay.
    await grid().getByRole('columnheader', { name: 'Status' }).waitFor();
    await screenshot(page, 'p3-vary');
  });
});
