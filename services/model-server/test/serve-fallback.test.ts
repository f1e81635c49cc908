/**
 * The MLflow scoring-server fallback of `serveModel`, for a flavor Mast does not run (an sklearn
 * pickle, never unpickled here): without a Python that imports mlflow it fails at load with one line
 * naming the supported flavors and the fallback; with one (a stand-in interpreter written by the test,
 * since no mlflow is installed on this machine) it spawns `python -m mlflow models serve` with MLflow's
 * flags, waits until it answers /ping, and stops it on close.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { StartupError } from '@mast/common';
import { freePort } from '../../gateway/test/processes.js';
import { findMlflowPython } from '../src/mlflow-scoring-fallback.js';
import { serveModel } from '../src/serve.js';
import { alive, writeFakeMlflowPython, writeSklearnModel } from './serve-support.js';

const root = mkdtempSync(join(tmpdir(), 'mast-serve-fallback-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('serveModel for a flavor Mast does not run', () => {
  test('without a Python that imports mlflow, loading fails with one line naming the flavors and the fallback', async () => {
    const dir = writeSklearnModel(join(root, 'sklearn'));
    // Debian's interpreter has no mlflow (there is no Debian package of it); the other does not exist.
    const pythons = [join(root, 'no-such-python'), '/usr/bin/python3'];
    expect(await findMlflowPython(pythons)).toBeUndefined();
    const error = await serveModel({
      modelUri: dir,
      host: '127.0.0.1',
      port: 0,
      logger: false,
      pythons,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect(error!.message).toBe(
      "The model's flavors (python_function, sklearn) include none that Mast runs natively; Mast runs: onnx. " +
        "Other flavors are served by MLflow's own scoring server (python -m mlflow models serve --env-manager local), " +
        `which needs a Python with mlflow installed (pip install mlflow); none was found (tried ${pythons.join(', ')}).`,
    );
  });

  test('with one, MLflow scoring server is started with MLflow flags, serves, and is stopped on close', async () => {
    const dir = writeSklearnModel(join(root, 'sklearn-served'));
    const python = writeFakeMlflowPython(join(root, 'python-with-mlflow'));
    const port = await freePort();
    const served = await serveModel({
      modelUri: dir,
      host: '127.0.0.1',
      port,
      workers: 2,
      requestTimeoutMs: 30_000,
      installMlflow: true,
      enableMlserver: true,
      logger: false,
      pythons: [join(root, 'no-such-python'), python],
      fallbackStdio: 'ignore',
    });
    expect(served.kind).toBe('mlflow');
    if (served.kind !== 'mlflow') return;
    expect(served.python).toBe(python);
    expect(served.url).toBe(`http://127.0.0.1:${port}`);
    const answer = (await (
      await fetch(`${served.url}/invocations`, { method: 'POST', body: '{}' })
    ).json()) as {
      args: string[];
      pid: number;
    };
    expect(answer.args).toEqual([
      '-m',
      'mlflow',
      'models',
      'serve',
      '-m',
      dir,
      '-p',
      String(port),
      '-h',
      '127.0.0.1',
      '--env-manager',
      'local',
      '-w',
      '2',
      '-t',
      '30',
      '--install-mlflow',
      '--enable-mlserver',
    ]);
    expect(alive(answer.pid)).toBe(true);
    await served.close();
    expect(await served.exited).toBe(0);
    expect(alive(answer.pid)).toBe(false);
    // A local model directory is served in place and kept.
    expect(existsSync(join(dir, 'MLmodel'))).toBe(true);
  });

  test('a scoring server that exits before serving is a one-line start-up failure with its exit code', async () => {
    const dir = writeSklearnModel(join(root, 'sklearn-crash'));
    writeFileSync(join(dir, 'crash'), '');
    await expect(
      serveModel({
        modelUri: dir,
        host: '127.0.0.1',
        port: await freePort(),
        logger: false,
        pythons: [writeFakeMlflowPython(join(root, 'python-with-mlflow'))],
        fallbackStdio: 'ignore',
      }),
    ).rejects.toThrow("MLflow's scoring server exited with code 3 before it served the model.");
  });
});
