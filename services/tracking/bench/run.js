#!/usr/bin/env node
// Tracking benchmark: the load shapes of mlflow-go's k6 benchmark against a real PostgreSQL.
//
//   npm run build && npm run bench            (30 s per shape)
//   MAST_BENCH_DURATION=5 npm run bench       (quick run)
//   MAST_BENCH_JSON=1 npm run bench           (results as JSON on stdout; or run.js --json)
//
// Environment:
//   MAST_BENCH_POSTGRES_URL  server to use (default postgresql://postgres@127.0.0.1:5432/test); a fresh
//                            database mast_bench_<random> is created on it and dropped at the end
//   MAST_BENCH_DURATION      seconds per shape (default 30)
//   MAST_BENCH_SHAPES        comma-separated subset of shape names, e.g. "CreateRun,LogBatch-10"
//   MAST_BENCH_CPU_PROF      a directory: the server runs with --cpu-prof and writes its profile there
//   MAST_BENCH_KEEP_DATABASE =1 keeps the seeded database (its URL is logged) for EXPLAIN and the like
//
// The server runs as a child process so that it does not share an event loop (or a CPU core's worth
// of JIT and GC) with the load generator. Progress goes to stderr; the results table (or JSON) to stdout.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAST_BIN = fileURLToPath(new URL('../../client/bin/mast.js', import.meta.url));

const POSTGRES_URL = process.env.MAST_BENCH_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const DURATION_S = Number(process.env.MAST_BENCH_DURATION || 30);
const ONLY_SHAPES = process.env.MAST_BENCH_SHAPES?.split(',').map((name) => name.trim());
const CPU_PROF_DIR = process.env.MAST_BENCH_CPU_PROF;
const KEEP_DATABASE = process.env.MAST_BENCH_KEEP_DATABASE === '1';
const JSON_OUTPUT = process.argv.includes('--json') || process.env.MAST_BENCH_JSON === '1';

/** As in the k6 runs (`-u 20 -d 30s`): 20 keep-alive clients, each waiting for its response. */
const CONNECTIONS = 20;

/** The SearchRuns data set: one experiment of 25,000 runs with 10 params and 10 metrics each. */
const SEARCH_RUNS = 25_000;
const KEYS_PER_RUN = 10;
const SEARCH_FILTER = "metrics.m0 > 0.5 and params.p0 = 'v0'";
const SEARCH_ORDER_BY = ['metrics.m1 DESC'];
const SEARCH_MAX_RESULTS = 1000;

/** SearchExperiments reads pages of 100 out of ~1,000 experiments. */
const FILLER_EXPERIMENTS = 1000;
const SEARCH_EXPERIMENTS_MAX_RESULTS = 100;

/** LogBatch requests rotate over this many runs, so concurrent requests rarely hit the same run. */
const LOG_BATCH_RUNS = 100;

/** GetHistory reads one page of this many points; BulkInterval samples a series of BULK_POINTS. */
const HISTORY_POINTS = 25_000;
const BULK_POINTS = 1_000_000;
const BULK_MAX_RESULTS = 320;

const API = '/api/2.0/mlflow';
/** What the Python client puts on every request (spec §9), besides Host and Content-Length. */
const HEADERS = {
  'content-type': 'application/json',
  'user-agent': 'mlflow-python-client/3.3.0',
  'x-mlflow-client-version': '3.3.0',
};

// ---------------------------------------------------------------------------------------------------
// Load shapes. `request(fixture)` gives autocannon's request; `verify` checks one real response first,
// so a broken endpoint fails the run instead of producing a fast table of errors.
// ---------------------------------------------------------------------------------------------------

