#!/usr/bin/env node
// Model server benchmark: MLflow scoring over HTTP against an HTTP floor, and adaptive batching.
//
//   npm run build && npm run bench -w @mast/model-server
//   MAST_BENCH_DURATION=5 npm run bench -w @mast/model-server     (seconds per round; default 10)
//   MAST_BENCH_ROUNDS=5                                          (alternating rounds per server; default 3)
//
// 1. /invocations with one row (the linear model, dataframe_split) vs an HTTP floor: a bare Fastify
//    route that parses the same JSON body and answers a response of the same size without inference.
//    Target: requests/s >= 0.7 x the floor's. Measured without batching (the default) and with
//    adaptive batching that waits for nothing but the requests read in the same I/O phase; also as
//    server CPU time per request over 20,000 requests, which a busy shared machine disturbs less.
//    A second floor also runs the model once per request (one run of the model server's own synchronous
//    onnxruntime session on a fixed row): what serving one row per call costs before any of MLflow's
//    scoring path.
// 2. The heavy model (64 -> 2048 x3 -> 1 MLP, 34 MB) at 64 concurrent one-row callers, without and with
//    adaptive batching (max 64 rows, 2 ms). Target: batching >= 2 x the requests/s.
//
// Each server is its own child process (`dist/main.js`, or bench/floor.js), so that it does not share an
// event loop with the load generator (autocannon). Test models are generated with Debian's python3.

