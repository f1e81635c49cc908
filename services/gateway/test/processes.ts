import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TEST_POSTGRES_URL } from '@mast/test-support';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

import { freePort } from '@mast/common';

export { freePort };

/** A fresh database on the test PostgreSQL server; `drop()` removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mast_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts a service's compiled `main.js` (run `npm run build` first) as its own process on a free port
 * and waits until its `/ready` answers 200.
 */
export async function startServiceProcess(
  workspace: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const main = `${ROOT}services/${workspace}/dist/main.js`;
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` before these tests.`);
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { ...process.env, MAST_HOST: '127.0.0.1', MAST_PORT: String(port), MAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${workspace} exited (${child.exitCode}):\n${output}`);
    try {
      const response = await fetch(`${url}/ready`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${workspace} did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