const SHAPES = [
  {
    name: 'SearchExperiments',
    describe: `POST experiments/search, max_results ${SEARCH_EXPERIMENTS_MAX_RESULTS} of ~${FILLER_EXPERIMENTS} experiments`,
    target: { kind: 'rps', min: 3000 },
    request: () => ({
      method: 'POST',
      path: `${API}/experiments/search`,
      body: pythonJson({ max_results: SEARCH_EXPERIMENTS_MAX_RESULTS, view_type: 'ACTIVE_ONLY' }),
    }),
    verify: (response) => {
      expect(response.experiments?.length === SEARCH_EXPERIMENTS_MAX_RESULTS, 'a full page of experiments');
      expect(typeof response.next_page_token === 'string', 'a next_page_token');
    },
  },
  {
    name: 'SearchRuns',
    describe: `POST runs/search, ${SEARCH_MAX_RESULTS} of ${SEARCH_RUNS} runs, filter "${SEARCH_FILTER}", order by ${SEARCH_ORDER_BY}`,
    target: { kind: 'avg', max: 60 },
    request: (fixture) => ({
      method: 'POST',
      path: `${API}/runs/search`,
      body: pythonJson({
        experiment_ids: [fixture.searchExperimentId],
        filter: SEARCH_FILTER,
        run_view_type: 'ACTIVE_ONLY',
        max_results: SEARCH_MAX_RESULTS,
        order_by: SEARCH_ORDER_BY,
      }),
    }),
    verify: verifySearchRuns,
  },
  {
    // Not a k6 shape: the same request from one client, i.e. the latency of a lone SearchRuns call.
    name: 'SearchRuns-1client',
    describe: 'SearchRuns as above, from a single client',
    connections: 1,
    target: { kind: 'avg', max: 60 },
    request: (fixture) => SHAPES.find((shape) => shape.name === 'SearchRuns').request(fixture),
    verify: verifySearchRuns,
  },
  {
    name: 'CreateRun',
    describe: 'POST runs/create with the tags mlflow.start_run() sends',
    target: { kind: 'rps', min: 2000 },
    request: (fixture) => ({
      method: 'POST',
      path: `${API}/runs/create`,
      setupRequest: (request) => ({ ...request, body: createRunBody(fixture.createRunExperimentId) }),
    }),
    verify: (response) => {
      expect(/^[0-9a-f]{32}$/.test(response.run?.info?.run_id ?? ''), 'a run with a 32-hex run_id');
    },
  },
  {
    name: 'LogBatch-10',
    describe: `POST runs/log-batch, 10 metrics, over ${LOG_BATCH_RUNS} runs`,
    target: { kind: 'rps', min: 1500 },
    request: (fixture) => logBatchRequest(fixture.logBatchRuns, 10),
    verify: (response) => expect(Object.keys(response).length === 0, 'an empty object'),
    afterVerify: (fixture, base) => verifyLatestMetrics(fixture.logBatchRuns, 10, base),
  },
  {
    name: 'LogBatch-1000',
    describe: `POST runs/log-batch, 1000 metrics, over ${LOG_BATCH_RUNS} runs; vs. raw pg INSERT`,
    target: { kind: 'ratio', min: 0.6 },
    metricsPerRequest: 1000,
    request: (fixture) => logBatchRequest(fixture.logBatchRuns, 1000),
    verify: (response) => expect(Object.keys(response).length === 0, 'an empty object'),
    afterVerify: (fixture, base) => verifyLatestMetrics(fixture.logBatchRuns, 1000, base),
  },
  {
    // mlflow-go's k6 shape proper: every client logs to the same run (row locks on its latest values).
    name: 'LogBatch-10-one-run',
    describe: 'POST runs/log-batch, 10 metrics, all 20 clients to one run; vs. LogBatch-10 over 100 runs',
    target: { kind: 'ratio-of', of: 'LogBatch-10', min: 0.5 },
    request: (fixture) => logBatchRequest(fixture.logBatchRuns.slice(0, 1), 10),
    verify: (response) => expect(Object.keys(response).length === 0, 'an empty object'),
  },
  {
    name: 'SearchRuns-pg-baseline',
    describe: 'the SearchRuns page selected as JSON by pg alone (20 connections), no HTTP or Node',
    baseline: 'SearchRuns',
  },
  {
    // A cheap call while 20 clients search: the expensive-request limit keeps it fast.
    name: 'GetRun-under-SearchRuns',
    describe: 'GET runs/get from a 21st client while 20 clients run SearchRuns; then one GetRun after',
    target: { kind: 'p99', max: 50 },
    underLoad: 'SearchRuns',
    request: (fixture) => ({
      method: 'GET',
      path: `${API}/runs/get?run_id=${fixture.logBatchRuns[1].runId}`,
    }),
    verify: (response) => expect(typeof response.run?.info?.run_id === 'string', 'a run'),
  },
  {
    name: 'GetHistory-25k',
    describe: `GET metrics/get-history, one page of ${HISTORY_POINTS} points, one client`,
    connections: 1,
    target: { kind: 'avg', max: 50 },
    request: (fixture) => ({
      method: 'GET',
      path: `${API}/metrics/get-history?run_id=${fixture.historyRunId}&metric_key=history&max_results=${HISTORY_POINTS}`,
    }),
    verify: (response) => expect(response.metrics?.length === HISTORY_POINTS, `${HISTORY_POINTS} points`),
  },
  {
    name: 'BulkInterval-1M',
    describe: `GET metrics/get-history-bulk-interval, ${BULK_MAX_RESULTS} points of a ${BULK_POINTS}-point series, one client`,
    connections: 1,
    target: { kind: 'avg', max: 30 },
    request: (fixture) => ({
      method: 'GET',
      path: `${API}/metrics/get-history-bulk-interval?run_ids=${fixture.historyRunId}&metric_key=bulk&max_results=${BULK_MAX_RESULTS}`,
    }),
    verify: (response) => {
      const points = response.metrics?.length ?? 0;
      expect(
        points > 0 && points <= BULK_MAX_RESULTS + 2,
        `at most ~${BULK_MAX_RESULTS} points (got ${points})`,
      );
    },
  },
];

