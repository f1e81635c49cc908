import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { screenshot } from './browser.js';
import { startUi, type UiFixture } from './pages-fixture.js';

jest.setTimeout(180_000);

/** Fixture F4 of ui.md §5.4: a 50 MB CSV and a 20 MB JSON file. */
const CSV_BYTES = 50 * 1024 * 1024;
const JSON_BYTES = 20 * 1024 * 1024;
/** Goal G11: no preview downloads more than this without a click. */
const PREVIEW_BYTE_CAP = 1024 * 1024;

function csvOf(bytes: number): Buffer {
  const lines = ['step,loss,accuracy,learning_rate,epoch,split'];
  let size = lines[0]!.length + 1;
  for (let step = 0; size < bytes; step++) {
    const line = `${step},${(1 / (step + 1)).toFixed(6)},${(step % 1000) / 1000},0.001,${step >> 10},train`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, bytes);
}

function jsonOf(bytes: number): Buffer {
  const records: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const record = JSON.stringify({ id: i, label: `item-${i}`, scores: [i % 7, i % 11, i % 13] });
    records.push(record);
    size += record.length + 1;
  }
  return Buffer.from(`[${records.join(',')}]`);
}

/**
 * Bytes of artifact file downloads (fetches of the artifact routes, not the page's own navigation)
 * that reached the page while `action` ran, counted by Chromium's network domain: a download cancelled
 * part way counts what arrived before the cancel.
 */
async function artifactBytesDuring(page: Page, action: () => Promise<void>): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const downloads = new Set<string>();
  let bytes = 0;
  cdp.on('Network.requestWillBeSent', (event) => {
    if (event.type === 'Fetch' && /\/(get-artifact|mlflow-artifacts\/artifacts\/)/.test(event.request.url))
      downloads.add(event.requestId);
  });
  cdp.on('Network.dataReceived', (event) => {
    if (downloads.has(event.requestId)) bytes += event.dataLength;
  });
  try {
    await action();
    await page.waitForTimeout(500);
  } finally {
    await cdp.detach();
  }
  expect(downloads.size).toBeGreaterThan(0);
  return bytes;
}

/**
 * Goal G11 of ui.md (§5.4) with fixture F4: artifact previews of a 50 MB CSV and a 20 MB JSON never
 * download more than 1 MB without a click; the CSV shows its first 1,000 rows; figures printed (time to
 * rows, longest task while the JSON opens). All-in-one server on PostgreSQL, Debian's Chromium.
 */
describe('artifact previews of large files (G11, Chromium)', () => {
  let ui: UiFixture;
  let base: string;
  let browser: Browser;
  let runUrl: string;

  beforeAll(async () => {
    ui = await startUi();
    ({ base, browser } = ui);
    const http = ui.http;
    const created = await http.post('/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'f4' });
    const info = (created.body as { run: { info: { run_id: string; artifact_uri: string } } }).run.info;
    const root = info.artifact_uri.replace('mlflow-artifacts:/', '');
    for (const [path, body] of [
      ['tables/metrics.csv', csvOf(CSV_BYTES)],
      ['tables/records.json', jsonOf(JSON_BYTES)],
    ] as const) {
      const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
      expect(put.status).toBe(200);
    }
    runUrl = `${base}/experiments/0/runs/${info.run_id}/artifacts`;
  });
  afterAll(async () => ui?.close());

  test('a 50 MB CSV shows its first 1,000 rows from at most 1 MB read', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    let shownAfterMs = 0;
    const bytes = await artifactBytesDuring(page, async () => {
      const started = Date.now();
      await page.goto(`${runUrl}/tables/metrics.csv`);
      await page.getByTestId('artifact-table').locator('tbody tr').first().waitFor();
      shownAfterMs = Date.now() - started;
    });
    const rows = page.getByTestId('artifact-table').locator('tbody tr');
    expect(await rows.count()).toBe(1000);
    expect(await rows.first().locator('td').allTextContents()).toEqual([
      '0',
      '1.000000',
      '0',
      '0.001',
      '0',
      'train',
    ]);
    console.log(
      `G11: 50 MB CSV, first 1,000 rows shown ${shownAfterMs} ms after navigation (goal <= 1500 ms), ${bytes} bytes of it read (cap ${PREVIEW_BYTE_CAP})`,
    );
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(PREVIEW_BYTE_CAP);
    await screenshot(page, 'p6-g11-csv');
    await page.close();
  });

  test('a 20 MB JSON opens from at most 1 MB read, the longest task printed', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // A long-task observer from the first script on (run in the page, hence a string).
    await page.addInitScript(`(() => {
      const tasks = (window.__longTasks = []);
      new PerformanceObserver((list) => { for (const entry of list.getEntries()) tasks.push(entry.duration); })
        .observe({ type: 'longtask', buffered: true });
    })()`);
    const bytes = await artifactBytesDuring(page, async () => {
      await page.goto(`${runUrl}/tables/records.json`);
      await page.getByTestId('artifact-text').waitFor();
    });
    expect(await page.getByTestId('artifact-text').textContent()).toMatch(/^\[\{"id":0,"label":"item-0"/);
    await page.getByText(/Showing the first 256\.0 KB/).waitFor();
    const longest = (await page.evaluate('Math.max(0, ...window.__longTasks)')) as number;
    console.log(
      `G11: 20 MB JSON opened, ${bytes} bytes read (cap ${PREVIEW_BYTE_CAP}), longest task ${Math.round(longest)} ms (goal: none > 200 ms)`,
    );
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(PREVIEW_BYTE_CAP);
    await page.close();
  });
});
