// Deploy benchmark (issue 12): a 50 MB model directory built into an image on a real registry (Debian
// `docker-registry`, filesystem storage, loopback) vs `gzip -1` of the same bytes in the same run; a
// rebuild of the unchanged version with the same cache, timed and its requests counted; then, in
// `mast server` (all-in-one, PGlite) with a fake Kubernetes API server whose controller makes pods
// ready at once, the time from a stage transition's commit to LIVE for BENCH_VERSIONS (default 5)
// versions of a 50 MB model, each a different model (a full build, push and rollout).
// Run `npm run build` first, then `npm run bench -w @mast/deploy` (or `node services/deploy/bench/run.js`).
// Environment: BENCH_BYTES (default 50 MB), BENCH_ROUNDS (default 3; the best round of each side counts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 5);
const MAX_LIVE_P50_SECONDS = 5;
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
async function makeModel(dir, seed = 0x9e3779b9) {
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  const small = { MLmodel: 'flavors:\n  onnx:\n    data: model.onnx\n', 'requirements.txt': 'onnx\n' };
  for (const [name, text] of Object.entries(small)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'artifacts', 'labels.json'), JSON.stringify([...Array(1000).keys()]));
  const weights = Buffer.allocUnsafe(BYTES - 8000);
  let state = seed;
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

/** JSON over HTTP to the all-in-one server; throws on an error status. */
async function call(url, method, path, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/**
 * Transition commit to LIVE: each version's model uploaded as a run's artifacts and registered, then
 * timed from the `transition-stage` answer (the commit) until its deployment is LIVE.
 */
async function commitToLive(registry, work) {
  const gatewayDist = join(here, '..', '..', 'gateway', 'dist', 'index.js');
  const { buildAllInOne, loadAllInOneConfig } = await import(gatewayDist);
  const { startFakeKube } = await import(join(here, '..', 'dist', 'testing', 'fake-kube', 'index.js'));
  const kube = await startFakeKube();
  // The simulated controller on a fast clock: pods are ready within a few milliseconds.
  const ticker = setInterval(() => void kube.tick(1000, 10), 5);
  const kubeconfig = join(work, 'kubeconfig');
  await writeFile(kubeconfig, kube.kubeConfig().exportConfig());
  const server = await buildAllInOne(
    loadAllInOneConfig({
      MAST_BACKEND_STORE_URI: 'memory://',
      MAST_LOG_LEVEL: 'silent',
      MAST_ARTIFACTS_DESTINATION: join(work, 'artifacts'),
      MAST_DEPLOY_DATA_DIR: join(work, 'deployments'),
      MAST_DEPLOY_MODEL_SERVER_IMAGE: `${registry.host}/base/bench:1.0`,
      MAST_DEPLOY_PYTHON_IMAGE: `${registry.host}/base/bench:1.0`,
      MAST_DEPLOY_INSECURE_REGISTRIES: registry.host,
      KUBECONFIG: kubeconfig,
    }),
  );
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const seconds = [];
  try {
    await call(url, 'POST', '/api/2.0/mast/deployments/targets/create', {
      name: 'bench',
      kind: 'KUBERNETES',
      namespace: 'bench',
      image_repository: `${registry.host}/models`,
    });
    await call(url, 'POST', '/api/2.0/mast/deployments/policies/create', {
      name: 'bench',
      model_name: 'bench',
      target_name: 'bench',
      trigger: { kind: 'STAGE', value: 'Production' },
    });
    await call(url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'bench' });
    console.log('\nversion  commit → LIVE s');
    for (let version = 1; version <= VERSIONS; version++) {
      const dir = join(work, `model-${version}`);
      const files = await makeModel(dir, 0x9e3779b9 + version);
      const run = (await call(url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).run.info;
      const root = run.artifact_uri.replace(/^mlflow-artifacts:\//, '');
      for (const file of files) {
        const name = file.slice(dir.length + 1);
        const upload = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${root}/model/${name}`, {
          method: 'PUT',
          body: await readFile(file),
        });
        if (!upload.ok) throw new Error(`upload ${name}: ${upload.status}`);
      }
      await call(url, 'POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'bench',
        source: `${run.artifact_uri}/model`,
        run_id: run.run_id,
      });
      const started = performance.now();
      await call(url, 'POST', '/api/2.0/mlflow/model-versions/transition-stage', {
        name: 'bench',
        version: String(version),
        stage: 'Production',
        archive_existing_versions: true,
      });
      for (;;) {
        const page = await call(
          url,
          'GET',
          `/api/2.0/mast/deployments/search?model_name=bench&version=${version}`,
        );
        const state = page.deployments?.[0]?.state;
        if (state === 'LIVE') break;
        if (state === 'FAILED' || state === 'ROLLED_BACK') {
          throw new Error(`version ${version}: ${state}: ${page.deployments[0].transitions.at(-1).reason}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const elapsed = (performance.now() - started) / 1000;
      seconds.push(elapsed);
      console.log(`${String(version).padStart(7)}  ${elapsed.toFixed(2).padStart(14)}`);
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    clearInterval(ticker);
    await server.close();
    await kube.close();
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
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
    const p50 = await commitToLive(registry, work);
    console.log(
      `transition commit to LIVE, ${(BYTES / MB).toFixed(0)} MB model, p50 of ${VERSIONS}: ${p50.toFixed(2)} s (target <= ${MAX_LIVE_P50_SECONDS} s)`,
    );
    const ok =
      ratio >= MIN_RATIO &&
      rebuildSeconds <= MAX_REBUILD_SECONDS &&
      onlyHeads &&
      rebuilt.digest === last.built.digest &&
      p50 <= MAX_LIVE_P50_SECONDS;
    console.log(
      `\ntargets: ratio >= ${MIN_RATIO}, rebuild <= ${MAX_REBUILD_SECONDS} s with HEAD requests only, commit to LIVE p50 <= ${MAX_LIVE_P50_SECONDS} s: ${ok ? 'PASS' : 'FAIL'}`,
    );
    process.exitCode = ok ? 0 : 1;
  } finally {
    registry.child.kill();
    await once(registry.child, 'exit');
    await rm(work, { recursive: true, force: true });
  }
}

await main();