/**
 * The SearchRuns page as JSON from PostgreSQL alone: the same filter, order and page, each run with
 * its params, latest metrics and tags aggregated, through the same 20 connections without HTTP.
 */
function searchRunsBaselineSql(experimentId) {
  // A run's latest value of a key: the last point of its highest chunk summary (one index probe).
  const latest = (key) => `(select c.last_value as value from tracking.metric_chunks c
      where c.run_uuid = r.run_uuid and c.key = '${key}' order by c.chunk desc limit 1)`;
  const list = (table) => `(select json_agg(json_build_object('key', t.key, 'value', t.value) order by t.key)
      from tracking.${table} t where t.run_uuid = r.run_uuid)`;
  return `select json_agg(json_build_object('info', json_build_object('run_id', r.run_uuid, 'run_name', r.name,
        'status', r.status, 'start_time', r.start_time, 'end_time', r.end_time, 'artifact_uri', r.artifact_uri),
      'data', json_build_object('metrics', (select json_agg(json_build_object('key', m.key, 'value', m.value,
        'timestamp', m.timestamp, 'step', m.step) order by m.key) from tracking.latest_metrics m
        where m.run_uuid = r.run_uuid), 'params', ${list('params')}, 'tags', ${list('tags')})))::text
    from (select r.* from tracking.runs r
      join lateral ${latest('m0')} m0 on true
      join tracking.params p0 on p0.run_uuid = r.run_uuid and p0.key = 'p0'
      left join lateral ${latest('m1')} m1 on true
      where r.experiment_id = ${Number(experimentId)} and r.lifecycle_stage = 'active'
        and m0.value > 0.5 and p0.value = 'v0'
      order by m1.value desc, r.start_time desc, r.run_uuid
      limit ${SEARCH_MAX_RESULTS}) r`;
}

