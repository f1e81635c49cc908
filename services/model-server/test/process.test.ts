import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { freePort } from '@mast/common';
import { generateTestModels, type TestModels } from './support/models.js';

/**
 * The model server process (`node services/model-server/dist/main.js`; run `npm run build` first):
 * configuration from the environment, MLflow's port variable, and a SIGTERM that lets the request
 * in flight finish before the process exits 0.
 */

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

let models: TestModels;
let child: ChildProcess | undefined;
beforeAll(async () => {
  models = await generateTestModels();
});
afterEach(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

function start(env: Record<string, string>): {
  process: ChildProcess;
  stderr: () => string;
  exit: Promise<number>;
} {
  const started = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', MAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child = started;
  let stderr = '';
  started.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exit = once(started, 'exit').then(([code]) => code as number);
  return { process: started, stderr: () => stderr, exit };
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/ping`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the model server did not become ready');
}

describe('model server process', () => {
  test('serves on MLFLOW_PORT; SIGTERM finishes the request in flight, then exits 0', async () => {
    const port = await freePort();
    const server = start({ MAST_MODEL_DIR: models.heavy, MLFLOW_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await waitForPing(url);

    const rows = Array.from({ length: 1000 }, (_, row) =>
      Array.from({ length: 64 }, (_, i) => ((row + i) % 7) / 7),
    );
    const inFlight = fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: rows }),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.process.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { predictions: { y: unknown[] } }).predictions.y).toHaveLength(1000);
    expect(await server.exit).toBe(0);
  });

  test('a configuration mistake: one line naming the variable, exit 1', async () => {
    const server = start({
      MAST_MODEL_DIR: models.linear,
      MAST_BATCHING: 'true',
      MAST_BATCH_MAX_SIZE: 'many',
    });
    expect(await server.exit).toBe(1);
    expect(server.stderr().trim()).toBe(
      "model-server: MAST_BATCH_MAX_SIZE: expected a positive integer, got 'many'",
    );
  });
});