import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url));
const GENERATOR = fileURLToPath(new URL('../test/support/generate_models.py', import.meta.url));
const DURATION_S = Number(process.env.MAST_BENCH_DURATION || 10);
const ROUNDS = Number(process.env.MAST_BENCH_ROUNDS || 3);
const PYTHON = process.env.MAST_TEST_PYTHON || '/usr/bin/python3';

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts a server process and waits until `readyPath` answers 200. */
async function startProcess(script, env, readyPath) {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, MAST_PORT: String(port), MAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(`${url}${readyPath}`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${script} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Runs autocannon: `connections` keep-alive clients POSTing `body` for DURATION_S seconds. */
async function load(url, body, connections) {
  const result = await autocannon({
    url: `${url}/invocations`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: DURATION_S,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx answers and ${result.errors} errors from ${url}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

/** A short warm-up (JIT, onnxruntime's first runs) before measuring. */
async function warmUp(url, body, connections) {
  await autocannon({
    url: `${url}/invocations`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: 2,
  });
}

const line = (name, figure, target, pass) =>
  process.stdout.write(
    `${name.padEnd(72)} ${figure.padEnd(34)} target ${target.padEnd(16)} ${pass ? 'ok' : 'MISSED'}\n`,
  );

/** A process's CPU time (user + system) in µs, from /proc (Linux; clock ticks of 10 ms). */
async function cpuMicros(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** The server's CPU time per request over a fixed number of requests: steadier than requests/s. */
async function cpuPerRequest(server, body, connections, amount = 20_000) {
  const before = await cpuMicros(server.pid);
  await autocannon({
    url: `${server.url}/invocations`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    amount,
  });
  return ((await cpuMicros(server.pid)) - before) / amount;
}

/** The measurement with the median requests/s. */
function median(results) {
  return [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)];
}

/**
 * Measures several servers in alternating rounds (A B A B ...) and keeps each one's median round, so
 * that a burst of load from elsewhere on a shared machine does not land on one side only.
 */
async function alternate(servers, body, connections) {
  for (const server of servers) await warmUp(server.url, body, connections);
  const results = servers.map(() => []);
  for (let round = 0; round < ROUNDS; round++)
    for (const [index, server] of servers.entries())
      results[index].push(await load(server.url, body, connections));
  return results.map(median);
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'mast-bench-models-'));
  await promisify(execFile)(PYTHON, [GENERATOR, root]);
  process.stderr.write(`models generated in ${root}; ${ROUNDS} rounds of ${DURATION_S} s per server\n`);

  // 1. Batch-1 scoring vs the HTTP floor.
  const oneRow = JSON.stringify({
    dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [[1, 2, 3, 4]] },
  });
  const linear = await startProcess(MAIN, { MAST_MODEL_DIR: join(root, 'linear') }, '/ping');
  const sample = await (
    await fetch(`${linear.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: oneRow,
    })
  ).text();
  const linearBatched = await startProcess(
    MAIN,
    { MAST_MODEL_DIR: join(root, 'linear'), MAST_BATCHING: 'true', MAST_BATCH_MAX_WAIT_MS: '0' },
    '/ping',
  );
  const floor = await startProcess(FLOOR, { MAST_BENCH_FLOOR_RESPONSE: sample }, '/ping');
  const floorWithModel = await startProcess(
    FLOOR,
    { MAST_BENCH_FLOOR_RESPONSE: sample, MAST_BENCH_FLOOR_MODEL: join(root, 'linear', 'model.onnx') },
    '/ping',
  );
  const connections = 16;
  const servers = [linear, linearBatched, floor, floorWithModel];
  const [served, servedBatched, bare, bareWithModel] = await alternate(servers, oneRow, connections);
  const cpu = [];
  for (const server of servers) cpu.push(await cpuPerRequest(server, oneRow, connections));
  for (const server of servers) await server.stop();

  // 2. The heavy model at 64 concurrent one-row callers, without and with adaptive batching.
  const heavyRow = JSON.stringify({
    inputs: [Array.from({ length: 64 }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000)],
  });
  const unbatched = await startProcess(MAIN, { MAST_MODEL_DIR: join(root, 'heavy') }, '/ping');
  const batched = await startProcess(
    MAIN,
    {
      MAST_MODEL_DIR: join(root, 'heavy'),
      MAST_BATCHING: 'true',
      MAST_BATCH_MAX_SIZE: '64',
      MAST_BATCH_MAX_WAIT_MS: '2',
    },
    '/ping',
  );
  const [without, withBatching] = await alternate([unbatched, batched], heavyRow, 64);
  const metrics = await (await fetch(`${batched.url}/metrics`)).text();
  const rowsPerCall =
    Number(/^mast_model_batch_rows_sum (\S+)$/m.exec(metrics)[1]) /
    Number(/^mast_model_batch_rows_count (\S+)$/m.exec(metrics)[1]);
  await unbatched.stop();
  await batched.stop();

  const ratio = served.rps / bare.rps;
  const ratioBatched = servedBatched.rps / bare.rps;
  const speedup = withBatching.rps / without.rps;
  const figures = (r) => `${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;
  process.stdout.write('\n');
  line(`/invocations batch-1 (linear, ${connections} connections)`, figures(served), '', true);
  line('HTTP floor (same body parsed, same-size answer)', figures(bare), '', true);
  line('HTTP floor + one onnxruntime session.run per request', figures(bareWithModel), '', true);
  line('/invocations vs floor (requests/s)', `${ratio.toFixed(2)} x`, '>= 0.7 x', ratio >= 0.7);
  line(
    'floor + session.run vs floor (requests/s): the bound without batching',
    `${(bareWithModel.rps / bare.rps).toFixed(2)} x`,
    '',
    true,
  );
  line('/invocations batch-1, adaptive batching (wait 0: one I/O phase)', figures(servedBatched), '', true);
  line(
    '/invocations with batching vs floor (requests/s)',
    `${ratioBatched.toFixed(2)} x`,
    '>= 0.7 x',
    ratioBatched >= 0.7,
  );
  line(
    'server CPU per request: Mast / with batching / floor / floor + session.run',
    `${cpu.map((micros) => `${Math.round(micros)}`).join(' / ')} µs`,
    '',
    true,
  );
  const [cpuServed, cpuBatched, cpuFloor, cpuFloorWithModel] = cpu;
  line(
    'same as a ratio of CPU per request (floor / Mast)',
    `${(cpuFloor / cpuServed).toFixed(2)} x`,
    '>= 0.7 x',
    cpuFloor / cpuServed >= 0.7,
  );
  line(
    'floor / (floor + session.run): the bound without batching',
    `${(cpuFloor / cpuFloorWithModel).toFixed(2)} x`,
    '',
    true,
  );
  line(
    'same with batching (floor / Mast)',
    `${(cpuFloor / cpuBatched).toFixed(2)} x`,
    '>= 0.7 x',
    cpuFloor / cpuBatched >= 0.7,
  );
  line('heavy model, 64 callers, without batching', figures(without), '', true);
  line(
    `heavy model, 64 callers, with adaptive batching (${rowsPerCall.toFixed(1)} rows/call)`,
    figures(withBatching),
    '',
    true,
  );
  line('adaptive batching speed-up (requests/s)', `${speedup.toFixed(2)} x`, '>= 2 x', speedup >= 2);
}

await main();
