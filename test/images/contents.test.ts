import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '@mast/common';
import { waitFor } from '@mast/test-support';
import { createPostgresDatabase } from '../../services/gateway/test/processes.js';
import { generateTestModels } from '../../services/model-server/test/support/models.js';
import { imageConfig, parseStages, ROOT } from './dockerfile.js';

/**
 * What three images hold, without a Docker engine (none runs here): scripts/image-contents.sh, the
 * script the Dockerfile's production stages run, assembles each image's /app into a folder; the
 * service then starts from that folder as the image starts it (its ENTRYPOINT and ENV, cwd = /app),
 * as user 1001 with every file read-only, and must answer. Needs `npm run build` first.
 */

const run = promisify(execFile);
const STAGED = ['tracking', 'model-server', 'gateway'] as const;
type Target = (typeof STAGED)[number];
/** Packages only development needs: none may be in an image. */
const DEV_ONLY = ['jest', 'typescript', '@biomejs', 'vite', '@swc', '@jest'];

const stages = parseStages();
/** The image's user when the tests run as root (as CI does); otherwise the tests' user, for whom chmod works. */
const imageUser = process.getuid?.() === 0 ? { uid: 1001, gid: 1001 } : {};

let root: string;
/** Each target's staged /app, and a folder it may write to (the image's /tmp emptyDir). */
const app = {} as Record<Target, string>;
let writable: string;
let database: { url: string; drop(): Promise<void> };
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mast-image-contents-'));
  await chmod(root, 0o755);
  writable = join(root, 'tmp');
  await mkdir(writable, { mode: 0o777 });
  await chmod(writable, 0o777);
  database = await createPostgresDatabase();
  for (const target of STAGED) app[target] = join(root, target, 'app');
  await Promise.all(
    STAGED.map((target) =>
      run('bash', [`${ROOT}scripts/image-contents.sh`, target, app[target]], { cwd: root }),
    ),
  );
  // The model deploy adds to a model-server image, read-only too (the image's /opt/ml/model).
  const models = await generateTestModels();
  await cp(models.linear, join(root, 'model-server', 'model'), { recursive: true });
  await run('chmod', ['-R', 'a-w', ...STAGED.map((target) => join(root, target))]);
}, 180_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await database?.drop();
  if (root) {
    await run('chmod', ['-R', 'u+w', root]);
    await rm(root, { recursive: true, force: true });
  }
});

/**
 * Starts a target from its staged /app as its image would: the ENTRYPOINT (with this machine's node)
 * and ENV of the Dockerfile's stage, cwd /app, as the image's user, HOME and TMPDIR in the writable
 * folder; `env` adds what the chart would set. Resolves once `readyPath` answers 200.
 */
async function startImage(target: Target, env: Record<string, string>, readyPath: string) {
  const config = imageConfig(stages, target);
  const [command, ...args] = config.entrypoint!;
  expect(command).toBe('node');
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, args, {
    cwd: app[target],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: writable,
      TMPDIR: writable,
      ...config.env,
      MAST_PORT: String(port),
      MAST_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...imageUser,
  });
  children.push(child);
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${target} exited (${child.exitCode}):\n${output}`);
      return (await fetch(`${url}${readyPath}`).catch(() => undefined))?.status === 200;
    },
    `${target} to answer ${readyPath}`,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return url;
}

/** Runs a one-shot command from a staged /app as the image's user. */
function runInImage(target: Target, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, args, {
    cwd: app[target],
    env: { PATH: process.env.PATH ?? '', HOME: writable, ...imageConfig(stages, target).env, ...env },
    encoding: 'utf8',
    ...imageUser,
  });
}

describe.each(STAGED)('%s image contents', (target) => {
  test('production dependencies only, compiled code only; prints its size', async () => {
    const modules = join(app[target], 'node_modules');
    expect(existsSync(join(modules, 'fastify/package.json'))).toBe(true);
    for (const name of DEV_ONLY)
      expect({ name, present: existsSync(join(modules, name)) }).toEqual({ name, present: false });
    const main = imageConfig(stages, target).entrypoint![1];
    expect(existsSync(join(app[target], main))).toBe(true);
    const { stdout: sources } = await run('find', [
      app[target],
      '-path',
      '*/node_modules',
      '-prune',
      '-o',
      '-name',
      '*.ts',
      '-print',
    ]);
    expect(sources).toBe('');
    const { stdout: du } = await run('du', ['-sm', app[target]]);
    process.stdout.write(`image contents: ${target} /app ${du.split('\t')[0]} MB\n`);
  });

  test('its files cannot be written by the image user (a read-only /app)', () => {
    const write = runInImage(target, ['-e', "require('fs').writeFileSync('probe', '')"]);
    expect(write.status).not.toBe(0);
    expect(write.stderr).toMatch(/EACCES|EROFS/);
  });
});

describe('images started from their staged /app', () => {
  test('gateway: `mast db upgrade` (the migration Job) migrates a fresh database', () => {
    const upgrade = runInImage('gateway', ['services/client/bin/mast.js', 'db', 'upgrade', database.url]);
    expect({ status: upgrade.status, stderr: upgrade.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
    expect(upgrade.stdout + upgrade.stderr).toMatch(/tracking/);
  });

  let trackingUrl: string;
  test('tracking: /health, /ready and the MLflow API on PostgreSQL', async () => {
    trackingUrl = await startImage('tracking', { MAST_BACKEND_STORE_URI: database.url }, '/ready');
    expect((await fetch(`${trackingUrl}/health`)).status).toBe(200);
    const experiment = await fetch(
      `${trackingUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`,
    );
    expect(experiment.status).toBe(200);
    expect(((await experiment.json()) as { experiment: { name: string } }).experiment.name).toBe('Default');
  });

  test('gateway: /health, the web UI at /, and the REST proxy to tracking', async () => {
    const url = await startImage('gateway', { MAST_SERVICE_URLS: `tracking=${trackingUrl}` }, '/health');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Mast</title>');
    const proxied = await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default`);
    expect(proxied.status).toBe(200);
  });

  test('model-server: /ping once the model loaded, then a prediction', async () => {
    const url = await startImage(
      'model-server',
      { MAST_MODEL_DIR: join(root, 'model-server', 'model') },
      '/ping',
    );
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const scored = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns: ['f0', 'f1', 'f2', 'f3'], data: [[1, 2, 3, 4]] } }),
    });
    expect(scored.status).toBe(200);
    expect(((await scored.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
  });
});
