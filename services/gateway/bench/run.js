#!/usr/bin/env node
// Gateway benchmark, in one run against a real PostgreSQL:
//
//   1. A dashboard query (an experiment's 100 runs with their 10 latest metrics, 10 params and tags)
//      through the gateway (`mast server`: the all-in-one process, tracking subgraph in-process) vs the
//      same query straight to the tracking subgraph (the tracking service's own process, /graphql).
//      Targets: gateway p50 / subgraph p50 <= 1.3, gateway p50 <= 30 ms.
//   2. `metricHistory` of a 1,000,000-point series to 1,000 buckets through the gateway. Target: <= 50 ms.
//      Also printed: the same downsampling in SQL only, from the chunk summaries and by scanning points.
//
//   npm run build && npm run bench:gateway
//   MAST_BENCH_ITERATIONS=500 npm run bench:gateway      (more samples; default 300)
//   npm run bench:gateway -- --json                      (results as JSON on stdout)
//
// MAST_BENCH_POSTGRES_URL: server to use (default postgresql://postgres@127.0.0.1:5432/test); a fresh
// database mast_bench_gw_<random> is created there and dropped at the end. Both servers run as child
// processes, so neither shares an event loop with the load generator. Requests are sequential (one at
// a time): latency, not throughput. Progress goes to stderr, results to stdout.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const POSTGRES_URL = process.env.MAST_BENCH_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const ITERATIONS = Number(process.env.MAST_BENCH_ITERATIONS || 300);
const JSON_OUTPUT = process.argv.includes('--json');
const MAST_BIN = fileURLToPath(new URL('../../client/bin/mast.js', import.meta.url));
const TRACKING_MAIN = fileURLToPath(new URL('../../tracking/dist/main.js', import.meta.url));
const GRAPH_STORE = new URL('../../tracking/dist/store/graph-store.js', import.meta.url);
const T0 = 1_700_000_000_000;
const POINTS = 1_000_000;

const log = (message) => process.stderr.write(`${message}\n`);

const DASHBOARD_QUERY = `query Dashboard($ids: [ID!]!) {
  runs(experimentIds: $ids, first: 100) {
    nodes {
      id name status startTime endTime
      latestMetrics { key value step timestamp }
      params { key value }
      tags { key value }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const HISTORY_QUERY = `query History($id: ID!, $start: Long, $end: Long) {
  run(id: $id) {
    metricHistory(key: "loss", maxPoints: 1000, startStep: $start, endStep: $end) {
      totalPoints downsampled
      buckets { startStep endStep count min { step value } max { step value } last { step value } }
    }
  }
}`;

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function start(name, args, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [...args(port)], {
    env: { ...process.env, MAST_LOG_LEVEL: 'warn', MAST_HOST: '127.0.0.1', MAST_PORT: String(port), ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { base, child };
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (response.status !== 200 || json.errors || json.error_code) {
    throw new Error(`${url}: ${response.status} ${JSON.stringify(json).slice(0, 500)}`);
  }
  return json;
}

async function seed(tracking, database) {
  const api = `${tracking}/api/2.0/mlflow`;
  const { experiment_id: experimentId } = await post(`${api}/experiments/create`, { name: 'dashboard' });
  const runIds = [];
  for (let i = 0; i < 100; i++) {
    const { run } = await post(`${api}/runs/create`, {
      experiment_id: experimentId,
      run_name: `run-${i}`,
      start_time: T0 + i,
      tags: [
        { key: 'mlflow.user', value: 'ada' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'team', value: i % 2 ? 'risk' : 'ops' },
      ],
    });
    runIds.push(run.info.run_id);
    await post(`${api}/runs/log-batch`, {
      run_id: run.info.run_id,
      metrics: Array.from({ length: 10 }, (_, k) => ({
        key: `metric_${k}`,
        value: Math.random(),
        timestamp: T0 + k,
        step: k,
      })),
      params: Array.from({ length: 10 }, (_, k) => ({ key: `param_${k}`, value: `value-${i}-${k}` })),
    });
  }
  log(`seeded 100 runs × (10 metrics, 10 params, 5 tags)`);
  const started = Date.now();
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  // Two one-point spikes the downsampled series must keep.
  await client.query(
    `insert into tracking.metrics (run_uuid, key, step, timestamp, value)
     select $1, 'loss', g, $2::int8 + g,
       case when g = 777777 then 100 when g = 333333 then -100 else sin(g / 5000.0) end
     from generate_series(0, ${POINTS - 1}) g`,
    [runIds[0], T0],
  );
  await client.query('vacuum analyze tracking.metrics');
  await client.end();
  log(
    `seeded a ${POINTS.toLocaleString('en')}-point series in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { experimentId, runIds };
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    p50: at(0.5),
    p95: at(0.95),
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    n: sorted.length,
  };
}

async function timed(url, body) {
  const t0 = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  const elapsed = performance.now() - t0;
  if (response.status !== 200 || text.includes('"errors"')) throw new Error(`${url}: ${text.slice(0, 500)}`);
  return { elapsed, bytes: text.length };
}

