#!/usr/bin/env node
// The UI spec's fixtures (ui.md §5.4), generated into a running Mast server, at full size or scaled:
//   F1  one experiment of 10,000 runs × 200 params × 300 metric keys (latest values only)
//   F2  100 runs × 20 metric keys × 100,000 steps (2×10^8 points)
//   F3  one run with 2,000 metric keys × 1,000 steps
//   F4  artifacts: a 50 MB CSV, a 20 MB JSON and a 1,000-file tree
// Experiments and runs' artifact roots come from the server's REST API (as a client makes them); the
// bulk rows go straight into its PostgreSQL in `INSERT … SELECT generate_series` statements, because
// 2×10^8 points through the API would take hours. The tracking schema's triggers keep the chunk
// summaries (latest values, buckets) as logging through the API does.
//
//   node services/ui/scripts/fixtures.mjs --tracking-uri http://127.0.0.1:5000 \
//     --database-url postgresql://postgres@127.0.0.1:5432/mast [--scale 0.01] [--only F1,F3]
//
// The UI's browser tests import `seedRuns` and `seedHistories` with their own (small) sizes.
import { parseArgs } from 'node:util';
import pg from 'pg';

/** A run id of the fixtures: 32 characters, like MLflow's, unique per experiment and index. */
const RUN_ID = `'f' || lpad($1::text, 11, '0') || lpad(i::text, 20, '0')`;

/**
 * Inserts `runs` finished runs into experiment `experimentId` with `params` params (`p1`…, values `v0`…`v6`)
 * and `metrics` metric keys (`m1`…, one point each at step 0): the shape of F1.
 * @param {pg.ClientBase} client
 * @param {{ experimentId: number, runs: number, params: number, metrics: number }} size
 * @returns {Promise<string[]>} the run ids, in index order
 */
export async function seedRuns(client, { experimentId, runs, params, metrics }) {
  await client.query(
    `insert into tracking.runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time,
       artifact_uri, lifecycle_stage)
     select ${RUN_ID}, $1::int8, 'run-' || i, 'fixtures', 'FINISHED', 1000 + i, 2000 + i,
       'mlflow-artifacts:/' || $1::text || '/' || ${RUN_ID} || '/artifacts', 'active'
     from generate_series(1, $2::int) i`,
    [experimentId, runs],
  );
  if (params > 0) {
    await client.query(
      `insert into tracking.params (run_uuid, key, value)
       select ${RUN_ID}, 'p' || k, 'v' || (i % 7) from generate_series(1, $2::int) i, generate_series(1, $3::int) k`,
      [experimentId, runs, params],
    );
  }
  if (metrics > 0) {
    await client.query(
      `insert into tracking.metrics (run_uuid, key, value, timestamp, step)
       select ${RUN_ID}, 'm' || k, (i * k) % 1000 / 1000.0, 1, 0
       from generate_series(1, $2::int) i, generate_series(1, $3::int) k`,
      [experimentId, runs, metrics],
    );
  }
  const { rows } = await client.query(
    `select run_uuid from tracking.runs where experiment_id = $1 order by run_uuid`,
    [experimentId],
  );
  return rows.map((row) => row.run_uuid);
}

/**
 * Logs `steps` points (steps 0…steps-1, one second apart) of each of `keys` metric keys (`m1`…) to each
 * run: a decaying curve with noise, and at step `spikeStep` (when given) one value 100× the rest (goal
 * G6's spike). F2 and F3 are made of these.
 * @param {pg.ClientBase} client
 * @param {{ runIds: string[], keys: number, steps: number, spikeStep?: number }} size
 */
export async function seedHistories(client, { runIds, keys, steps, spikeStep }) {
  // One statement per run and key keeps each insert (and its trigger's summaries) bounded.
  for (const runId of runIds) {
    for (let k = 1; k <= keys; k++) {
      await client.query(
        `insert into tracking.metrics (run_uuid, key, value, timestamp, step)
         select $1, $2, case when s = $4 then 100.0 else 1.0 / (1 + s / 1000.0) + ((s * 7919) % 100) / 10000.0 end,
           1700000000000 + s * 1000, s
         from generate_series(0, $3::int8 - 1) s`,
        [runId, `m${k}`, steps, spikeStep ?? -1],
      );
    }
  }
}

/** `POST`/`PUT`/`GET` to the server; throws with its answer on anything but 200. */
async function call(trackingUri, method, path, body, contentType = 'application/json') {
  const response = await fetch(`${trackingUri}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body:
      body === undefined || typeof body !== 'object' || body instanceof Buffer ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function createExperiment(trackingUri, name) {
  const found = await fetch(
    `${trackingUri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
  );
  if (found.status === 200)
    throw new Error(`experiment '${name}' exists already: use a fresh server or delete it`);
  return Number(
    (await call(trackingUri, 'POST', '/api/2.0/mlflow/experiments/create', { name })).experiment_id,
  );
}

async function createRun(trackingUri, experimentId, name) {
  const { run } = await call(trackingUri, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: String(experimentId),
    run_name: name,
    start_time: Date.now(),
  });
  return run.info;
}

