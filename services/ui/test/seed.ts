import type { HttpClient } from '@mast/test-support';

/** What the browser tests find in the seeded server. */
export interface SeededData {
  experimentId: string;
  experimentName: string;
  /** Runs of the table, `run-000` … in creation order. */
  runIds: string[];
  /** A run whose metric `spiky` has `SPIKE.steps` points, all 1 but one of `SPIKE.value`. */
  spikeRunId: string;
  runningRunId: string;
  modelName: string;
  /** The run (`run-000`) with artifacts `notes/readme.txt`, `data/big.csv` (`BIG_CSV_BYTES`), `model/MLmodel`. */
  artifactRunId: string;
}

export const README_TEXT = 'Hello from the artifact store.\n';
export const BIG_CSV_BYTES = 600 * 1024;

export const TABLE_RUNS = 300;
/** Metric keys besides `loss` and `accuracy`: enough columns to need horizontal virtualisation. */
export const EXTRA_METRICS = 40;
export const SPIKE = { steps: 10_000, step: 5_000, value: 100 };
/** A system metric of the spiky run, as MLflow's client logs them. */
export const SYSTEM_METRIC = 'system/cpu_utilization_percentage';

async function ok<T>(response: Promise<{ status: number; body: T; text: string }>): Promise<T> {
  const answer = await response;
  if (answer.status !== 200) throw new Error(`seeding failed (${answer.status}): ${answer.text}`);
  return answer.body;
}

/** Runs `work` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

/**
 * Seeds a server through MLflow's REST API, as clients would: an experiment of `TABLE_RUNS` finished
 * runs (params `lr`, `model`; metrics `loss`, `accuracy`, `m_00`…), a run with a long spiky metric
 * history, a running run, and a registered model with two versions from the table's runs.
 */
export async function seed(http: HttpClient): Promise<SeededData> {
  const experimentName = 'ui-fixtures';
  const { experiment_id: experimentId } = await ok<{ experiment_id: string }>(
    http.post('/api/2.0/mlflow/experiments/create', { name: experimentName }),
  );
  const start = Date.now() - 3_600_000;
  const runIds: string[] = new Array(TABLE_RUNS);
  await inBatches(
    Array.from({ length: TABLE_RUNS }, (_, i) => i),
    10,
    async (i) => {
      const { run } = await ok<{ run: { info: { run_id: string } } }>(
        http.post('/api/2.0/mlflow/runs/create', {
          experiment_id: experimentId,
          run_name: `run-${String(i).padStart(3, '0')}`,
          start_time: start + i * 1000,
        }),
      );
      const runId = run.info.run_id;
      runIds[i] = runId;
      await ok(
        http.post('/api/2.0/mlflow/runs/log-batch', {
          run_id: runId,
          params: [
            { key: 'lr', value: String((i % 10) / 1000 + 0.001) },
            { key: 'model', value: i % 2 === 0 ? 'lr' : 'tree' },
          ],
          metrics: [
            { key: 'loss', value: 1 / (i + 1), timestamp: start, step: 0 },
            { key: 'accuracy', value: i / TABLE_RUNS, timestamp: start, step: 0 },
            ...Array.from({ length: EXTRA_METRICS }, (_, k) => ({
              key: `m_${String(k).padStart(2, '0')}`,
              value: i * k,
              timestamp: start,
              step: 0,
            })),
          ],
          tags: [{ key: 'team', value: i % 3 === 0 ? 'vision' : 'nlp' }],
        }),
      );
      await ok(
        http.post('/api/2.0/mlflow/runs/update', {
          run_id: runId,
          status: 'FINISHED',
          end_time: start + i * 1000 + 90_000,
        }),
      );
    },
  );

  const spike = await ok<{ run: { info: { run_id: string } } }>(
    http.post('/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: 'spiky-run',
      start_time: start,
    }),
  );
  const spikeRunId = spike.run.info.run_id;
  for (let from = 0; from < SPIKE.steps; from += 1000) {
    await ok(
      http.post('/api/2.0/mlflow/runs/log-batch', {
        run_id: spikeRunId,
        metrics: Array.from({ length: 1000 }, (_, k) => ({
          key: 'spiky',
          value: from + k === SPIKE.step ? SPIKE.value : 1,
          timestamp: start + from + k,
          step: from + k,
        })),
      }),
    );
  }
  await ok(
    http.post('/api/2.0/mlflow/runs/log-batch', {
      run_id: spikeRunId,
      metrics: Array.from({ length: 50 }, (_, k) => ({
        key: SYSTEM_METRIC,
        value: 40 + (k % 7),
        timestamp: start + k * 10_000,
        step: k,
      })),
    }),
  );
  await ok(
    http.post('/api/2.0/mlflow/runs/update', {
      run_id: spikeRunId,
      status: 'FINISHED',
      end_time: start + 60_000,
    }),
  );

  const running = await ok<{ run: { info: { run_id: string } } }>(
    http.post('/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'still-running' }),
  );

  const artifactRunId = runIds[0]!;
  const { run: artifactRun } = await ok<{ run: { info: { artifact_uri: string } } }>(
    http.get('/api/2.0/mlflow/runs/get', { run_id: artifactRunId }),
  );
  const root = artifactRun.info.artifact_uri.replace('mlflow-artifacts:/', '');
  const line = 'step,loss,accuracy\n';
  const files: Record<string, string> = {
    'notes/readme.txt': README_TEXT,
    'data/big.csv': line.repeat(Math.ceil(BIG_CSV_BYTES / line.length)).slice(0, BIG_CSV_BYTES),
    'model/MLmodel': 'flavors:\n  python_function: {}\n',
  };
  for (const [path, body] of Object.entries(files))
    await ok(
      http.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, body, {
        'content-type': 'application/octet-stream',
      }),
    );

  const modelName = 'ui-model';
  await ok(
    http.post('/api/2.0/mlflow/registered-models/create', {
      name: modelName,
      description: 'A model for the UI tests',
    }),
  );
  for (const runId of [runIds[0]!, runIds[1]!]) {
    await ok(
      http.post('/api/2.0/mlflow/model-versions/create', {
        name: modelName,
        source: `runs:/${runId}/model`,
        run_id: runId,
      }),
    );
  }
  return {
    experimentId,
    experimentName,
    runIds,
    spikeRunId,
    runningRunId: running.run.info.run_id,
    modelName,
    artifactRunId,
  };
}