/** Alternates between targets in small rounds so drift (GC, caches) hits them alike. */
async function compare(targets, iterations) {
  const samples = Object.fromEntries(targets.map((t) => [t.name, []]));
  const bytes = {};
  for (const t of targets) for (let i = 0; i < 30; i++) bytes[t.name] = (await timed(t.url, t.body)).bytes;
  for (let done = 0; done < iterations; done += 10) {
    for (const t of targets) {
      for (let i = 0; i < 10; i++) samples[t.name].push((await timed(t.url, t.body)).elapsed);
    }
  }
  return Object.fromEntries(
    targets.map((t) => [t.name, { ...stats(samples[t.name]), bytes: bytes[t.name] }]),
  );
}

async function main() {
  const name = `mast_bench_gw_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const database = url.toString();
  const children = [];
  try {
    const tracking = await start('tracking', () => [TRACKING_MAIN], { MAST_BACKEND_STORE_URI: database });
    children.push(tracking.child);
    const server = await start('mast server', (port) => [MAST_BIN, 'server', '--port', String(port)], {
      MAST_BACKEND_STORE_URI: database,
    });
    children.push(server.child);
    const { experimentId, runIds } = await seed(tracking.base, database);

    log(`dashboard query: ${ITERATIONS} requests each, alternating`);
    const dashboardBody = JSON.stringify({ query: DASHBOARD_QUERY, variables: { ids: [experimentId] } });
    const dashboard = await compare(
      [
        { name: 'gateway', url: `${server.base}/graphql`, body: dashboardBody },
        { name: 'subgraph', url: `${tracking.base}/graphql`, body: dashboardBody },
      ],
      ITERATIONS,
    );

    log('metricHistory of the 1,000,000-point series to 1,000 buckets');
    const historyBody = JSON.stringify({ query: HISTORY_QUERY, variables: { id: runIds[0] } });
    const check = await post(`${server.base}/graphql`, JSON.parse(historyBody));
    const series = check.data.run.metricHistory;
    const maxima = series.buckets.map((b) => b.max.value);
    const minima = series.buckets.map((b) => b.min.value);
    const spikesKept = Math.max(...maxima) === 100 && Math.min(...minima) === -100;
    const zoomBody = JSON.stringify({
      query: HISTORY_QUERY,
      variables: { id: runIds[0], start: 250_000, end: 749_999 },
    });
    const history = await compare(
      [
        { name: 'gateway', url: `${server.base}/graphql`, body: historyBody },
        { name: 'zoom', url: `${server.base}/graphql`, body: zoomBody },
      ],
      100,
    );

    // The SQL alone, per strategy (the same buckets either way).
    const { GraphStore } = await import(GRAPH_STORE);
    const { Kysely, PostgresDialect } = await import('kysely');
    const pool = new pg.Pool({ connectionString: database, max: 2 });
    const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    const store = new GraphStore(db);
    const sqlTimes = {};
    for (const strategy of ['chunks', 'scan']) {
      const samples = [];
      for (let i = 0; i < (strategy === 'scan' ? 15 : 60); i++) {
        const t0 = performance.now();
        await store.downsample([{ runId: runIds[0], key: 'loss' }], { maxPoints: 1000, strategy });
        if (i >= 5) samples.push(performance.now() - t0);
      }
      sqlTimes[strategy] = stats(samples);
    }
    await db.destroy();

    const results = {
      dashboard: {
        gateway: dashboard.gateway,
        subgraph: dashboard.subgraph,
        ratio: dashboard.gateway.p50 / dashboard.subgraph.p50,
        targets: { ratio: 1.3, p50: 30 },
      },
      metricHistory: {
        points: series.totalPoints,
        buckets: series.buckets.length,
        spikesKept,
        gateway: history.gateway,
        zoom: history.zoom,
        sql: sqlTimes,
        target: { p50: 50 },
      },
    };
    if (JSON_OUTPUT) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      const ms = (x) => `${x.toFixed(1)} ms`;
      const row = (label, s, extra = '') =>
        `  ${label.padEnd(34)} p50 ${ms(s.p50).padStart(9)}   p95 ${ms(s.p95).padStart(9)}   mean ${ms(s.mean).padStart(9)}${extra}`;
      const pass = (ok) => (ok ? 'PASS' : 'FAIL');
      const d = results.dashboard;
      console.log(
        `\nDashboard query: 100 runs × (10 latest metrics, 10 params, 5 tags), ${d.gateway.bytes} bytes`,
      );
      console.log(row('through the gateway (mast server)', d.gateway));
      console.log(row('straight from the tracking subgraph', d.subgraph));
      console.log(
        `  gateway overhead ratio (p50)       ${d.ratio.toFixed(2)}   target <= 1.3   ${pass(d.ratio <= 1.3)}`,
      );
      console.log(
        `  gateway p50                        ${ms(d.gateway.p50)}   target <= 30 ms   ${pass(d.gateway.p50 <= 30)}`,
      );
      const h = results.metricHistory;
      console.log(
        `\nmetricHistory: ${h.points.toLocaleString('en')} points -> ${h.buckets} buckets (spikes kept: ${h.spikesKept})`,
      );
      console.log(row('through the gateway', h.gateway));
      console.log(row('  zoomed on steps 250,000-749,999', h.zoom));
      console.log(row('SQL only, from chunk summaries', h.sql.chunks));
      console.log(row('SQL only, scanning every point', h.sql.scan));
      console.log(
        `  gateway p50                        ${ms(h.gateway.p50)}   target <= 50 ms   ${pass(h.gateway.p50 <= 50)}`,
      );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))),
      ),
    );
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
