/**
 * `mast models serve` as a user runs it (the compiled CLI as a child process; `npm run build` first):
 * `models:/churn@champion` from a Mast server on PostgreSQL (MLFLOW_TRACKING_URI) scored over HTTP, one-line
 * failures with their exit codes, and the MLflow scoring-server fallback with a stand-in Python on PATH
 * (signals forwarded, its exit code passed on).
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { useAllInOne } from '../../gateway/test/harness.js';
import { freePort } from '../../gateway/test/processes.js';
import {
  alive,
  LINEAR_INPUT,
  LINEAR_OUTPUT,
  logAndRegister,
  numbers,
  writeFakeMlflowPython,
  writeSklearnModel,
} from '../../model-server/test/serve-support.js';
import { generateTestModels } from '../../model-server/test/support/models.js';

/** Each test starts the CLI a few times; on a busy 2-core machine one start can take 15 s. */
const CHILD_TEST_TIMEOUT_MS = 180_000;

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAST = join(ROOT, 'services/client/bin/mast.js');

/** Every child started, killed after the suite whatever happened. */
const children: Array<ReturnType<typeof spawn>> = [];

/** The model downloads under `dir` (other libraries write their own files to TMPDIR too). */
function downloadsIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('mast-model-'));
}

interface Child {
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** `mast models serve ARGS` with only the given variables besides PATH-free basics (no MAST_*, no jest's). */
function mast(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [MAST, 'models', 'serve', ...args], {
    cwd: ROOT,
    env: { HOME: process.env.HOME ?? '/tmp', PATH: '/usr/bin:/bin', MAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A command that runs to its end: exit code and stderr lines. */
async function run(args: string[], env: Record<string, string>) {
  const child = mast(args, env);
  const code = await child.exited;
  return {
    code,
    lines: child
      .stderr()
      .split('\n')
      .filter((line) => line !== ''),
  };
}

describe('mast models serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-models-serve-'));
  /** The CLI's TMPDIR: where downloads go, checked empty afterwards. */
  const downloads = join(dir, 'tmp');
  /** A PATH whose python3 and python are Debian's interpreter, which has no mlflow. */
  const plainPython = join(dir, 'plain-python');
  /** A PATH whose python3 is a stand-in with mlflow. */
  const fakePython = join(dir, 'fake-python');
  let busy: Server;
  let busyPort: number;
  let env: Record<string, string>;

  // Declared before the server's hooks, so it runs first: children are killed before the server closes.
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise((resolve) => busy?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const tracking = useAllInOne({ name: 'mast-models-serve-server-', postgres: true });
  beforeAll(async () => {
    for (const folder of [downloads, plainPython, fakePython]) mkdirSync(folder);
    for (const name of ['python3', 'python']) symlinkSync('/usr/bin/python3', join(plainPython, name));
    writeFakeMlflowPython(join(fakePython, 'python3'));
    await logAndRegister(tracking.url, (await generateTestModels()).linear, 'churn');
    busy = createServer();
    busyPort = await freePort();
    await new Promise<void>((resolve) => busy.listen(busyPort, '127.0.0.1', resolve));
    env = { MLFLOW_TRACKING_URI: tracking.url, TMPDIR: downloads, PATH: `${plainPython}:/usr/bin:/bin` };
  }, CHILD_TEST_TIMEOUT_MS);

  test(
    '--help describes the flags; a missing -m is a usage error',
    async () => {
      const help = mast(['--help'], env);
      expect(await help.exited).toBe(0);
      const usage = await run([], env);
      expect(usage).toEqual({
        code: 2,
        lines: ["mast models serve: -m/--model-uri is required (see 'mast models serve --help')"],
      });
      expect(await run(['-m', 'x', '--port'], env)).toEqual({
        code: 2,
        lines: ["mast models serve: flag '--port' needs a value (see 'mast models serve --help')"],
      });
      // Flags set MLflow's and Mast's variables; every bad one is named by its flag, in one line, and is
      // a usage error.
      expect(await run(['-m', 'x', '--max-batch-size', '0', '-t', 'abc'], env)).toEqual({
        code: 2,
        lines: [
          "mast models serve: --max-batch-size: expected a positive integer, got '0'; --timeout: expected a positive integer, got 'abc'",
        ],
      });
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'serves models:/churn@champion from MLFLOW_TRACKING_URI until SIGTERM, then removes the download',
    async () => {
      const port = await freePort();
      // MLflow's --install-mlflow and --enable-mlserver are accepted (they matter to MLflow's server only).
      const child = mast(
        ['-m', 'models:/churn@champion', '-p', String(port), '--install-mlflow', '--enable-mlserver'],
        env,
      );
      await waitFor(() => child.stderr().includes(' at http://'), 'the server to listen');
      expect(child.stderr()).toMatch(
        new RegExp(
          `serving models:/churn@champion -> runs:/\\w+/model \\(onnx\\) at http://127\\.0\\.0\\.1:${port}`,
        ),
      );
      expect(downloadsIn(downloads)).toHaveLength(1);
      const response = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(LINEAR_INPUT),
      });
      expect(response.status).toBe(200);
      const predictions = numbers(((await response.json()) as { predictions: unknown }).predictions);
      expect(predictions.map((value) => Math.round(value * 1e4) / 1e4)).toEqual(LINEAR_OUTPUT);
      expect(child.stderr()).toContain('--enable-mlserver is not needed');
      // The Open Inference Protocol names the registered model and the version the alias points to.
      const metadata = await fetch(`http://127.0.0.1:${port}/v2/models/churn`);
      expect(((await metadata.json()) as { versions: string[] }).versions).toEqual(['1']);
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      expect(downloadsIn(downloads)).toEqual([]);
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'SIGTERM while the model downloads stops the download, removes it and exits 0',
    async () => {
      // In front of the tracking server: every file download starts, then stalls.
      const stalling = createHttpServer(async (request, response) => {
        if (request.url?.startsWith('/get-artifact')) {
          response.writeHead(200, { 'content-length': '1000000' });
          response.write('x');
          return;
        }
        const upstream = await fetch(`${tracking.url}${request.url}`);
        response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' });
        response.end(Buffer.from(await upstream.arrayBuffer()));
      });
      await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
      try {
        const child = mast(['-m', 'models:/churn@champion', '-p', String(await freePort())], {
          ...env,
          MLFLOW_TRACKING_URI: url,
        });
        await waitFor(() => downloadsIn(downloads).length === 1, 'the download to start');
        child.kill('SIGTERM');
        expect(await child.exited).toBe(0);
        expect(downloadsIn(downloads)).toEqual([]);
      } finally {
        stalling.closeAllConnections();
        await new Promise((resolve) => stalling.close(resolve));
      }
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'two SIGTERMs (as GNU timeout sends them) exit at once and still remove the download',
    async () => {
      const port = await freePort();
      const child = mast(['-m', 'models:/churn@champion', '-p', String(port)], {
        ...env,
        MAST_LOG_LEVEL: 'info',
      });
      await waitFor(() => child.stderr().includes(' at http://'), 'the server to listen');
      expect(downloadsIn(downloads)).toHaveLength(1);
      // A request whose body never ends keeps the graceful shutdown waiting, so the second signal
      // comes while the download is still there; its 100 Continue says the server took it.
      const socket = connect(port, '127.0.0.1');
      socket.write(
        'POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n',
      );
      await new Promise((resolve) => socket.once('data', resolve));
      socket.write('{');
      try {
        child.kill('SIGTERM');
        await waitFor(() => child.stderr().includes('shutting down (SIGTERM)'), 'the shutdown to start');
        expect(downloadsIn(downloads)).toHaveLength(1);
        child.kill('SIGTERM');
        expect(await child.exited).toBe(1);
        expect(child.stderr()).toContain('SIGTERM again: exiting now');
        expect(downloadsIn(downloads)).toEqual([]);
      } finally {
        socket.destroy();
      }
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'a tracking URI with credentials: sent as basic auth, the password printed nowhere',
    async () => {
      const expected = `Basic ${Buffer.from('admin:hunter2').toString('base64')}`;
      const guard = createHttpServer(async (request, response) => {
        if (request.headers.authorization !== expected) {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end('{"error_code": "UNAUTHENTICATED", "message": "You are not authenticated."}');
          return;
        }
        const upstream = await fetch(`${tracking.url}${request.url}`);
        response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' });
        response.end(Buffer.from(await upstream.arrayBuffer()));
      });
      await new Promise<void>((resolve) => guard.listen(0, '127.0.0.1', resolve));
      const guarded = `127.0.0.1:${(guard.address() as AddressInfo).port}`;
      try {
        const port = await freePort();
        const child = mast(
          [
            '-m',
            'models:/churn@champion',
            '-p',
            String(port),
            '--tracking-uri',
            `http://admin:hunter2@${guarded}`,
          ],
          { ...env, MAST_LOG_LEVEL: 'info' },
        );
        await waitFor(() => child.stderr().includes(' at http://'), 'the server to listen');
        child.kill('SIGTERM');
        expect(await child.exited).toBe(0);
        // MLflow's variables, as its client reads them.
        const fromVariables = mast(['-m', 'models:/churn@champion', '-p', String(await freePort())], {
          ...env,
          MLFLOW_TRACKING_URI: `http://${guarded}`,
          MLFLOW_TRACKING_USERNAME: 'admin',
          MLFLOW_TRACKING_PASSWORD: 'hunter2',
        });
        await waitFor(() => fromVariables.stderr().includes(' at http://'), 'the server to listen');
        fromVariables.kill('SIGTERM');
        expect(await fromVariables.exited).toBe(0);
        expect(child.stderr() + fromVariables.stderr()).not.toContain('hunter2');

        const wrong = await run(
          ['-m', 'models:/churn@champion', '--tracking-uri', `http://admin:wrong-pw@${guarded}`],
          env,
        );
        expect(wrong).toEqual({
          code: 1,
          lines: ['mast models serve: Cannot resolve models:/churn@champion: You are not authenticated.'],
        });
        const closed = await freePort();
        const unreachable = await run(
          ['-m', 'models:/churn@champion', '--tracking-uri', `http://admin:hunter2@127.0.0.1:${closed}`],
          { ...env, MAST_LOG_LEVEL: 'debug' },
        );
        expect(unreachable.code).toBe(1);
        expect(unreachable.lines).toContain(
          `mast models serve: Cannot resolve models:/churn@champion: the tracking server at http://127.0.0.1:${closed} is unreachable (ECONNREFUSED).`,
        );
        expect(unreachable.lines.join('\n')).not.toContain('hunter2');
        expect(downloadsIn(downloads)).toEqual([]);
      } finally {
        await new Promise((resolve) => guard.close(resolve));
      }
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'failures are one line with exit 1: an unknown alias, a busy port (before any download), no tracking server',
    async () => {
      expect(await run(['-m', 'models:/churn@nope', '-p', String(await freePort())], env)).toEqual({
        code: 1,
        lines: [
          'mast models serve: Cannot resolve models:/churn@nope: Registered model alias nope not found.',
        ],
      });
      expect(await run(['-m', 'models:/churn@champion', '--port', String(busyPort)], env)).toEqual({
        code: 1,
        lines: [
          `mast models serve: cannot listen on 127.0.0.1:${busyPort}: the address is already in use (--port)`,
        ],
      });
      expect(downloadsIn(downloads)).toEqual([]);
      const { MLFLOW_TRACKING_URI: _, ...withoutTracking } = env;
      expect(await run(['-m', 'models:/churn@champion'], withoutTracking)).toEqual({
        code: 1,
        lines: [
          'mast models serve: models:/churn@champion is fetched from a tracking server: set MLFLOW_TRACKING_URI or pass --tracking-uri (e.g. http://127.0.0.1:5000).',
        ],
      });
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'an sklearn model without a Python that has mlflow fails at load, naming the flavors and the fallback',
    async () => {
      const model = writeSklearnModel(join(dir, 'sklearn'));
      const result = await run(['-m', model, '-p', String(await freePort())], env);
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        "mast models serve: The model's flavors (python_function, sklearn) include none that Mast runs natively; Mast runs: onnx. " +
          "Other flavors are served by MLflow's own scoring server (python -m mlflow models serve --env-manager local), " +
          'which needs a Python with mlflow installed (pip install mlflow); none was found (tried python3, python).',
      ]);
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'a model that does not load (invalid MLmodel YAML, a corrupt model.onnx) is one line with exit 1, no stack trace',
    async () => {
      const yaml = join(dir, 'invalid-yaml');
      mkdirSync(yaml);
      writeFileSync(join(yaml, 'MLmodel'), 'flavors: [\n');
      const invalid = await run(['-m', yaml, '-p', String(await freePort())], env);
      expect(invalid.code).toBe(1);
      expect(invalid.lines).toHaveLength(1);
      expect(invalid.lines[0]).toMatch(
        new RegExp(`^mast models serve: The model ${yaml} failed to load: MLmodel: invalid YAML`),
      );
      const corrupt = join(dir, 'corrupt-onnx');
      mkdirSync(corrupt);
      const linear = (await generateTestModels()).linear;
      writeFileSync(join(corrupt, 'MLmodel'), readFileSync(join(linear, 'MLmodel')));
      writeFileSync(join(corrupt, 'model.onnx'), 'not a protobuf');
      const broken = await run(['-m', corrupt, '-p', String(await freePort())], env);
      expect(broken.code).toBe(1);
      expect(broken.lines).toHaveLength(1);
      expect(broken.lines[0]).toMatch(
        new RegExp(`^mast models serve: The model ${corrupt} failed to load: .*model\\.onnx failed`),
      );
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  test(
    'with a Python that has mlflow, its scoring server serves; SIGTERM stops it, its own exit ends the command with its code',
    async () => {
      const model = writeSklearnModel(join(dir, 'sklearn-fallback'));
      const withMlflow = { ...env, PATH: `${fakePython}:/usr/bin:/bin` };
      const scoring = async (child: Child, port: number) => {
        await waitFor(() => child.stderr().includes(' at http://'), 'the fallback to serve');
        expect(child.stderr()).toContain(
          `MLflow's scoring server (python3 -m mlflow models serve -m ${model} -p ${port} -h 127.0.0.1 --env-manager local -w 1 -t 60) serves ${model} at http://127.0.0.1:${port}`,
        );
        const answer = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: '{}' });
        return ((await answer.json()) as { pid: number }).pid;
      };

      const port = await freePort();
      const stopped = mast(['-m', model, '-p', String(port)], withMlflow);
      const pid = await scoring(stopped, port);
      stopped.kill('SIGTERM');
      expect(await stopped.exited).toBe(0);
      expect(alive(pid)).toBe(false);

      const again = await freePort();
      const crashed = mast(['-m', model, '-p', String(again)], withMlflow);
      process.kill(await scoring(crashed, again), 'SIGUSR2');
      expect(await crashed.exited).toBe(7);
      expect(crashed.stderr()).toContain("MLflow's scoring server exited with code 7");

      // SIGTERM while MLflow's scoring server is still starting stops it too: no orphan keeps the port.
      const slow = writeSklearnModel(join(dir, 'sklearn-slow'));
      writeFileSync(join(slow, 'slow'), '');
      const starting = mast(['-m', slow, '-p', String(await freePort())], withMlflow);
      await waitFor(() => existsSync(join(slow, 'pid')), 'the fallback to start');
      starting.kill('SIGTERM');
      expect(await starting.exited).toBe(0);
      const slowPid = Number(readFileSync(join(slow, 'pid'), 'utf8'));
      await waitFor(() => !alive(slowPid), 'the fallback to stop', 5000);
    },
    CHILD_TEST_TIMEOUT_MS,
  );
});
