import type { HttpClient } from '@mast/test-support';
import type { Browser, Locator, Page } from 'playwright-core';
import { startAllInOne } from '../../gateway/test/harness.js';
import { launchChromium, requireBuiltUi } from './browser.js';

/**
 * A `mast server` (all-in-one on a fresh PostgreSQL database) and Debian's Chromium with a page on it,
 * for one test file; the test seeds what it needs.
 */
export interface UiFixture {
  base: string;
  http: HttpClient;
  /** The database's URL, for fixtures too large to seed through the API. */
  databaseUrl: string;
  /** The server's artifact store (a directory). */
  artifactsDir: string;
  /** For more contexts (another user, another theme, downloads). */
  browser: Browser;
  /** A 1440×900 page of the first context. */
  page: Page;
  /** Uncaught errors of the page (a test asserts none happened). */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function startUi(): Promise<UiFixture> {
  requireBuiltUi();
  const mast = await startAllInOne({ name: 'mast-ui-pages-', postgres: true });
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await mast.close();
  };
  try {
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return {
      base: mast.url,
      http: mast.http,
      databaseUrl: mast.databaseUrl,
      artifactsDir: mast.dir,
      browser,
      page,
      pageErrors,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The REST call's body, or a thrown error with the server's answer. */
export async function ok<T = Record<string, unknown>>(
  response: Promise<{ status: number; body: T; text: string }>,
): Promise<T> {
  const answer = await response;
  if (answer.status !== 200) throw new Error(`seeding failed (${answer.status}): ${answer.text}`);
  return answer.body;
}

/** Creates an experiment and returns its id. */
export async function createExperiment(http: HttpClient, name: string): Promise<string> {
  const body = await ok<{ experiment_id: string }>(http.post('/api/2.0/mlflow/experiments/create', { name }));
  return body.experiment_id;
}

/** Creates a finished run with params, metrics (step 0 unless given) and tags; returns its id. */
export async function createRun(
  http: HttpClient,
  experimentId: string,
  name: string,
  logged: {
    params?: Record<string, string>;
    metrics?: Array<{ key: string; value: number; step?: number; timestamp?: number }>;
    tags?: Record<string, string>;
    startTime?: number;
  } = {},
): Promise<string> {
  const startTime = logged.startTime ?? Date.now() - 60_000;
  const { run } = await ok<{ run: { info: { run_id: string } } }>(
    http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: name,
      start_time: startTime,
    }),
  );
  const runId = run.info.run_id;
  const metrics = (logged.metrics ?? []).map((m) => ({
    key: m.key,
    value: m.value,
    step: m.step ?? 0,
    timestamp: m.timestamp ?? startTime + (m.step ?? 0) * 1000,
  }));
  // log-batch takes at most 1000 metrics per request.
  for (let i = 0; i === 0 || i < metrics.length; i += 1000) {
    await ok(
      http.post('/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(i, i + 1000),
        params: i === 0 ? Object.entries(logged.params ?? {}).map(([key, value]) => ({ key, value })) : [],
        tags: i === 0 ? Object.entries(logged.tags ?? {}).map(([key, value]) => ({ key, value })) : [],
      }),
    );
  }
  await ok(
    http.post('/api/2.0/mlflow/runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: startTime + 30_000,
    }),
  );
  return runId;
}

/** Uploads a file into a run's artifacts (through the artifact proxy, as MLflow's client does). */
export async function putRunArtifact(
  http: HttpClient,
  runId: string,
  path: string,
  body: string,
): Promise<void> {
  const { run } = await ok<{ run: { info: { artifact_uri: string } } }>(
    http.get('/api/2.0/mlflow/runs/get', { run_id: runId }),
  );
  const root = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
  await ok(
    http.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, body, {
      'content-type': 'application/octet-stream',
    }),
  );
}

/**
 * Checks a checkbox whose state is the URL's: the click navigates and the box shows checked once the
 * router commits, so Playwright's `check()`, which expects the change at once, is not used.
 */
export async function checkUrlState(box: Locator): Promise<void> {
  await box.click();
  await box.and(box.page().locator(':checked')).waitFor();
}
