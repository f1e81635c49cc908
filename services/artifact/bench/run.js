// Artifact proxy benchmark: 1 GiB up and down through Mast's proxy vs the same transfer straight to
// the S3 backend with the `minio` client, in the same run, plus the Mast process's peak RSS growth.
// Run `npm run build` first, then `npm run bench -w @mast/artifact` (or `node services/artifact/bench/run.js`).
// Environment: BENCH_BYTES (default 1 GiB), BENCH_ROUNDS (default 2; the best round counts),
// BENCH_PRESIGNED=1 (the server answers downloads with a redirect to a presigned S3 URL),
// BENCH_SERVER_FLAGS (node flags for the server process, e.g. `--single-threaded-gc`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'minio';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'dist', 'main.js');
const BYTES = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PRESIGNED = process.env.BENCH_PRESIGNED === '1';
const BUCKET = 'bench';
const KEY = 'S3RVER';
const MIN_RATIO = 0.8;
const MAX_RSS_GROWTH = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a child and resolves once `ready` says so (a line matching it on stdout, or a probe). */
function startChild(args, env, ready) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = ready(out);
      if (match !== undefined) resolve({ child, match });
    });
  });
}

async function waitForHttp(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered`);
}

/** The source file: deterministic pseudo-random bytes, written once, hashed once (not timed). */
async function makeSource(path) {
  const block = Buffer.allocUnsafe(MiB);
  let state = 0x9e3779b9;
  for (let i = 0; i < MiB; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    block.writeUInt32LE(state >>> 0, i);
  }
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0, index = 0; written < BYTES; index++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, BYTES - written)));
    if (chunk.length >= 4) chunk.writeUInt32LE(index, 0);
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

function rssOf(pid, field = 'VmRSS') {
  return readFile(`/proc/${pid}/status`, 'utf8').then((status) => {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  });
}

const TICKS = 100; // USER_HZ
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds each process (and this one) spent during `transfer`. */
async function cpuDuring(pids, transfer) {
  const before = await Promise.all(pids.map(cpuSeconds));
  const self = process.cpuUsage();
  const result = await transfer();
  const after = await Promise.all(pids.map(cpuSeconds));
  const mine = process.cpuUsage(self);
  return { result, cpu: [...after.map((a, i) => a - before[i]), (mine.user + mine.system) / 1e6] };
}

/** Runs `transfer` while sampling the server's RSS; returns seconds and the peak growth in bytes. */
async function measured(pid, transfer) {
  let baseline = 0;
  let peak = 0;
  let sampler;
  if (pid !== undefined) {
    await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined); // resets VmHWM
    baseline = await rssOf(pid);
    peak = baseline;
    sampler = setInterval(() => {
      rssOf(pid).then(
        (rss) => {
          peak = Math.max(peak, rss);
        },
        () => undefined,
      );
    }, 20);
  }
  const started = process.hrtime.bigint();
  const result = await transfer();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (pid !== undefined) {
    clearInterval(sampler);
    peak = Math.max(peak, await rssOf(pid, 'VmHWM'));
  }
  return { seconds, growth: peak - baseline, result };
}

function hashStream(stream) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}

function proxyPut(port, path, file) {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `/api/2.0/mlflow-artifacts/artifacts/${path}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(BYTES) },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        response.statusCode === 200 ? resolve() : reject(new Error(`PUT ${response.statusCode} ${body}`)),
      );
    });
    createReadStream(file, { highWaterMark: MiB }).pipe(request);
  });
}

/** GETs through the proxy, following a redirect as the Python client (requests) does. */
function proxyGet(port, path) {
  const get = (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, (response) => {
          if (response.statusCode === 302 && response.headers.location) {
            response.resume();
            get(response.headers.location).then(resolve, reject);
            return;
          }
          if (response.statusCode !== 200) reject(new Error(`GET ${response.statusCode}`));
          hashStream(response).then(resolve, reject);
        })
        .on('error', reject);
    });
  return get(`http://127.0.0.1:${port}/api/2.0/mlflow-artifacts/artifacts/${path}`);
}

