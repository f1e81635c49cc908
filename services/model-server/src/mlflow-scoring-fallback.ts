import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants } from 'node:os';

/** The interpreters tried, in order, when none is given (as `mlflow` itself is usually installed). */
export const DEFAULT_PYTHONS: readonly string[] = ['python3', 'python'];

/** Whether `python -c "import mlflow"` succeeds within `timeoutMs` (a missing interpreter is a no). */
function importsMlflow(python: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(python, ['-c', 'import mlflow'], { stdio: 'ignore' });
    } catch {
      return resolve(false);
    }
    // spawn's own `timeout` leaves its timer running when the command does not exist.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    child.once('error', () => done(false));
    child.once('exit', (code) => done(code === 0));
  });
}

/**
 * The first of `candidates` (commands on PATH or paths) that can `import mlflow`, or undefined.
 * Importing mlflow takes seconds: `timeoutMs` (default 60 s) bounds each try.
 */
export async function findMlflowPython(
  candidates: readonly string[] = DEFAULT_PYTHONS,
  timeoutMs = 60_000,
): Promise<string | undefined> {
  for (const python of candidates) if (await importsMlflow(python, timeoutMs)) return python;
  return undefined;
}

export interface MlflowScoringServerOptions {
  /** An interpreter that imports mlflow (`findMlflowPython`). */
  python: string;
  /** The local model directory (holding `MLmodel`). */
  modelDir: string;
  host: string;
  port: number;
  /** `--env-manager` (`local`, `virtualenv`, `conda`, `uv`), passed as given. */
  envManager: string;
  /** `-w`: uvicorn workers; MLflow's default (1) when absent. */
  workers?: number;
  /** `-t`: request timeout in seconds; MLflow's default (60) when absent. */
  timeoutSeconds?: number;
  /** `--install-mlflow`: install mlflow into the environment `envManager` creates. */
  installMlflow?: boolean;
  /** `--enable-mlserver`: MLflow serves with MLServer (the Open Inference Protocol) instead of its own server. */
  enableMlserver?: boolean;
  /** The child's stdio (default: inherited, so MLflow's own log is the process's). */
  stdio?: StdioOptions;
  env?: NodeJS.ProcessEnv;
}

/** A running `python -m mlflow models serve`. */
export interface MlflowScoringServer {
  readonly pid: number | undefined;
  /** The command line, for the log. */
  readonly command: string[];
  /** Resolves with the exit code once the child has exited (128 + n when killed by signal n, as shells say). */
  readonly exited: Promise<number>;
  /** Sends `signal` (default SIGTERM; SIGKILL after `graceMs`, default 10 s) and waits for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number>;
}

/** The arguments of `python -m mlflow models serve` for these options (MLflow's flags, spec §5.4). */
export function mlflowServeArgs(options: MlflowScoringServerOptions): string[] {
  return [
    '-m',
    'mlflow',
    'models',
    'serve',
    '-m',
    options.modelDir,
    '-p',
    String(options.port),
    '-h',
    options.host,
    '--env-manager',
    options.envManager,
    ...(options.workers === undefined ? [] : ['-w', String(options.workers)]),
    ...(options.timeoutSeconds === undefined ? [] : ['-t', String(options.timeoutSeconds)]),
    ...(options.installMlflow ? ['--install-mlflow'] : []),
    ...(options.enableMlserver ? ['--enable-mlserver'] : []),
  ];
}

/**
 * Starts MLflow's own scoring server on a model directory, for flavors Mast does not run in-process
 * (what `mlflow models serve -m <dir> --env-manager local` does). The child is not detached: it dies
 * with its process group on Ctrl-C, and `stop()` forwards a signal on shutdown.
 */
export function startMlflowScoringServer(options: MlflowScoringServerOptions): MlflowScoringServer {
  const args = mlflowServeArgs(options);
  const child = spawn(options.python, args, {
    stdio: options.stdio ?? 'inherit',
    env: options.env ?? process.env,
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))),
    );
  });
  return {
    pid: child.pid,
    command: [options.python, ...args],
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}