/** Runs one SQL text from `connections` pg clients back to back for `seconds`, timing each. */
async function measurePgQuery(pool, text, seconds, connections, serverPid) {
  const latencies = [];
  const cpu = cpuMeter(serverPid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (performance.now() < deadline) {
        const sent = performance.now();
        await client.query(text);
        latencies.push(performance.now() - sent);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { latencies, seconds: (performance.now() - started) / 1000, errors: 0, non2xx: 0, cpu: cpu() };
}

/**
 * A cheap request from one more client while another shape loads the server, then one more of it
 * after the load stopped (it must not wait behind abandoned work).
 */
async function measureUnderLoad(shape, load, fixture, base, serverPid) {
  const request = shape.request(fixture);
  const latencies = [];
  let loading = true;
  const background = measureHttp(load.request(fixture), base, DURATION_S, CONNECTIONS, serverPid).finally(
    () => {
      loading = false;
    },
  );
  await sleep(1000);
  let errors = 0;
  const started = performance.now();
  while (loading) {
    const sent = performance.now();
    const response = await fetch(`${base}${request.path}`, { method: request.method, headers: HEADERS });
    await response.arrayBuffer();
    if (response.ok) latencies.push(performance.now() - sent);
    else errors++;
  }
  const seconds = (performance.now() - started) / 1000;
  await background;
  const after = performance.now();
  await call(base, request.method, request.path);
  return {
    latencies,
    seconds,
    errors,
    non2xx: 0,
    cpu: { host: NaN, server: NaN, loadGenerator: NaN },
    afterMs: performance.now() - after,
  };
}

/** CreateRun as MlflowClient.create_run sends it (fields in proto order, no run_name: the server picks one). */
function createRunBody(experimentId) {
  return pythonJson({
    experiment_id: experimentId,
    user_id: 'bench',
    start_time: Date.now(),
    tags: [
      { key: 'mlflow.user', value: 'bench' },
      { key: 'mlflow.source.name', value: 'train.py' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
      { key: 'mlflow.source.git.commit', value: '3f8c2b1d9e4a7f6c5b0a1d2e3f4a5b6c7d8e9f01' },
    ],
  });
}

/**
 * LogBatch as MlflowClient.log_batch sends it. Each request goes to the next run in turn with that
 * run's next step and the current time, so no point is a duplicate the server could skip.
 */
function logBatchRequest(runs, metricCount) {
  let next = 0;
  return {
    method: 'POST',
    path: `${API}/runs/log-batch`,
    setupRequest: (request) => ({ ...request, body: logBatchBody(runs[next++ % runs.length], metricCount) }),
  };
}

function logBatchBody(run, metricCount) {
  const step = run.nextStep++;
  const timestamp = Date.now();
  const metrics = [];
  for (let i = 0; i < metricCount; i++) {
    metrics.push({ key: `metric_${i}`, value: Math.random(), timestamp, step });
  }
  return pythonJson({ run_id: run.runId, metrics });
}

function verifySearchRuns(response) {
  const runs = response.runs ?? [];
  expect(runs.length === SEARCH_MAX_RESULTS, `${SEARCH_MAX_RESULTS} runs (got ${runs.length})`);
  expect(typeof response.next_page_token === 'string', 'a next_page_token');
  let previous = Number.POSITIVE_INFINITY;
  for (const run of runs) {
    const metric = (key) => run.data.metrics?.find((m) => m.key === key)?.value;
    const p0 = run.data.params?.find((p) => p.key === 'p0')?.value;
    expect(metric('m0') > 0.5 && p0 === 'v0', `runs matching ${SEARCH_FILTER}`);
    expect(run.data.params.length === KEYS_PER_RUN && run.data.metrics.length === KEYS_PER_RUN, '10+10 keys');
    expect(metric('m1') <= previous, `runs ordered by ${SEARCH_ORDER_BY}`);
    previous = metric('m1');
  }
}

/** After one LogBatch, GetRun must show every key at the step just logged. */
async function verifyLatestMetrics(runs, metricCount, base) {
  const run = runs[0];
  const { body } = await call(base, 'GET', `${API}/runs/get?run_id=${run.runId}`);
  const metrics = body.run.data.metrics ?? [];
  const atLastStep = metrics.filter((m) => m.step === run.nextStep - 1).length;
  expect(atLastStep === metricCount, `GetRun to show ${metricCount} metrics at step ${run.nextStep - 1}`);
}

// ---------------------------------------------------------------------------------------------------
// Database, server and data set.
// ---------------------------------------------------------------------------------------------------

/** Creates a throwaway database next to the default one; returns its URL and a function to drop it. */
async function createDatabase() {
  const name = `mast_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const drop = async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };
  return { name, url: url.toString(), drop };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `mast server` as a child; its (warn-level) logs go to our stderr, keeping stdout for results. */
function startServer(databaseUrl, port) {
  const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, MAST_BIN, 'server', '--port', String(port), '--backend-store-uri', databaseUrl],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, MAST_LOG_LEVEL: 'warn' },
      stdio: ['ignore', process.stderr, process.stderr],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, exited, stop };
}

/** Polls /ready (which pings the database) until the server has migrated and listens. */
async function waitReady(base, server) {
  let exitedEarly;
  server.exited.then((status) => {
    exitedEarly = status;
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`server exited before it was ready: ${JSON.stringify(exitedEarly)}`);
    try {
      const response = await fetch(`${base}/ready`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error('server not ready after 60 s');
}

/**
 * Creates the experiments through the API (as a user would), then bulk-loads the SearchRuns runs and
 * the filler experiments with INSERT ... SELECT from generate_series: one statement per table instead
 * of ~300,000 LogBatch items, a few seconds instead of minutes.
 */
async function seed(base, pool) {
  const experiment = async (name) =>
    (await call(base, 'POST', `${API}/experiments/create`, { name })).body.experiment_id;
  const searchExperimentId = await experiment('bench-search-runs');
  const createRunExperimentId = await experiment('bench-create-run');
  const logBatchExperimentId = await experiment('bench-log-batch');

  const started = Date.now();
  const now = Date.now() - 365 * 24 * 3600 * 1000;
  await seedSearchRuns(pool, searchExperimentId, now);
  await seedExperiments(pool, now);
  await pool.query('analyze');
  log(`seeded ${SEARCH_RUNS} runs and ${FILLER_EXPERIMENTS} experiments in ${Date.now() - started} ms`);

  const logBatchRuns = [];
  for (let i = 0; i < LOG_BATCH_RUNS; i++) {
    const { body } = await call(base, 'POST', `${API}/runs/create`, {
      experiment_id: logBatchExperimentId,
      start_time: Date.now(),
      tags: [{ key: 'mlflow.user', value: 'bench' }],
    });
    logBatchRuns.push({ runId: body.run.info.run_id, nextStep: 0 });
  }
  const historyRunId = (
    await call(base, 'POST', `${API}/runs/create`, {
      experiment_id: logBatchExperimentId,
      start_time: Date.now(),
    })
  ).body.run.info.run_id;
  const seeded = Date.now();
  await pool.query(
    `insert into tracking.metrics (run_uuid, key, step, timestamp, value)
     select $1, 'history', s, $2::int8 + s, sin(s / 100.0) from generate_series(0, ${HISTORY_POINTS - 1}) s`,
    [historyRunId, now],
  );
  await pool.query(
    `insert into tracking.metrics (run_uuid, key, step, timestamp, value)
     select $1, 'bulk', s, $2::int8 + s, sin(s / 1000.0) from generate_series(0, ${BULK_POINTS - 1}) s`,
    [historyRunId, now],
  );
  await pool.query('analyze tracking.metrics');
  log(`seeded ${HISTORY_POINTS} + ${BULK_POINTS} history points in ${Date.now() - seeded} ms`);
  return { searchExperimentId, createRunExperimentId, logBatchRuns, historyRunId };
}

/**
 * 25,000 finished runs. p0 cycles through v0..v4 and m0 is uniform in [0, 1), so the filter
 * `metrics.m0 > 0.5 and params.p0 = 'v0'` matches about 2,500 runs: a full page of 1,000 and more.
 * Each metric has one point, which is therefore also its latest value.
 */
async function seedSearchRuns(pool, experimentId, now) {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select setseed(0.42)');
    const runs = `from generate_series(1, ${SEARCH_RUNS}) i`;
    const runId = `md5('bench-run-' || i)`;
    await client.query(
      `insert into tracking.runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time,
         artifact_uri, lifecycle_stage)
       select ${runId}, $1::int8, 'bench-run-' || i, 'bench', 'FINISHED', $2::int8 + i * 1000,
         $2::int8 + i * 1000 + 60000, 'mlflow-artifacts:/' || $1::int8 || '/' || ${runId} || '/artifacts',
         'active'
       ${runs}`,
      [experimentId, now],
    );
    await client.query(
      `insert into tracking.params (run_uuid, key, value)
       select ${runId}, 'p' || k, 'v' || ((i + k) % 5)
       ${runs}, generate_series(0, ${KEYS_PER_RUN - 1}) k`,
    );
    await client.query(
      `insert into tracking.metrics (run_uuid, key, step, timestamp, value)
       select ${runId}, 'm' || k, 0, $1::int8 + i * 1000 + 30000, random()
       ${runs}, generate_series(0, ${KEYS_PER_RUN - 1}) k`,
      [now],
    );
    await client.query(
      `insert into tracking.tags (run_uuid, key, value)
       select ${runId}, t.key, coalesce(t.value, 'bench-run-' || i)
       ${runs}, (values ('mlflow.runName', null), ('mlflow.user', 'bench'),
         ('mlflow.source.name', 'train.py'), ('mlflow.source.type', 'LOCAL')) t (key, value)`,
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/** ~1,000 experiments with two tags each, ids from the table's identity as the API would assign. */
async function seedExperiments(pool, now) {
  await pool.query(
    `insert into tracking.experiments (name, artifact_location, creation_time, last_update_time)
     select 'bench-experiment-' || lpad(i::text, 4, '0'), '', $1::int8 + i, $1::int8 + i
     from generate_series(1, ${FILLER_EXPERIMENTS}) i`,
    [now],
  );
  await pool.query(
    `update tracking.experiments set artifact_location = 'mlflow-artifacts:/' || experiment_id
     where artifact_location = ''`,
  );
  await pool.query(
    `insert into tracking.experiment_tags (experiment_id, key, value)
     select experiment_id, t.key, t.value from tracking.experiments,
       (values ('mlflow.note.content', 'Seeded by the Mast benchmark'), ('team', 'bench')) t (key, value)
     where name like 'bench-experiment-%'`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Measuring.
// ---------------------------------------------------------------------------------------------------

/** Checks one real request of the shape before timing it (fail loudly rather than time errors). */
async function verifyShape(shape, fixture, base) {
  const request = shape.request(fixture);
  const body = request.setupRequest ? request.setupRequest({}).body : request.body;
  const first = await call(base, request.method, request.path, body);
  shape.verify(first.body);
  await shape.afterVerify?.(fixture, base);
}

/**
 * Drives one shape with autocannon for `seconds`. Latencies are taken from its `response` event
 * rather than from its result, whose HDR histogram has no p95 and rounds to whole milliseconds.
 */
async function measureHttp(request, base, seconds, connections, serverPid) {
  const latencies = [];
  const cpu = cpuMeter(serverPid);
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: base, connections, pipelining: 1, duration: seconds, headers: HEADERS, requests: [request] },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  return { latencies, seconds: result.duration, errors: result.errors, non2xx: result.non2xx, cpu: cpu() };
}

/**
 * The database's own speed for the LogBatch-1000 rows: the same connections sending 1000-row
 * multi-VALUES INSERTs into tracking.metrics of exactly the points LogBatch would write (the same
 * runs, keys and next steps), with no transaction and no HTTP around them.
 */
async function measureRawInsert(pool, runs, rowsPerInsert, seconds, serverPid) {
  const columns = ['run_uuid', 'key', 'step', 'timestamp', 'value'];
  const tuples = [];
  for (let row = 0; row < rowsPerInsert; row++) {
    tuples.push(`(${columns.map((_, c) => `$${row * columns.length + c + 1}`).join(', ')})`);
  }
  const text = `insert into tracking.metrics (${columns.join(', ')}) values ${tuples.join(', ')}`;

  let next = 0;
  const latencies = [];
  const cpu = cpuMeter(serverPid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (performance.now() < deadline) {
        const run = runs[next++ % runs.length];
        const step = run.nextStep++;
        const timestamp = Date.now();
        const values = [];
        for (let i = 0; i < rowsPerInsert; i++)
          values.push(run.runId, `metric_${i}`, step, timestamp, Math.random());
        const sent = performance.now();
        await client.query(text, values);
        latencies.push(performance.now() - sent);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return { latencies, seconds: (performance.now() - started) / 1000, errors: 0, non2xx: 0, cpu: cpu() };
}

/**
 * LogBatch-1000 and its raw INSERT baseline, alternating in ~5 s slices in the order ABBA ABBA...
 * Every insert makes tracking.metrics bigger and slower to insert into (its primary key soon
 * outgrows shared_buffers), so timing one after the other would hand the first a smaller table.
 */
async function measureAgainstRawInsert(shape, fixture, base, pool, serverPid) {
  const slicesEach = Math.max(1, Math.round(DURATION_S / 5));
  const sliceSeconds = DURATION_S / slicesEach;
  const request = shape.request(fixture);
  const http = [];
  const raw = [];
  for (let slice = 0; slice < 2 * slicesEach; slice++) {
    if ([0, 1, 1, 0][slice % 4] === 0) {
      raw.push(
        await measureRawInsert(pool, fixture.logBatchRuns, shape.metricsPerRequest, sliceSeconds, serverPid),
      );
    } else {
      http.push(await measureHttp(request, base, sliceSeconds, CONNECTIONS, serverPid));
    }
  }
  return {
    raw: summarize(`raw INSERT ${shape.metricsPerRequest} rows (pg)`, raw),
    result: summarize(shape.name, http),
  };
}

/** Throughput and exact percentiles (nearest rank) of the successful requests of one or more runs. */
function summarize(name, samples) {
  const sorted = Float64Array.from(samples.flatMap((sample) => sample.latencies)).sort();
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0);
  const percentile = (p) =>
    sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
  return {
    name,
    requests: sorted.length,
    seconds,
    rps: sorted.length / seconds,
    avg: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    p50: percentile(50),
    p95: percentile(95),
    p99: percentile(99),
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
    non2xx: samples.reduce((sum, sample) => sum + sample.non2xx, 0),
    cpu: {
      host: average((sample) => sample.cpu.host),
      server: average((sample) => sample.cpu.server),
      loadGenerator: average((sample) => sample.cpu.loadGenerator),
    },
  };
  /** Time-weighted over the samples. */
  function average(pick) {
    return samples.reduce((sum, sample) => sum + pick(sample) * sample.seconds, 0) / seconds;
  }
}

/**
 * CPU use while measuring, to tell a saturated machine from a waiting one: the whole host (% of all
 * cores), and in % of one core the server child and this process (autocannon or the pg baseline).
 * The server's share is read from /proc (Linux); elsewhere it is NaN.
 */
function cpuMeter(serverPid) {
  const start = {
    host: hostTimes(),
    server: processTicks(serverPid),
    self: process.cpuUsage(),
    at: performance.now(),
  };
  return () => {
    const seconds = (performance.now() - start.at) / 1000;
    const host = hostTimes();
    const self = process.cpuUsage(start.self);
    return {
      host: (100 * (host.busy - start.host.busy)) / (host.total - start.host.total),
      // /proc counts in clock ticks: USER_HZ, 100 on Linux.
      server: (processTicks(serverPid) - start.server) / seconds,
      loadGenerator: (100 * (self.user + self.system)) / 1e6 / seconds,
    };
  };
}

function hostTimes() {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** Whether a shape met its target; a shape with failed requests never does. */
function judge(shape, result, ratio) {
  const { target } = shape;
  const clean = result.errors === 0 && result.non2xx === 0;
  switch (target.kind) {
    case 'rps':
      return {
        goal: `>= ${target.min} req/s`,
        met: clean && result.rps >= target.min,
        by: result.rps / target.min,
      };
    case 'avg':
      return {
        goal: `avg <= ${target.max} ms`,
        met: clean && result.avg <= target.max,
        by: target.max / result.avg,
      };
    case 'ratio':
      return { goal: `>= ${target.min} x raw`, met: clean && ratio >= target.min, by: ratio / target.min };
    case 'ratio-of':
      return {
        goal: `>= ${target.min} x ${target.of}`,
        met: clean && ratio >= target.min,
        by: ratio / target.min,
      };
    case 'p99':
      return {
        goal: `p99 <= ${target.max} ms, after <= ${target.max} ms`,
        met: clean && result.p99 <= target.max && result.afterMs <= target.max,
        by: target.max / Math.max(result.p99, result.afterMs),
      };
  }
}

// ---------------------------------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------------------------------

function printTable(rows, ratio) {
  const header = [
    'shape',
    'req/s',
    'avg ms',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'err/non2xx',
    'cpu host/srv/gen',
    'target',
    'result',
  ];
  const lines = rows.map(({ result, verdict }) => [
    result.name,
    result.rps.toFixed(0),
    result.avg.toFixed(1),
    result.p50.toFixed(1),
    result.p95.toFixed(1),
    result.p99.toFixed(1),
    `${result.errors}/${result.non2xx}`,
    [result.cpu.host, result.cpu.server, result.cpu.loadGenerator].map((value) => value.toFixed(0)).join('/'),
    verdict?.goal ?? '',
    verdict ? `${verdict.met ? 'met' : 'MISSED'} (${verdict.by.toFixed(2)}x)` : '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (cells) =>
    cells
      .map((cell, i) => (i === 0 || i >= 8 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of lines) console.log(format(line));
  if (ratio !== undefined) {
    const logBatch = rows.find((row) => row.result.name === 'LogBatch-1000')?.result;
    const raw = rows.find((row) => row.result.name.startsWith('raw INSERT'))?.result;
    console.log(
      `\nLogBatch-1000 metric points/s: ${fmt(logBatch.rps * 1000)}; raw INSERT points/s: ${fmt(raw.rps * 1000)}; ratio ${ratio.toFixed(2)}`,
    );
  }
  console.log('\n(x) = how far from the target: > 1 is better than needed, < 1 is the shortfall.');
  console.log(
    'cpu = % of all cores busy on the host / % of one core used by the server / by the load generator.',
  );
}

function fmt(value) {
  return Math.round(value).toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------------

/**
 * JSON as the Python client writes it: `requests(json=...)` uses json.dumps, whose separators are
 * ", " and ": ". Field order is the proto's, as MessageToJson emits it.
 */
function pythonJson(value) {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** One request outside the load run; anything but a 200 with a JSON body stops the benchmark. */
async function call(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: HEADERS,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`${method} ${path} -> ${response.status}: ${text.slice(0, 500)}`);
  return { status: response.status, body: JSON.parse(text) };
}

function expect(condition, what) {
  if (!condition) throw new Error(`verification failed: expected ${what}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(message) {
  console.error(`[bench] ${message}`);
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const shapes = SHAPES.filter((shape) => !ONLY_SHAPES || ONLY_SHAPES.includes(shape.name));
  if (shapes.length === 0) throw new Error(`MAST_BENCH_SHAPES matches none of ${SHAPES.map((s) => s.name)}`);
  const cleanups = [];
  const cleanup = async () => {
    while (cleanups.length)
      await cleanups
        .pop()()
        .catch((error) => log(`cleanup: ${error.message}`));
  };
  process.once('SIGINT', () => cleanup().finally(() => process.exit(130)));

  // Everything else on the machine competes for the same cores: say so rather than print low numbers.
  const idle = cpuMeter(process.pid);
  await sleep(2000);
  const busy = idle().host;
  if (busy > 10)
    log(
      `warning: the machine is ${busy.toFixed(0)}% busy before the start; other processes will skew the numbers`,
    );

  try {
    const database = await createDatabase();
    if (KEEP_DATABASE) {
      log(`database ${database.url} (kept)`);
    } else {
      cleanups.push(database.drop);
      log(`database ${database.name}`);
    }
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = startServer(database.url, port);
    cleanups.push(server.stop);
    await waitReady(base, server);
    log(`server ready at ${base} (pid ${server.child.pid})`);

    const pool = new pg.Pool({ connectionString: database.url, max: CONNECTIONS });
    cleanups.push(() => pool.end());
    const fixture = await seed(base, pool);

    const rows = [];
    const ratios = {};
    let ratio;
    for (const shape of shapes) {
      const connections = shape.connections ?? CONNECTIONS;
      log(`${shape.name}: ${shape.describe}; ${connections} connection(s), ${DURATION_S} s`);
      if (shape.baseline) {
        const text = searchRunsBaselineSql(fixture.searchExperimentId);
        const sample = await measurePgQuery(pool, text, DURATION_S, CONNECTIONS, server.child.pid);
        const result = summarize(shape.name, [sample]);
        const measured = rows.find((row) => row.result.name === shape.baseline)?.result;
        rows.push({ result });
        if (measured) {
          const of = measured.rps / result.rps;
          log(`${shape.baseline} / ${shape.name} req/s: ${of.toFixed(2)} (target >= 0.5)`);
          ratios[`${shape.baseline}/${shape.name}`] = of;
        }
        continue;
      }
      await verifyShape(shape, fixture, base);
      if (shape.underLoad) {
        const load = SHAPES.find((candidate) => candidate.name === shape.underLoad);
        const sample = await measureUnderLoad(shape, load, fixture, base, server.child.pid);
        const result = { ...summarize(shape.name, [sample]), afterMs: sample.afterMs };
        log(
          `${shape.name}: p99 ${result.p99.toFixed(1)} ms under load, ${result.afterMs.toFixed(1)} ms after`,
        );
        rows.push({ result, verdict: judge(shape, result) });
        continue;
      }
      if (shape.target.kind === 'ratio-of') {
        const sample = await measureHttp(
          shape.request(fixture),
          base,
          DURATION_S,
          connections,
          server.child.pid,
        );
        const result = summarize(shape.name, [sample]);
        const of = rows.find((row) => row.result.name === shape.target.of)?.result;
        const shapeRatio = of ? result.rps / of.rps : Number.NaN;
        ratios[`${shape.name}/${shape.target.of}`] = shapeRatio;
        rows.push({ result, verdict: judge(shape, result, shapeRatio) });
        continue;
      }
      if (shape.target.kind === 'ratio') {
        const { raw, result } = await measureAgainstRawInsert(shape, fixture, base, pool, server.child.pid);
        ratio = result.rps / raw.rps;
        rows.push({ result: raw }, { result, verdict: judge(shape, result, ratio) });
      } else {
        const sample = await measureHttp(
          shape.request(fixture),
          base,
          DURATION_S,
          connections,
          server.child.pid,
        );
        const result = summarize(shape.name, [sample]);
        rows.push({ result, verdict: judge(shape, result) });
      }
    }

    const setup = {
      node: process.version,
      cpus: cpus().length,
      postgres: (await pool.query('show server_version')).rows[0].server_version,
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
    };
    if (JSON_OUTPUT) {
      const shapesOut = rows.map(({ result, verdict }) => ({
        ...result,
        target: verdict?.goal,
        met: verdict?.met,
      }));
      console.log(
        JSON.stringify({ setup, shapes: shapesOut, logBatch1000ToRawInsertRatio: ratio, ratios }, null, 2),
      );
    } else {
      console.log(
        `\nMast tracking benchmark: Node ${setup.node}, PostgreSQL ${setup.postgres}, ${setup.cpus} CPUs, ` +
          `${CONNECTIONS} connections x ${DURATION_S} s per shape\n`,
      );
      printTable(rows, ratio);
      for (const [name, value] of Object.entries(ratios)) console.log(`ratio ${name}: ${value.toFixed(2)}`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