async function main() {
  if (!existsSync(MAIN)) {
    console.error(`${MAIN} is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
  const work = await mkdtemp(join(tmpdir(), 'mast-artifact-bench-'));
  const children = [];
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  try {
    const source = join(work, 'source.bin');
    process.stdout.write(`generating ${(BYTES / MiB).toFixed(0)} MiB of test data... `);
    const expected = await makeSource(source);
    console.log('done');

    const s3 = await startChild(
      [join(here, 's3rver-process.js'), join(work, 's3'), BUCKET],
      {},
      (out) => /ready (\d+)/.exec(out)?.[1],
    );
    children.push(s3.child);
    const s3Port = Number(s3.match);
    const mastPort = await freePort();
    const serverFlags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
    const mast = spawn(process.execPath, [...serverFlags, MAIN], {
      env: {
        ...process.env,
        MAST_HOST: '127.0.0.1',
        MAST_PORT: String(mastPort),
        MAST_LOG_LEVEL: 'warn',
        MAST_ARTIFACTS_DESTINATION: `s3://${BUCKET}/proxy`,
        MAST_S3_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
        AWS_ACCESS_KEY_ID: KEY,
        AWS_SECRET_ACCESS_KEY: KEY,
        MAST_S3_PRESIGNED_DOWNLOADS: String(PRESIGNED),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(mast);
    await waitForHttp(`http://127.0.0.1:${mastPort}/ready`);

    const client = new Client({
      endPoint: '127.0.0.1',
      port: s3Port,
      useSSL: false,
      accessKey: KEY,
      secretKey: KEY,
      region: 'us-east-1',
      pathStyle: true,
    });
    client.findUploadId = async () => undefined; // s3rver lacks ListMultipartUploads (ENVIRONMENT.md)

    const best = {
      directUp: Infinity,
      proxyUp: Infinity,
      directDown: Infinity,
      proxyDown: Infinity,
      rssUp: 0,
      rssDown: 0,
    };
    const pids = [s3.child.pid, mast.pid];
    const cpuText = (cpu) =>
      `cpu s3rver ${cpu[0].toFixed(1)} s, mast ${cpu[1].toFixed(1)} s, client ${cpu[2].toFixed(1)} s`;
    for (let round = 1; round <= ROUNDS; round++) {
      const run = (pid, transfer) => measured(pid, () => cpuDuring(pids, transfer));
      const directUp = await run(undefined, () =>
        client.putObject(
          BUCKET,
          'direct/source.bin',
          createReadStream(source, { highWaterMark: MiB }),
          BYTES,
        ),
      );
      const proxyUp = await run(mast.pid, () => proxyPut(mastPort, 'source.bin', source));
      const directDown = await run(undefined, async () =>
        hashStream(await client.getObject(BUCKET, 'direct/source.bin')),
      );
      const proxyDown = await run(mast.pid, () => proxyGet(mastPort, 'source.bin'));
      if (directDown.result.result !== expected || proxyDown.result.result !== expected) {
        throw new Error('sha256 mismatch after the round trip');
      }
      console.log(`round ${round}:`);
      for (const [name, m] of [
        ['upload, direct', directUp],
        ['upload, proxy', proxyUp],
        ['download, direct', directDown],
        ['download, proxy', proxyDown],
      ]) {
        const rss = name.endsWith('proxy') ? `, mast RSS +${(m.growth / MiB).toFixed(1)} MiB` : '';
        console.log(
          `  ${name.padEnd(16)} ${m.seconds.toFixed(2).padStart(6)} s  (${cpuText(m.result.cpu)}${rss})`,
        );
      }
      best.directUp = Math.min(best.directUp, directUp.seconds);
      best.proxyUp = Math.min(best.proxyUp, proxyUp.seconds);
      best.directDown = Math.min(best.directDown, directDown.seconds);
      best.proxyDown = Math.min(best.proxyDown, proxyDown.seconds);
      best.rssUp = Math.max(best.rssUp, proxyUp.growth);
      best.rssDown = Math.max(best.rssDown, proxyDown.growth);
      await client.removeObject(BUCKET, 'direct/source.bin');
      await client.removeObject(BUCKET, 'proxy/source.bin');
    }

    const mb = BYTES / MiB;
    const upRatio = best.directUp / best.proxyUp;
    const downRatio = best.directDown / best.proxyDown;
    const rows = [
      ['upload', mb / best.directUp, mb / best.proxyUp, upRatio, best.rssUp],
      ['download', mb / best.directDown, mb / best.proxyDown, downRatio, best.rssDown],
    ];
    console.log(
      `\n${(BYTES / MiB).toFixed(0)} MiB, s3rver backend, best of ${ROUNDS} round(s), sha256 verified, ` +
        (PRESIGNED ? 'downloads redirected to presigned URLs' : 'downloads streamed through the proxy'),
    );
    console.log(
      `machine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log('direction  direct MiB/s  proxy MiB/s  ratio  server RSS growth');
    for (const [name, direct, proxy, ratio, rss] of rows) {
      console.log(
        `${name.padEnd(9)}  ${direct.toFixed(0).padStart(12)}  ${proxy.toFixed(0).padStart(11)}  ${ratio.toFixed(2).padStart(5)}  ${(rss / MiB).toFixed(1).padStart(13)} MiB`,
      );
    }
    const ok =
      upRatio >= MIN_RATIO &&
      downRatio >= MIN_RATIO &&
      best.rssUp <= MAX_RSS_GROWTH &&
      best.rssDown <= MAX_RSS_GROWTH;
    console.log(`\ntargets: ratio >= ${MIN_RATIO} both ways, RSS growth <= 64 MiB: ${ok ? 'PASS' : 'FAIL'}`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rm(work, { recursive: true, force: true });
  }
}

await main();