/** F4: a 50 MB CSV, a 20 MB JSON and a 1,000-file tree in one run's artifacts, through the proxy. */
async function seedArtifacts(trackingUri, experimentId, scale) {
  const info = await createRun(trackingUri, experimentId, 'f4-artifacts');
  const root = info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
  const put = (path, body) =>
    call(
      trackingUri,
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`,
      body,
      'application/octet-stream',
    );
  const csvLines = ['step,loss,accuracy,learning_rate,epoch,split'];
  for (let step = 0, size = 0; size < 50e6 * scale; step++) {
    const line = `${step},${(1 / (step + 1)).toFixed(6)},${(step % 1000) / 1000},0.001,${step >> 10},train`;
    csvLines.push(line);
    size += line.length + 1;
  }
  await put('tables/metrics.csv', Buffer.from(`${csvLines.join('\n')}\n`));
  const records = [];
  for (let i = 0, size = 0; size < 20e6 * scale; i++) {
    const record = JSON.stringify({ id: i, label: `item-${i}`, scores: [i % 7, i % 11, i % 13] });
    records.push(record);
    size += record.length + 1;
  }
  await put('tables/records.json', Buffer.from(`[${records.join(',')}]`));
  const files = Math.max(1, Math.round(1000 * scale));
  for (let i = 0; i < files; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, files - i) }, (_, j) =>
        put(`tree/dir-${Math.floor((i + j) / 100)}/file-${i + j}.txt`, Buffer.from(`file ${i + j}\n`)),
      ),
    );
  }
  return info.run_id;
}

async function main() {
  const { values } = parseArgs({
    options: {
      'tracking-uri': { type: 'string' },
      'database-url': { type: 'string' },
      scale: { type: 'string', default: '1' },
      only: { type: 'string', default: 'F1,F2,F3,F4' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values['tracking-uri'] || !values['database-url']) {
    console.log(
      'Usage: node services/ui/scripts/fixtures.mjs --tracking-uri URL --database-url POSTGRES_URL [--scale S] [--only F1,F2,F3,F4]\n' +
        "Generates ui.md's fixtures F1-F4 into a running Mast server (its PostgreSQL for the bulk rows).\n" +
        '--scale multiplies the runs of F1, the steps of F2 and F3 and the sizes of F4 (default 1: full size).',
    );
    process.exit(values.help ? 0 : 2);
  }
  const trackingUri = values['tracking-uri'].replace(/\/$/, '');
  const scale = Number(values.scale);
  if (!(scale > 0 && scale <= 1)) {
    console.error(`fixtures: --scale: expected a number in (0, 1], got '${values.scale}'`);
    process.exit(2);
  }
  const only = new Set(values.only.split(','));
  const client = new pg.Client({ connectionString: values['database-url'] });
  await client.connect();
  try {
    if (only.has('F1')) {
      const id = await createExperiment(trackingUri, 'ui-fixture-F1');
      const runs = await seedRuns(client, {
        experimentId: id,
        runs: Math.round(10_000 * scale),
        params: 200,
        metrics: 300,
      });
      console.log(`F1: experiment ${id}, ${runs.length} runs × 200 params × 300 metrics`);
    }
    if (only.has('F2')) {
      const id = await createExperiment(trackingUri, 'ui-fixture-F2');
      const runIds = await seedRuns(client, { experimentId: id, runs: 100, params: 0, metrics: 0 });
      const steps = Math.round(100_000 * scale);
      await seedHistories(client, { runIds, keys: 20, steps, spikeStep: Math.floor(steps / 2) });
      console.log(`F2: experiment ${id}, 100 runs × 20 keys × ${steps} steps`);
    }
    if (only.has('F3')) {
      const id = await createExperiment(trackingUri, 'ui-fixture-F3');
      const runIds = await seedRuns(client, { experimentId: id, runs: 1, params: 0, metrics: 0 });
      const steps = Math.round(1_000 * scale);
      await seedHistories(client, { runIds, keys: 2_000, steps });
      console.log(`F3: experiment ${id}, run ${runIds[0]}, 2,000 keys × ${steps} steps`);
    }
    if (only.has('F4')) {
      const id = await createExperiment(trackingUri, 'ui-fixture-F4');
      const runId = await seedArtifacts(trackingUri, id, scale);
      console.log(`F4: experiment ${id}, run ${runId}: tables/metrics.csv, tables/records.json, tree/`);
    }
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`fixtures: ${error.message}`);
    process.exit(1);
  });
}
