import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { screenshot } from './browser.js';
import {
  checkUrlState,
  createExperiment,
  createRun,
  ok,
  putRunArtifact,
  startUi,
  type UiFixture,
} from './pages-fixture.js';

jest.setTimeout(120_000);

const MODEL = 'churn-model';

/** An MLmodel file with a signature, as MLflow writes it (each list a JSON string). */
function mlmodel(inputs: object[], outputs: object[]): string {
  return [
    'flavors:',
    '  python_function: {}',
    'signature:',
    `  inputs: '${JSON.stringify(inputs)}'`,
    `  outputs: '${JSON.stringify(outputs)}'`,
    '  params: null',
    '',
  ].join('\n');
}

/**
 * P11, compare model versions (issue 14): three versions of a registered model whose source runs, tags
 * and signatures partly differ, compared side by side in Chromium against a seeded `mast server`.
 */
describe('P11 compare model versions (all-in-one, PostgreSQL, Chromium)', () => {
  let ui: UiFixture;
  let runIds: string[];

  beforeAll(async () => {
    ui = await startUi();
    const experimentId = await createExperiment(ui.http, 'versions-fixtures');
    runIds = [];
    for (const [i, lr] of ['0.1', '0.1', '0.01'].entries()) {
      runIds.push(
        await createRun(ui.http, experimentId, `train-${i + 1}`, {
          params: { lr, depth: String(4 + i) },
          metrics: [{ key: 'auc', value: 0.8 + i / 100 }],
          tags: { team: 'risk' },
        }),
      );
    }
    const income = { type: 'double', name: 'income', required: true };
    await putRunArtifact(ui.http, runIds[0]!, 'model/MLmodel', mlmodel([income], [{ type: 'long' }]));
    await putRunArtifact(
      ui.http,
      runIds[1]!,
      'model/MLmodel',
      mlmodel([income, { type: 'string', name: 'region', required: false }], [{ type: 'long' }]),
    );
    await putRunArtifact(ui.http, runIds[2]!, 'model/MLmodel', 'flavors:\n  python_function: {}\n');
    await ok(ui.http.post('/api/2.0/mlflow/registered-models/create', { name: MODEL }));
    for (const runId of runIds) {
      await ok(
        ui.http.post('/api/2.0/mlflow/model-versions/create', {
          name: MODEL,
          source: `runs:/${runId}/model`,
          run_id: runId,
          tags: [{ key: 'validated', value: runId === runIds[2] ? 'no' : 'yes' }],
        }),
      );
    }
  });
  afterAll(() => ui?.close());

  test('versions, their runs and schemas side by side; differences highlighted and filtered in the URL', async () => {
    const { page, base } = ui;
    const main = page.getByRole('main');
    // Linked from the model page: select versions, then Compare.
    await page.goto(`${base}/models/${MODEL}`);
    await checkUrlState(page.getByLabel('Select version 1'));
    await checkUrlState(page.getByLabel('Select version 2'));
    await checkUrlState(page.getByLabel('Select version 3'));
    await page.getByRole('link', { name: 'Compare 3 versions' }).click();
    await page.waitForURL(`${base}/models/${MODEL}/compare?versions=1,2,3`);
    await main.getByRole('heading', { name: `Compare 3 versions of ${MODEL}` }).waitFor();

    const table = (name: string) => main.getByRole('table', { name, exact: true });
    // Run data through federation: params of the source runs, with the differing rows marked.
    const lr = table('Run parameters').getByRole('row', { name: /^lr/ });
    await lr.waitFor();
    expect(await lr.getByRole('cell').allTextContents()).toEqual(['0.1', '0.1', '0.01']);
    expect(await lr.getAttribute('data-differs')).toBe('true');
    // Only the third cell differs from the baseline (version 1).
    expect(await lr.locator('td.changed').allTextContents()).toEqual(['0.01']);
    const team = table('Run tags').getByRole('row', { name: /^team/ });
    expect(await team.getAttribute('data-differs')).toBe('false');
    expect(
      await table('Run metrics').getByRole('row', { name: /^auc/ }).getByRole('cell').allTextContents(),
    ).toEqual(['0.8', '0.81', '0.82']);
    expect(
      await table('Version tags')
        .getByRole('row', { name: /^validated/ })
        .getByRole('cell')
        .allTextContents(),
    ).toEqual(['yes', 'yes', 'no']);
    expect(
      await table('Attributes')
        .getByRole('row', { name: /^Source run train/ })
        .getByRole('cell')
        .allTextContents(),
    ).toEqual(['train-1', 'train-2', 'train-3']);
    // Schemas from each version's MLmodel: version 2 adds an optional column, version 3 has none.
    const inputs = table('Schema inputs');
    expect(
      await inputs
        .getByRole('row', { name: /^income/ })
        .getByRole('cell')
        .allTextContents(),
    ).toEqual(['double', 'double', '']);
    expect(
      await inputs
        .getByRole('row', { name: /^region/ })
        .getByRole('cell')
        .allTextContents(),
    ).toEqual(['', 'string (optional)', '']);
    expect(
      await table('Schema outputs').getByRole('row', { name: /^#0/ }).getByRole('cell').allTextContents(),
    ).toEqual(['long', 'long', '']);
    await screenshot(page, 'p11-compare-versions');

    // Differences only: equal rows go, and the toggle survives a reload.
    await checkUrlState(page.getByLabel('Only rows that differ'));
    await page.waitForURL(/diff=1/);
    await page.reload();
    await table('Run parameters').getByRole('row', { name: /^lr/ }).waitFor();
    expect(await page.getByLabel('Only rows that differ').isChecked()).toBe(true);
    expect(await table('Run tags').getByRole('row', { name: /^team/ }).count()).toBe(0);
    expect(await main.locator('tbody tr[data-differs="false"]').count()).toBe(0);
    expect(await main.locator('tbody tr[data-differs="true"]').count()).toBeGreaterThan(5);
    await page.getByLabel('Only rows that differ').click();
    await table('Run tags').getByRole('row', { name: /^team/ }).waitFor();
    expect(page.url()).not.toContain('diff=');
    expect(ui.pageErrors).toEqual([]);
  });
});
