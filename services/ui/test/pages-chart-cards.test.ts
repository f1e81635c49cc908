import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { screenshot, seriousAxeViolations } from './browser.js';
import { createExperiment, createRun, ok, startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(120_000);

/** A 1×1 PNG: the image grid's files must decode. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * Six runs whose numbers the cards' answers follow from: loss = 1 − lr exactly (r = −1), batch splits
 * the runs as optimizer does (r ≈ −0.88), dropout barely matters (r ≈ −0.24).
 */
const RUNS = [
  { optimizer: 'adam', lr: '0.1', batch: '16', dropout: '0.1', loss: 0.9 },
  { optimizer: 'adam', lr: '0.2', batch: '16', dropout: '0.3', loss: 0.8 },
  { optimizer: 'adam', lr: '0.3', batch: '16', dropout: '0.2', loss: 0.7 },
  { optimizer: 'sgd', lr: '0.4', batch: '64', dropout: '0.2', loss: 0.6 },
  { optimizer: 'sgd', lr: '0.5', batch: '64', dropout: '0.1', loss: 0.5 },
  { optimizer: 'sgd', lr: '0.6', batch: '64', dropout: '0.3', loss: 0.4 },
];

/** `mlflow.log_image(image, key=, step=)`'s file name (its JSON metadata file is written beside it). */
const loggedImage = (key: string, step: number, extension = 'png') =>
  `images/${key.replaceAll('/', '#')}%step%${step}%timestamp%${1_700_000_000_000 + step}%0f8e7d6c-5b4a-4321-9876-fedcba98765${step}.${extension}`;

/**
 * P4's box plot, contour, parameter importance and image grid cards (and P7's box and contour plots),
 * on runs whose statistics are known: each card shows the numbers that follow from the seeded values.
 */
describe('P4 box, contour, importance and image cards; P7 box and contour (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let experimentId: string;
  let runIds: string[];

  beforeAll(async () => {
    ui = await startUi();
    experimentId = await createExperiment(ui.http, 'chart-cards');
    runIds = [];
    const start = Date.now() - 3_600_000;
    for (const [i, { loss, ...params }] of RUNS.entries())
      runIds.push(
        await createRun(ui.http, experimentId, `trial-${i}`, {
          startTime: start + i * 1000,
          params,
          metrics: [{ key: 'loss', value: loss }],
        }),
      );
    // Images as MLflow's client uploads them through the artifact proxy (file names URL-encoded: `%`).
    // A key with `/` (written `#`) cannot go through the proxy: MLflow's servers refuse `#` in paths.
    const put = async (runId: string, path: string, body: Buffer) => {
      const { run } = await ok<{ run: { info: { artifact_uri: string } } }>(
        ui.http.get('/api/2.0/mlflow/runs/get', { run_id: runId }),
      );
      const root = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
      const encoded = path.split('/').map(encodeURIComponent).join('/');
      const response = await fetch(`${ui.base}/api/2.0/mlflow-artifacts/artifacts/${root}/${encoded}`, {
        method: 'PUT',
        body,
      });
      if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    };
    for (const step of [0, 1, 2]) {
      await put(runIds[0]!, loggedImage('samples', step), PNG);
      await put(runIds[0]!, loggedImage('samples', step, 'json'), Buffer.from('{}'));
    }
    await put(runIds[1]!, loggedImage('samples', 1), PNG);
    // An image logged the old way: any image file among the artifacts.
    await put(runIds[1]!, 'plots/roc.png', PNG);
  });
  afterAll(() => ui?.close());

  test('cards added from "Add chart" show the known statistics and images, and live in the URL', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    const images: Array<{ url: string; status: number }> = [];
    page.on('response', (response) => {
      if (response.url().includes('.png')) images.push({ url: response.url(), status: response.status() });
    });
    await page.goto(`${base}/experiments/${experimentId}/charts?runs=${runIds.join(',')}&q=loss`);
    const addChart = main.getByRole('form', { name: 'Add chart' });
    await addChart.waitFor();
    async function add(type: string, keys: Record<string, string> = {}) {
      await addChart.getByLabel('Chart type').selectOption(type);
      for (const [label, key] of Object.entries(keys))
        await addChart.getByLabel(label, { exact: true }).selectOption(key);
      await addChart.getByRole('button', { name: 'Add chart' }).click();
    }
    await add('box', { Value: 'm:loss', 'Group by': 'p:optimizer' });
    await add('contour', { X: 'p:lr', Y: 'p:batch', Z: 'm:loss' });
    await add('importance', { Metric: 'm:loss' });
    await add('images');
    const cardsParam = () => new URL(page.url()).searchParams.get('cards');
    expect(cardsParam()).toBe('box:m:loss:p:optimizer,contour:p:lr:p:batch:m:loss,importance:m:loss,images');

    async function checkCards(step: number) {
      // Box plot: adam's losses 0.9, 0.8, 0.7 and sgd's 0.6, 0.5, 0.4.
      const box = main.locator('[data-added-card="box"]');
      expect(await box.getByTestId('box-plot').getAttribute('data-boxes')).toBe('2');
      expect(await box.locator('[data-group="adam"] [data-median]').textContent()).toBe('0.8');
      expect(await box.locator('[data-group="sgd"] [data-median]').textContent()).toBe('0.5');
      expect(await box.locator('[data-group="sgd"] td').allTextContents()).toEqual([
        '3',
        '0.4',
        '0.45',
        '0.5',
        '0.55',
        '0.6',
        '0',
      ]);
      // Contour: six runs on two batch values, gridded, coloured from 0.4 to 0.9.
      const contour = main.getByTestId('contour-plot');
      expect(await contour.getAttribute('data-points')).toBe('6');
      expect(await contour.getAttribute('data-grid')).toBe('48x48');
      expect(await contour.getAttribute('data-z-min')).toBe('0.4');
      expect(await contour.getAttribute('data-z-max')).toBe('0.9');
      // Importance: lr (r = −1), then batch, then dropout; optimizer is categorical.
      const importance = main.getByRole('list', {
        name: 'Parameter importance for loss: correlation per param',
      });
      const params = importance.locator('[data-param]');
      expect(
        await params.evaluateAll((items) => items.map((item) => item.getAttribute('data-param'))),
      ).toEqual(['lr', 'batch', 'dropout']);
      expect(await importance.locator('.bar-value').allTextContents()).toEqual(['−1.00', '−0.88', '−0.24']);
      // Image grid: two keys (log_image's, and the old-style file), the step's image per run.
      const grid = main.locator('[data-added-card="images"] .image-grid');
      await grid.waitFor();
      expect(await grid.getAttribute('data-keys')).toBe('2');
      expect(await grid.getAttribute('data-steps')).toBe('3');
      const samples = grid.locator('td[data-image-key="samples"]');
      expect(
        await samples.evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-step'))),
      ).toEqual([String(step), step >= 1 ? '1' : null, null, null, null, null]);
      const image = grid.getByRole('img', { name: `samples of trial-0 at step ${step}` });
      // Grid images load lazily: bring it on screen.
      await image.scrollIntoViewIfNeeded();
      await expect(image.evaluate((img: any) => img.decode().then(() => img.naturalWidth))).resolves.toBe(1);
      expect(await grid.getByRole('img', { name: 'plots/roc.png of trial-1' }).count()).toBe(1);
    }
    await checkCards(2);
    // The step slider picks step 0: trial-1's image (logged at step 1) is not there yet.
    await main.getByLabel('Step', { exact: true }).fill('0');
    await page.waitForURL(/images%3A0|images:0/);
    expect(cardsParam()).toBe(
      'box:m:loss:p:optimizer,contour:p:lr:p:batch:m:loss,importance:m:loss,images:0',
    );
    await main.getByRole('img', { name: 'samples of trial-0 at step 0' }).waitFor();
    await checkCards(0);
    // Every image the grid asked for was served (the `%`-named files of log_image included).
    expect(images.length).toBeGreaterThanOrEqual(3);
    expect(images.filter((image) => image.status !== 200)).toEqual([]);
    expect(images.some((image) => image.url.includes('step%25'))).toBe(true);
    await page.reload();
    await main.locator('[data-added-card="images"] .image-grid').waitFor();
    await checkCards(0);
    // After the reload the browser revalidates its copies (304).
    expect(images.filter((image) => image.status !== 200 && image.status !== 304)).toEqual([]);
    await screenshot(page, 'p4-charts-box-contour-importance-images');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(ui.pageErrors).toEqual([]);
  });

  test('the compare page plots the runs as a box plot and a contour', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    await page.goto(`${base}/compare?runs=${runIds.join(',')}&bg=p:optimizer&cx=p:lr&cy=p:batch`);
    const box = main.getByTestId('box-plot');
    await box.waitFor();
    expect(await main.getByLabel('Box plot value').inputValue()).toBe('m:loss');
    expect(await main.locator('.box-stats [data-group="adam"] [data-median]').textContent()).toBe('0.8');
    const contour = main.getByTestId('contour-plot');
    expect(await contour.getAttribute('data-points')).toBe('6');
    expect(await contour.getAttribute('data-grid')).toBe('48x48');
    // One box over all runs: the median of the six losses.
    await main.getByLabel('Box plot group').selectOption('none');
    await page.waitForURL(/bg=none/);
    expect(await main.locator('.box-stats [data-group=""] [data-median]').textContent()).toBe('0.65');
    await screenshot(page, 'p7-compare-box-contour');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(ui.pageErrors).toEqual([]);
  });
});
