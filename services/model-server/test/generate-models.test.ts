import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from '@jest/globals';
import { parseMlModel } from '@mast/common';

/**
 * The test-model generator as the README tells a user to run it: `python3 generate_models.py DIR`,
 * whichever python3 is first on PATH (here a pyenv one that cannot see Debian's python3-onnx).
 */

const SCRIPT = fileURLToPath(new URL('./support/generate_models.py', import.meta.url));
const run = promisify(execFile);
let out: string | undefined;

afterAll(async () => {
  if (out !== undefined) await rm(out, { recursive: true, force: true });
});

test('python3 on PATH writes the three MLflow model directories (handing the run to Debian’s python3 if needed)', async () => {
  out = await mkdtemp(join(tmpdir(), 'mast-generate-models-'));
  await run('python3', [SCRIPT, out]);
  for (const name of ['linear', 'classifier', 'heavy']) {
    const mlmodel = parseMlModel(await readFile(join(out, name, 'MLmodel'), 'utf8'));
    expect(Object.keys(mlmodel.flavors)).toContain('onnx');
    expect((await readFile(join(out, name, 'model.onnx'))).length).toBeGreaterThan(0);
  }
}, 120_000);

test('without onnx and numpy: one line saying what to install, exit 1', async () => {
  // -S: Debian's interpreter without its site packages, so nothing else can take the run over.
  const failure = await run('/usr/bin/python3', ['-S', SCRIPT, join(tmpdir(), 'unused')]).then(
    () => undefined,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure?.code).toBe(1);
  expect(failure?.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(
      /^generate_models\.py: No module named .*apt-get install python3-onnx python3-numpy/,
    ),
  ]);
});
