import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { SCREENSHOTS, screenshot, seriousAxeViolations } from './browser.js';
import { createExperiment, createRun, startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(120_000);

/** Metric keys of the wide run (ui.md fixture F3: 2,000 keys; here × 3 steps). */
const WIDE_KEYS = 2_000;
const WIDE_STEPS = 3;
const LOSS_STEPS = 200;

/**
 * P4, the chart workspace (issue 14): one card per metric key of an experiment, for its newest runs or
 * those chosen, with sections, a key filter, a global x-axis and smoothing in the URL; the card grid is
 * virtualised (ui.md goal G7: at most 30 cards mounted with 2,000 keys, measured while scrolling the
 * whole grid in Chromium).
 */
describe('P4 chart workspace (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let experimentId: string;
  let runIds: string[];

  beforeAll(async () => {
    ui = await startUi();
    experimentId = await createExperiment(ui.http, 'charts-fixtures');
    const start = Date.now() - 3_600_000;
    runIds = [];
    for (let r = 0; r < 3; r++) {
      runIds.push(
        await createRun(ui.http, experimentId, `trial-${r}`, {
          startTime: start + r * 1000,
          params: { lr: String(0.1 / 10 ** r), optimizer: 'adam' },
          metrics: [
            ...Array.from({ length: LOSS_STEPS }, (_, step) => ({
              key: 'loss',
              // Run 1 has a one-step spike of 50 at step 120.
              value: r === 1 && step === 120 ? 50 : 1 / (step + 1 + r),
              step,
              timestamp: start + r * 1000 + step * 500,
            })),
            ...Array.from({ length: 20 }, (_, step) => ({ key: 'train/acc', value: step / 20, step })),
            { key: 'system/cpu_utilization_percentage', value: 40 + r, step: 0 },
          ],
        }),
      );
    }
    const seeding = Date.now();
    await createRun(ui.http, experimentId, 'wide-run', {
      startTime: start + 10_000,
      metrics: Array.from({ length: WIDE_KEYS * WIDE_STEPS }, (_, i) => ({
        key: `feature_${String(i % WIDE_KEYS).padStart(4, '0')}`,
        value: i % 7,
        step: Math.floor(i / WIDE_KEYS),
      })),
    });
    console.log(
      `seeded a run of ${WIDE_KEYS} metric keys × ${WIDE_STEPS} steps in ${Date.now() - seeding} ms`,
    );
  });
  afterAll(() => ui?.close());

  test('cards of the chosen runs, sections, key filter, x-axis and smoothing live in the URL', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    // The runs table's selection opens the chart view of those runs.
    await page.goto(`${base}/experiments/${experimentId}/runs?sel=${runIds[0]},${runIds[1]}`);
    await page
      .getByRole('navigation', { name: 'Experiment views' })
      .getByRole('link', { name: 'Chart view' })
      .click();
    await page.waitForURL(`${base}/experiments/${experimentId}/charts?runs=${runIds[0]},${runIds[1]}`);
    const legend = main.getByRole('list', { name: 'Charted runs' }).getByRole('listitem');
    await legend.nth(1).waitFor();
    expect(await legend.allTextContents()).toEqual(['trial-0', 'trial-1']);
    // The key filter (here a regex) is URL state; the wide run's 2,000 keys are filtered out.
    await page.getByLabel('Metrics', { exact: true }).fill('/^(loss|train/acc)$/');
    await page.getByRole('button', { name: 'Filter' }).click();
    await main
      .getByRole('status')
      .filter({ hasText: `2 of ${WIDE_KEYS + 3} metrics · 2 runs` })
      .waitFor();
    const loss = page.locator('[data-card="loss"] [data-state="ready"]');
    await loss.waitFor();
    expect(await loss.getAttribute('data-series-count')).toBe('2');
    // The spike survives the server's buckets (each bucket keeps its max).
    expect(Number(await loss.getAttribute('data-max'))).toBe(50);
    expect(await loss.locator('canvas').count()).toBeGreaterThan(0);

    // x-axis and smoothing: URL state that survives a reload.
    await page.getByLabel('X-axis').selectOption('relative');
    await page.waitForURL(/x=relative/);
    await page.getByLabel('Smoothing').fill('0.6');
    await page.waitForURL(/smooth=0\.6/);
    await page.reload();
    await page.locator('[data-card="loss"] [data-state="ready"]').waitFor();
    expect(await page.getByLabel('X-axis').inputValue()).toBe('relative');
    expect(await page.getByLabel('Metrics', { exact: true }).inputValue()).toBe('/^(loss|train/acc)$/');
    expect(await main.locator('output').textContent()).toBe('0.60');
    expect(
      await page.getByRole('img', { name: 'loss of 2 runs by seconds since the run started' }).count(),
    ).toBe(1);
    // Sections by key prefix: `train/acc` is under "train", and a collapsed section stays collapsed.
    await page.locator('[data-card="train/acc"] [data-state="ready"]').waitFor();
    await page.getByRole('button', { name: /train/, expanded: true }).click();
    await page.waitForURL(/collapsed=train/);
    await page.reload();
    await page.getByRole('button', { name: /train/, expanded: false }).waitFor();
    expect(await page.locator('[data-card]').count()).toBe(1);
    await screenshot(page, 'p4-charts');

    // Without a choice: the newest 10 runs (here all 4).
    await page.goto(`${base}/experiments/${experimentId}/charts?q=loss`);
    await main
      .getByRole('status')
      .filter({ hasText: `1 of ${WIDE_KEYS + 3} metrics · 4 runs` })
      .waitFor();
    expect(
      await page.locator('[data-card="loss"] [data-state="ready"]').getAttribute('data-series-count'),
    ).toBe('3');
  });

  test('added cards (bar, scatter, parallel coordinates, difference table) live in the URL and are removable', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    await page.goto(`${base}/experiments/${experimentId}/charts?runs=${runIds.join(',')}&q=loss`);
    const addChart = main.getByRole('form', { name: 'Add chart' });
    await addChart.waitFor();
    async function add(type: string, keys: Record<string, string> = {}) {
      await addChart.getByLabel('Chart type').selectOption(type);
      for (const [label, key] of Object.entries(keys))
        await addChart.getByLabel(label, { exact: true }).selectOption(key);
      await addChart.getByRole('button', { name: 'Add chart' }).click();
    }
    await add('bar', { Metric: 'm:loss' });
    await add('scatter', { X: 'p:lr', Y: 'm:loss' });
    await add('parallel');
    await add('diff');
    const cardsParam = () => new URL(page.url()).searchParams.get('cards');
    expect(cardsParam()).toBe('bar:m:loss,scatter:p:lr:m:loss,parallel,diff');

    async function checkCards() {
      // One bar per charted run, at the run's latest loss (1 / (200 + r) for run r).
      const bars = main.getByRole('list', { name: 'loss: latest value per run' });
      expect(await bars.getAttribute('data-bars')).toBe('3');
      expect(await bars.locator('.bar-value').allTextContents()).toEqual(['0.005', '0.004975', '0.00495']);
      expect(await main.getByTestId('scatter-plot').getAttribute('data-points')).toBe('3');
      // Parallel coordinates over the keys that differ, every run highlighted (no brush).
      expect(
        await main
          .locator('[data-added-card="parallel"] [data-highlighted]')
          .getAttribute('data-highlighted'),
      ).toBe('3');
      // Only the rows that differ: lr, the latest loss and CPU; not optimizer or train/acc.
      const rows = main.locator('[data-added-card="diff"] tbody th');
      expect(await rows.allTextContents()).toEqual(['m:loss', 'm:system/cpu_utilization_percentage', 'p:lr']);
    }
    await checkCards();
    await page.reload();
    await main.locator('[data-added-card]').nth(3).waitFor();
    await checkCards();
    await screenshot(page, 'p4-charts-added-cards');
    // G15 with the added cards on screen (accessibility.test.ts checks P4 without them).
    expect(await seriousAxeViolations(page)).toEqual([]);

    await main.getByRole('button', { name: 'Remove loss (latest)' }).click();
    await main.locator('[data-added-card="bar"]').waitFor({ state: 'detached' });
    expect(cardsParam()).toBe('scatter:p:lr:m:loss,parallel,diff');
    expect(await main.locator('[data-added-card]').count()).toBe(3);
    expect(ui.pageErrors).toEqual([]);
  });

  test(`G7: ${WIDE_KEYS + 3} cards, at most 30 mounted while scrolling the whole grid (figures printed)`, async () => {
    const { page, base } = ui;
    // Scripts run in the page are strings: the tests are type-checked without the DOM library.
    await page.addInitScript(`(() => {
      const tasks = (window.__longTasks = []);
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) tasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
    })()`);
    const requests: string[] = [];
    page.on('request', (request) => {
      if (request.postData()?.includes('query CardSeries')) requests.push(request.url());
    });
    await page.goto(`${base}/experiments/${experimentId}/charts`);
    await page.locator('[data-card] [data-state="ready"]').first().waitFor();
    // Two screens per step, two animation frames each (the virtualiser's scroll handler, then paint):
    // a fast scroll, driven in the page so that the test's round trips do not slow it down.
    const started = Date.now();
    const { maxMounted, steps } = await page.evaluate<{ maxMounted: number; steps: number }>(`(async () => {
      const frame = () => new Promise(requestAnimationFrame);
      let most = 0;
      let count = 0;
      while (window.scrollY + window.innerHeight < document.body.scrollHeight - 2 && count < 2000) {
        window.scrollBy(0, 2 * window.innerHeight);
        await frame();
        await frame();
        most = Math.max(most, document.querySelectorAll('[data-card]').length);
        count += 1;
      }
      return { maxMounted: most, steps: count };
    })()`);
    const scrolled = Date.now() - started;
    // The bottom of the grid is reached: the system metrics section's card, with its data.
    await page.locator('[data-card="system/cpu_utilization_percentage"] [data-state="ready"]').waitFor();
    const mountedAtEnd = await page.locator('[data-card]').count();
    const longTasks = await page.evaluate<number[]>('window.__longTasks');
    // Chromium's performance.memory (coarse, but enough against a 400 MB bound).
    const heap = await page.evaluate<number>('performance.memory?.usedJSHeapSize ?? 0');
    console.log(
      `G7: ${WIDE_KEYS + 3} cards scrolled top to bottom in ${steps} steps of two screens (${scrolled} ms): at most ${maxMounted} cards mounted (${mountedAtEnd} at the end), ${requests.length} card series requests, ${longTasks.length} long tasks (longest ${Math.max(0, ...longTasks).toFixed(0)} ms), JS heap ${(heap / 1024 / 1024).toFixed(1)} MB (goal: <= 30 cards, no long task > 200 ms, heap < 400 MB)`,
    );
    expect(maxMounted).toBeLessThanOrEqual(30);
    expect(maxMounted).toBeGreaterThan(3);
    expect(steps).toBeGreaterThan(50);
    // Most cards were scrolled past before they asked for their series.
    expect(requests.length).toBeLessThan(WIDE_KEYS / 2);
    // Not a full-page screenshot: the grid is over 200,000 px tall.
    await page.screenshot({ path: `${SCREENSHOTS}/p4-charts-bottom.png` });
    expect(ui.pageErrors).toEqual([]);
  });
});
