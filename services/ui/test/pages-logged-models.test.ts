import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { screenshot } from './browser.js';
import { checkUrlState, createExperiment, createRun, ok, startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(120_000);

const MODELS = [
  { name: 'forest', alpha: '0.1', accuracy: 0.91, ready: true },
  { name: 'linear', alpha: '0.5', accuracy: 0.72, ready: false },
  { name: 'boosted', alpha: '0.2', accuracy: 0.88, ready: true },
];

/**
 * P12, logged models (issue 14): an experiment's MLflow 3 logged models, logged through MLflow's REST
 * API, listed and opened in Chromium against a seeded `mast server`.
 */
describe('P12 logged models (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let experimentId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ui = await startUi();
    experimentId = await createExperiment(ui.http, 'models-fixtures');
    const runId = await createRun(ui.http, experimentId, 'trainer');
    for (const spec of MODELS) {
      const { model } = await ok<{ model: { info: { model_id: string } } }>(
        ui.http.post('/api/2.0/mlflow/logged-models', {
          experiment_id: experimentId,
          name: spec.name,
          model_type: 'sklearn',
          source_run_id: runId,
          params: [{ key: 'alpha', value: spec.alpha }],
          tags: [
            { key: 'team', value: 'risk' },
            { key: 'mlflow.user', value: 'ada' },
          ],
        }),
      );
      ids[spec.name] = model.info.model_id;
      await ok(
        ui.http.post('/api/2.0/mlflow/runs/log-batch', {
          run_id: runId,
          metrics: [
            {
              key: 'accuracy',
              value: spec.accuracy,
              timestamp: Date.now(),
              step: 0,
              model_id: model.info.model_id,
              dataset_name: 'eval',
            },
          ],
        }),
      );
      if (spec.ready)
        await ok(
          ui.http.request('PATCH', `/api/2.0/mlflow/logged-models/${model.info.model_id}`, {
            status: 'LOGGED_MODEL_READY',
          }),
        );
    }
  });
  afterAll(() => ui?.close());

  test('the list: models with status, source run, metrics and params; filter and sort in the URL', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    const table = main.getByRole('table', { name: 'Logged models' });
    // Reached from the runs table's tabs, as MLflow's Models tab.
    await page.goto(`${base}/experiments/${experimentId}/runs`);
    await page
      .getByRole('navigation', { name: 'Experiment views' })
      .getByRole('link', { name: 'Models' })
      .click();
    await page.waitForURL(`${base}/experiments/${experimentId}/models`);
    const forest = table.getByRole('row', { name: /^forest/ });
    await forest.waitFor();
    expect(await forest.getByRole('cell').allTextContents()).toEqual([
      'READY',
      'trainer',
      expect.any(String),
      '0.91',
      '0.1',
      'team: risk',
    ]);
    expect(
      await table
        .getByRole('row', { name: /^linear/ })
        .getByText('PENDING')
        .count(),
    ).toBe(1);
    expect(await table.getByRole('rowheader').allTextContents()).toHaveLength(3);

    // Sort by the metric, descending, through the URL.
    await table.getByRole('button', { name: 'accuracy' }).click();
    await page.waitForURL(/sort=metrics\.accuracy%3Adesc/);
    await page.reload();
    await table
      .getByRole('columnheader', { name: /accuracy/ })
      .and(page.locator('[aria-sort="descending"]'))
      .waitFor();
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['forest', 'boosted', 'linear']);

    // MLflow's filter grammar, kept across a reload.
    await page.getByRole('textbox', { name: 'Filter' }).fill("status = 'READY' and metrics.accuracy > 0.9");
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/filter=/);
    await page.reload();
    await main.getByRole('status').filter({ hasText: '1 model loaded' }).waitFor();
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['forest']);
    expect(await page.getByRole('textbox', { name: 'Filter' }).inputValue()).toBe(
      "status = 'READY' and metrics.accuracy > 0.9",
    );
    await screenshot(page, 'p12-logged-models');
    // A bad filter is the server's MLflow error, shown.
    await page.getByRole('textbox', { name: 'Filter' }).fill('metrics.accuracy >');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'INVALID_PARAMETER_VALUE' }).waitFor();
  });

  test('the details: attributes, metrics with their dataset, params, tags; the tag toggle in the URL', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    await page.goto(`${base}/experiments/${experimentId}/models`);
    await main.getByRole('link', { name: 'boosted' }).click();
    await page.waitForURL(`${base}/experiments/${experimentId}/models/${ids.boosted}`);
    await main.getByRole('heading', { name: 'boosted', level: 1 }).waitFor();
    expect(await main.getByText(ids.boosted!, { exact: true }).count()).toBe(1);
    await main.getByRole('link', { name: 'trainer' }).waitFor();
    expect(
      await main
        .getByRole('table', { name: 'Metrics' })
        .getByRole('row', { name: /^accuracy/ })
        .getByRole('cell')
        .allTextContents(),
    ).toEqual(['0.88', '0', 'eval', expect.any(String)]);
    await main
      .getByRole('table', { name: 'Parameters' })
      .getByRole('row', { name: /alpha\s+0\.2/ })
      .waitFor();
    const tags = main.getByRole('table', { name: 'Tags' });
    expect(await tags.getByRole('row', { name: /mlflow\.user/ }).count()).toBe(0);
    await checkUrlState(page.getByLabel("Show MLflow's own tags (mlflow.*)"));
    await page.waitForURL(/internal=1/);
    await page.reload();
    await tags.getByRole('row', { name: /mlflow\.user\s+ada/ }).waitFor();
    await screenshot(page, 'p12-logged-model');
    // The overview tab is the same page; an unknown model says so.
    await page.goto(`${base}/experiments/${experimentId}/models/${ids.linear}/overview`);
    await main.getByRole('heading', { name: 'linear', level: 1 }).waitFor();
    await page.goto(`${base}/experiments/${experimentId}/models/m-00000000000000000000000000000000`);
    await page.getByRole('alert').filter({ hasText: 'RESOURCE_DOES_NOT_EXIST' }).waitFor();
    expect(ui.pageErrors).toEqual([]);
  });

  test("the artifacts tab: the model's files (ListLoggedModelArtifacts' listing), a preview, a download", async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    const { model } = await ok<{ model: { info: { artifact_uri: string } } }>(
      ui.http.get(`/api/2.0/mlflow/logged-models/${ids.forest}`),
    );
    const root = model.info.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const [path, body] of [
      ['MLmodel', 'artifact_path: model\nflavors:\n  sklearn: {}\n'],
      ['data/model.pkl', 'pickled bytes'],
    ] as const) {
      await ok(
        ui.http.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, body, {
          'content-type': 'application/octet-stream',
        }),
      );
    }
    await page.goto(`${base}/experiments/${experimentId}/models/${ids.forest}`);
    await page
      .getByRole('navigation', { name: 'Model sections' })
      .getByRole('link', { name: 'Artifacts' })
      .click();
    await page.waitForURL(`${base}/experiments/${experimentId}/models/${ids.forest}/artifacts`);
    const files = main.getByRole('region', { name: 'Artifact files' });
    await files.getByRole('link', { name: 'MLmodel' }).waitFor();
    expect(await files.getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^MLmodel\s+\d+ B$/),
      expect.stringMatching(/^📁 data/),
    ]);
    await files.getByRole('link', { name: 'MLmodel' }).click();
    await page.waitForURL(/\/artifacts\/MLmodel$/);
    const preview = main.getByRole('region', { name: 'Preview of MLmodel' });
    expect(await preview.getByTestId('artifact-text').textContent()).toBe(
      'artifact_path: model\nflavors:\n  sklearn: {}\n',
    );
    // A nested file of a directory, by its URL; the download serves its bytes.
    await page.goto(`${base}/experiments/${experimentId}/models/${ids.forest}/artifacts/data/model.pkl`);
    const download = main.getByRole('region', { name: 'Preview of data/model.pkl' }).getByRole('link', {
      name: 'Download',
    });
    const href = await download.getAttribute('href');
    expect(await (await fetch(new URL(href!, base))).text()).toBe('pickled bytes');
    await main
      .getByRole('navigation', { name: 'Artifact path' })
      .getByRole('link', { name: 'data' })
      .waitFor();
    await screenshot(page, 'p12-logged-model-artifacts');
    expect(ui.pageErrors).toEqual([]);
  });
});
