/**
 * What the `serveModel` and `mast models serve` tests share: a model logged and registered over REST
 * the way MLflow's client does it, an sklearn model directory (never unpickled), a stand-in Python
 * with mlflow, and the linear test model's input and expected output.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const API = '/api/2.0/mlflow';

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

async function call(trackingUri: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${trackingUri}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/**
 * What `mlflow.onnx.log_model` + `register_model` + `set_registered_model_alias` do over REST: a run
 * in the Default experiment, the model directory's files uploaded through the mlflow-artifacts proxy
 * under `model/`, registered model `name` with version 1 from `runs:/<run_id>/model` (MLflow 2's
 * source) and version 2 from the artifact URI, and alias `champion` on version 1.
 */
export async function logAndRegister(
  trackingUri: string,
  modelDir: string,
  name: string,
): Promise<{ runId: string; artifactUri: string }> {
  const run = (await call(trackingUri, 'POST', `${API}/runs/create`, { experiment_id: '0' })).run.info;
  const root = (run.artifact_uri as string).replace(/^mlflow-artifacts:\//, '');
  for (const file of filesUnder(modelDir)) {
    const upload = await fetch(`${trackingUri}/api/2.0/mlflow-artifacts/artifacts/${root}/model/${file}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: readFileSync(join(modelDir, file)),
    });
    if (!upload.ok) throw new Error(`upload of ${file}: ${upload.status}`);
  }
  await call(trackingUri, 'POST', `${API}/registered-models/create`, { name });
  for (const source of [`runs:/${run.run_id}/model`, `${run.artifact_uri}/model`]) {
    await call(trackingUri, 'POST', `${API}/model-versions/create`, { name, source, run_id: run.run_id });
  }
  await call(trackingUri, 'POST', `${API}/registered-models/alias`, {
    name,
    alias: 'champion',
    version: '1',
  });
  return { runId: run.run_id, artifactUri: run.artifact_uri };
}

/** The linear test model's example input (spec 5.2 `dataframe_split`) and its outputs, x @ W + b. */
export const LINEAR_INPUT = {
  dataframe_split: {
    columns: ['f0', 'f1', 'f2', 'f3'],
    data: [
      [1, 2, 3, 4],
      [0.5, 0.25, -1, 2],
    ],
  },
};
export const LINEAR_OUTPUT = [7.1, -0.4625];

/** Every number in a JSON value, in order (the predictions' shape is the scoring protocol's business). */
export function numbers(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.flatMap(numbers);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(numbers);
  return [];
}

/** An sklearn model directory as mlflow.sklearn.save_model writes it; model.pkl is not a pickle at all. */
export function writeSklearnModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'MLmodel'),
    [
      'artifact_path: model',
      'flavors:',
      '  python_function:',
      '    env:',
      '      conda: conda.yaml',
      '      virtualenv: python_env.yaml',
      '    loader_module: mlflow.sklearn',
      '    model_path: model.pkl',
      '    predict_fn: predict',
      '    python_version: 3.11.9',
      '  sklearn:',
      '    code: null',
      '    pickled_model: model.pkl',
      '    serialization_format: cloudpickle',
      '    sklearn_version: 1.5.1',
      'mlflow_version: 2.18.0',
      'model_uuid: 3c1f4b7a0d5e4e1f9a6b2c8d7e0f1a2b',
      "utc_time_created: '2026-11-30 10:00:00.000000'",
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'model.pkl'), 'not a pickle: Mast must never unpickle this');
  return dir;
}

/**
 * Writes a stand-in for a Python with mlflow at `path`: `-c "import mlflow"` succeeds;
 * `-m mlflow models serve …` answers /ping and echoes its arguments and pid on /invocations, exits 0
 * on SIGTERM and 7 on SIGUSR2; exits 3 at once when the model directory holds a file `crash`, and
 * never serves (its pid written to `pid` there) when it holds a file `slow`.
 */
export function writeFakeMlflowPython(path: string): string {
  writeFileSync(
    path,
    `#!${process.execPath}
const { createServer } = require('node:http');
const { existsSync, writeFileSync } = require('node:fs');
const args = process.argv.slice(2);
if (args[0] === '-c') process.exit(args[1] === 'import mlflow' ? 0 : 1);
const flag = (name) => args[args.indexOf(name, 4) + 1];
if (existsSync(flag('-m') + '/crash')) process.exit(3);
if (existsSync(flag('-m') + '/slow')) {
  writeFileSync(flag('-m') + '/pid', String(process.pid));
  setInterval(() => {}, 1000);
  process.on('SIGTERM', () => process.exit(0));
  return;
}
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(request.url === '/ping' ? '\\n' : JSON.stringify({ args, pid: process.pid }));
});
server.listen(Number(flag('-p')), flag('-h'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGUSR2', () => process.exit(7));
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
