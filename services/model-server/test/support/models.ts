import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The test models' directories (MLflow model directories with an onnx flavor; see generate_models.py). */
export interface TestModels {
  /** y = x @ W + b; input "x" float32 [n, 4]; signature: named double columns f0..f3. */
  linear: string;
  /** inputs "sepal_length" float32 [n], "petal_count" int64 [n]; outputs "probability", "label". */
  classifier: string;
  /** a 64 -> 2048 x3 -> 1 ReLU network (34 MB), input "x" float32 [n, 64]; batched calls are far cheaper per row. */
  heavy: string;
}

/** Debian's interpreter: the one that sees python3-onnx and python3-numpy. */
const PYTHON = process.env.MAST_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'generate_models.py');

let generated: Promise<TestModels> | undefined;

/** Generates the test models once per process into a temporary folder and returns their directories. */
export function generateTestModels(): Promise<TestModels> {
  generated ??= (async () => {
    const root = await mkdtemp(join(tmpdir(), 'mast-test-models-'));
    await promisify(execFile)(PYTHON, [SCRIPT, root]);
    return { linear: join(root, 'linear'), classifier: join(root, 'classifier'), heavy: join(root, 'heavy') };
  })();
  return generated;
}
