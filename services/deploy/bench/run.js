// Model-image build benchmark (issue 12): a 50 MB model directory built into an image on a real
// registry (Debian `docker-registry`, filesystem storage, loopback) vs `gzip -1` of the same bytes in
// the same run; then a rebuild of the unchanged version with the same cache, timed and its requests counted.
// Run `npm run build` first, then `npm run bench -w @mast/deploy` (or `node services/deploy/bench/run.js`).
// Environment: BENCH_BYTES (default 50 MB), BENCH_ROUNDS (default 3; the best round of each side counts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '..', 'dist', 'oci');
const BYTES = Number(process.env.BENCH_BYTES ?? 50 * 1000 * 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MIN_RATIO = 0.8;
const MAX_REBUILD_SECONDS = 0.5;
const MB = 1000 * 1000;

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

async function startRegistry(dir) {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'registry')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  // Its log is quiet but for 404s, which every HEAD of a missing blob makes: not shown.
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`http://${host}/v2/`).catch(() => undefined);
    if (response?.ok) return { host, child };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill();
  throw new Error('docker-registry never answered');
}

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A tiny OCI base image (one layer with one file), pushed with the library's own client. */
async function pushBase(RegistryClient, host) {
  const client = new RegistryClient({ registry: host, insecure: true });
  const header = Buffer.alloc(512);
  header.write('etc/base-release', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000005\0', 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(512);
  body.write('base\n');
  const layerTar = Buffer.concat([header, body, Buffer.alloc(1024)]);
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin:/bin'] },
      rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
      history: [{ created_by: 'bench base' }],
    }),
  );
  await client.pushBlob('base/bench', { digest: sha256(layer), size: layer.length, data: layer });
  await client.pushBlob('base/bench', { digest: sha256(config), size: config.length, data: config });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    }),
  );
  await client.putManifest('base/bench', '1.0', 'application/vnd.oci.image.manifest.v1+json', manifest);
}

/**
 * The model: `MLmodel`, a few small files and one weights file making up BYTES in total. The weights
 * are pseudo-random but compressible like real float weights (gzip -1 keeps about 60%).
 */
async function makeModel(dir) {
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  const small = { MLmodel: 'flavors:\n  onnx:\n    data: model.onnx\n', 'requirements.txt': 'onnx\n' };
  for (const [name, text] of Object.entries(small)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'artifacts', 'labels.json'), JSON.stringify([...Array(1000).keys()]));
  const weights = Buffer.allocUnsafe(BYTES - 8000);
  let state = 0x9e3779b9;
  for (let i = 0; i < weights.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    weights[i] = (state >>> 0) % 23 < 12 ? (state >>> 8) & 0x0f : 0x20 + ((state >>> 16) & 3);
  }
  await writeFile(join(dir, 'model.onnx'), weights);
  return ['MLmodel', 'requirements.txt', 'artifacts/labels.json', 'model.onnx'].map((name) =>
    join(dir, name),
  );
}

async function gzipSeconds(files) {
  const started = performance.now();
  const child = spawn('gzip', ['-1', '-c', ...files], { stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`gzip exited with ${code}`);
  return (performance.now() - started) / 1000;
}

async function main() {
  if (!existsSync(join(DIST, 'build.js'))) {
    console.error(`${DIST}/build.js is missing: run \`npm run build\` first.`);
    process.exit(2);
  }
  const { buildModelImage } = await import(join(DIST, 'build.js'));
  const { BuildCache } = await import(join(DIST, 'cache.js'));
  const { RegistryClient } = await import(join(DIST, 'client.js'));
  const work = await mkdtemp(join(tmpdir(), 'mast-deploy-bench-'));
  const registry = await startRegistry(work);
  try {
    await pushBase(RegistryClient, registry.host);
    const modelDir = join(work, 'model');
    const files = await makeModel(modelDir);
    const options = (round, cache, onRequest) => ({
      base: `${registry.host}/base/bench:1.0`,
      target: `${registry.host}/models/bench-${round}:1`,
      modelDir,
      labels: { name: 'bench', version: '1', flavor: 'onnx' },
      env: { MAST_MODEL_DIR: '/opt/ml/model' },
      insecureRegistries: [registry.host],
      cache,
      onRequest,
    });

    let bestGzip = Number.POSITIVE_INFINITY;
    let bestBuild = Number.POSITIVE_INFINITY;
    let last;
    console.log(`model: ${(BYTES / MB).toFixed(0)} MB in ${files.length} files; ${ROUNDS} rounds`);
    console.log('round  gzip -1 s  gzip MB/s  build s  build MB/s  ratio  pushed MB');
    for (let round = 1; round <= ROUNDS; round++) {
      const gzip = await gzipSeconds(files);
      const cache = new BuildCache(join(work, `cache-${round}`));
      const started = performance.now();
      const built = await buildModelImage(options(round, cache));
      const seconds = (performance.now() - started) / 1000;
      last = { round, cache, built };
      bestGzip = Math.min(bestGzip, gzip);
      bestBuild = Math.min(bestBuild, seconds);
      console.log(
        [
          String(round).padStart(5),
          gzip.toFixed(3).padStart(10),
          (BYTES / MB / gzip).toFixed(1).padStart(10),
          seconds.toFixed(3).padStart(8),
          (BYTES / MB / seconds).toFixed(1).padStart(11),
          (gzip / seconds).toFixed(2).padStart(6),
          (built.pushedBytes / MB).toFixed(1).padStart(10),
        ].join(' '),
      );
    }

    const requests = {};
    const started = performance.now();
    const rebuilt = await buildModelImage(
      options(last.round, last.cache, ({ method }) => {
        requests[method] = (requests[method] ?? 0) + 1;
      }),
    );
    const rebuildSeconds = (performance.now() - started) / 1000;
    const ratio = bestGzip / bestBuild;
    console.log(
      `\nmachine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(
      `best build ${(BYTES / MB / bestBuild).toFixed(1)} MB/s vs gzip -1 ${(BYTES / MB / bestGzip).toFixed(1)} MB/s: ratio ${ratio.toFixed(2)} (target >= ${MIN_RATIO})`,
    );
    console.log(
      `rebuild of the unchanged version: ${rebuildSeconds.toFixed(3)} s (target <= ${MAX_REBUILD_SECONDS}), same digest: ${rebuilt.digest === last.built.digest}, requests: ${JSON.stringify(requests)}, pushed bytes: ${rebuilt.pushedBytes}`,
    );
    const onlyHeads = Object.keys(requests).every((method) => method === 'HEAD');
    const ok =
      ratio >= MIN_RATIO &&
      rebuildSeconds <= MAX_REBUILD_SECONDS &&
      onlyHeads &&
      rebuilt.digest === last.built.digest;
    console.log(
      `\ntargets: ratio >= ${MIN_RATIO}, rebuild <= ${MAX_REBUILD_SECONDS} s with HEAD requests only: ${ok ? 'PASS' : 'FAIL'}`,
    );
    process.exitCode = ok ? 0 : 1;
  } finally {
    registry.child.kill();
    await once(registry.child, 'exit');
    await rm(work, { recursive: true, force: true });
  }
}

await main();
