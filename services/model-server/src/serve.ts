import { setTimeout as sleep } from 'node:timers/promises';
import {
  configFragment,
  httpConfig,
  optionalString,
  positiveInteger,
  type ReportProblem,
  reachableHost,
  StartupError,
  s3Config,
} from '@mast/common';
import { modelServerConfig } from './config.js';
import { loadModel, UnsupportedFlavorError } from './flavors/index.js';
import {
  DEFAULT_PYTHONS,
  findMlflowPython,
  type MlflowScoringServerOptions,
  startMlflowScoringServer,
} from './mlflow-scoring-fallback.js';
import { type FetchedModel, type FetchModelOptions, fetchModel } from './model-uri/index.js';
import { buildModelServer, type ModelServerOptions } from './server.js';

/** The `--env-manager` values MLflow knows; Mast itself runs models only in its own process (`local`). */
export const ENV_MANAGERS = ['local', 'virtualenv', 'conda', 'uv'] as const;

/**
 * A boolean variable as MLflow's `_BooleanEnvironmentVariable` reads it (`mlflow/environment_variables.py`):
 * `true`/`false`/`1`/`0` in any case, nothing else (no `yes`, no spaces), with MLflow's message;
 * unset (or empty, as every Mast variable) is false, the default of MLflow's TLS switch.
 */
function mlflowBoolean(variable: string, value: string | undefined, report: ReportProblem): boolean {
  const word = value?.toLowerCase();
  if (word === undefined || ['true', 'false', '1', '0'].includes(word))
    return word === 'true' || word === '1';
  report(variable, `value must be one of ['true', 'false', '1', '0'] (case-insensitive), but got ${value}`);
  return false;
}

/**
 * `mast models serve`'s settings besides the model server's own (`modelServerConfig`: batching,
 * request timeout) and `httpConfig` (host, port, log level, body limit): MLflow's variables for the
 * tracking server, its credentials and TLS settings (`_get_default_host_creds` in
 * `mlflow/tracking/_tracking_service/utils.py`; the files are read when a remote model is fetched,
 * `tlsDispatcher`) and the scoring server's workers (spec mlflow-registry-models §5.4).
 */
export const modelServeConfig = configFragment(
  'models serve',
  {
    MLFLOW_TRACKING_URI: optionalString,
    MLFLOW_TRACKING_USERNAME: optionalString,
    MLFLOW_TRACKING_PASSWORD: optionalString,
    MLFLOW_TRACKING_TOKEN: optionalString,
    MLFLOW_TRACKING_INSECURE_TLS: optionalString,
    MLFLOW_TRACKING_SERVER_CERT_PATH: optionalString,
    MLFLOW_TRACKING_CLIENT_CERT_PATH: optionalString,
    MLFLOW_MODELS_WORKERS: positiveInteger(1),
  },
  (e, report) => ({
    modelServe: {
      trackingUri: e.MLFLOW_TRACKING_URI,
      credentials: {
        username: e.MLFLOW_TRACKING_USERNAME,
        password: e.MLFLOW_TRACKING_PASSWORD,
        token: e.MLFLOW_TRACKING_TOKEN,
        ignoreTlsVerification: mlflowBoolean(
          'MLFLOW_TRACKING_INSECURE_TLS',
          e.MLFLOW_TRACKING_INSECURE_TLS,
          report,
        ),
        serverCertPath: e.MLFLOW_TRACKING_SERVER_CERT_PATH,
        clientCertPath: e.MLFLOW_TRACKING_CLIENT_CERT_PATH,
      },
      workers: e.MLFLOW_MODELS_WORKERS,
    },
  }),
);

/** Every fragment `mast models serve` reads (`s3Config` for `s3://` model URIs). */
export const MODEL_SERVE_CONFIG = [httpConfig, modelServerConfig, modelServeConfig, s3Config] as const;

export interface ServeModelOptions {
  /** Any model URI `fetchModel` accepts (`models:/churn@champion`, `runs:/…/model`, a directory, …). */
  modelUri: string;
  /** The tracking server for remote URIs (MLFLOW_TRACKING_URI / `--tracking-uri`). */
  trackingUri?: string;
  /** Its credentials and TLS settings (MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN, …_INSECURE_TLS, …_CERT_PATH; `fetchModel`). */
  credentials?: FetchModelOptions['credentials'];
  host: string;
  /** 0 picks a free port (Mast's own server only). */
  port: number;
  /** `-t`: a request's time limit in ms (MLflow's default 60 s); MLflow's server gets it in whole seconds. */
  requestTimeoutMs?: number;
  /** `-w`: passed to MLflow's scoring server when it serves; Mast's own server is one process. */
  workers?: number;
  /** `--env-manager` (default `local`); only `local` applies to Mast's own server. */
  envManager?: string;
  /**
   * MLflow's `--install-mlflow` and `--enable-mlserver`: passed to MLflow's scoring server when it
   * serves; Mast's own server needs neither (no Python environment; it speaks the Open Inference
   * Protocol itself), and logs that it ignores `--enable-mlserver`.
   */
  installMlflow?: boolean;
  enableMlserver?: boolean;
  batching?: ModelServerOptions['batching'];
  bodyLimitBytes?: number;
  /** The name in the Open Inference Protocol routes; default the registered model's name. */
  modelName?: string;
  logger: ModelServerOptions['logger'];
  /** Interpreters tried for the MLflow fallback (default `python3`, `python`). */
  pythons?: readonly string[];
  /** Where relative model paths resolve and where downloads go (defaults: cwd, OS temp dir). */
  cwd?: string;
  downloadRoot?: string;
  /** How `s3://` model URIs are read (`fetchModel`); they are refused without it. */
  openStore?: FetchModelOptions['openStore'];
  /** The fallback child's stdio (default inherited). */
  fallbackStdio?: MlflowScoringServerOptions['stdio'];
  /** Progress lines (what was downloaded, the fallback's command line). */
  log?: (line: string) => void;
  /**
   * Aborted by a shutdown that comes before the model is served: a download stops and is removed; a
   * starting MLflow scoring server is signalled at once (an orphan would keep the port); serveModel
   * rejects.
   */
  signal?: AbortSignal;
}

interface Served {
  /** `http://host:port` it listens on. */
  url: string;
  model: FetchedModel;
  /** Stops serving and removes a downloaded model directory. */
  close(): Promise<void>;
}

/** What `serveModel` started: Mast's own server, or MLflow's scoring server as a child process. */
export type ServedModel =
  | (Served & { kind: 'mast'; flavor: string })
  | (Served & {
      kind: 'mlflow';
      python: string;
      command: string[];
      /** The child's exit code, once it exits (on its own, or after `close()`). */
      exited: Promise<number>;
    });

/**
 * The one line a model no flavor of Mast runs gets when no Python with mlflow is found: the flavors
 * it has, those Mast runs, and the fallback that would serve it.
 */
export function unsupportedWithoutFallback(
  error: UnsupportedFlavorError,
  pythons: readonly string[],
): string {
  return (
    `${error.message} Other flavors are served by MLflow's own scoring server ` +
    `(python -m mlflow models serve --env-manager local), which needs a Python with mlflow installed ` +
    `(pip install mlflow); none was found (tried ${pythons.join(', ')}).`
  );
}

/** A load error's message on one line (onnxruntime's messages can end with a newline). */
function loadFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Polls `GET /ping` until it answers 200, or fails when the child exits first or `signal` aborts. */
async function waitUntilServing(url: string, exited: Promise<number>, signal?: AbortSignal): Promise<void> {
  let exitCode: number | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (signal?.aborted) throw new StartupError("Stopped before MLflow's scoring server served the model.");
    if (exitCode !== undefined) {
      throw new StartupError(
        `MLflow's scoring server exited with code ${exitCode} before it served the model.`,
      );
    }
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
}

/**
 * `mast models serve`: fetches the model (`fetchModel`: registry, artifact service, or a local
 * directory), loads it with Mast's flavors and serves MLflow's scoring protocol on `host:port`
 * (`buildModelServer`). A model no Mast flavor runs (`UnsupportedFlavorError`, e.g. an sklearn pickle,
 * which a non-Python server must never unpickle) is handed to MLflow's own scoring server
 * (`python -m mlflow models serve --env-manager <m>`) when a Python with mlflow is found, resolving
 * once it answers `/ping`; otherwise it fails with one line naming the supported flavors and that
 * fallback. Expected failures are StartupErrors (one line); a downloaded copy is removed on failure.
 */
export async function serveModel(options: ServeModelOptions): Promise<ServedModel> {
  const envManager = options.envManager ?? 'local';
  if (!(ENV_MANAGERS as readonly string[]).includes(envManager)) {
    throw new StartupError(
      `--env-manager: expected one of ${ENV_MANAGERS.join(', ')}, got '${envManager}'`,
      2,
    );
  }
  const model = await fetchModel(options.modelUri, {
    trackingUri: options.trackingUri,
    credentials: options.credentials,
    cwd: options.cwd,
    downloadRoot: options.downloadRoot,
    openStore: options.openStore,
    signal: options.signal,
  });
  if (model.files > 0) {
    options.log?.(
      `downloaded ${model.files} files (${(model.bytes / 1e6).toFixed(1)} MB) of ${model.source}`,
    );
  }
  try {
    let loaded: Awaited<ReturnType<typeof loadModel>>;
    try {
      loaded = await loadModel(model.dir);
    } catch (error) {
      if (error instanceof UnsupportedFlavorError)
        return await serveWithMlflow(options, model, envManager, error);
      // An invalid MLmodel or flavor data (a corrupt or missing model.onnx) is the model's fault: one line.
      throw new StartupError(`The model ${model.source} failed to load: ${loadFailure(error)}`);
    }
    if (envManager !== 'local') {
      await loaded.close();
      throw new StartupError(
        `--env-manager ${envManager}: Mast runs ${loaded.flavor} models in its own process, without a Python environment; only 'local' applies (other managers are for MLflow's scoring server, which Mast uses for flavors it does not run).`,
        2,
      );
    }
    if (options.enableMlserver) {
      options.log?.(
        `--enable-mlserver is not needed: Mast serves ${loaded.flavor} models with the Open Inference Protocol (/v2/...) itself.`,
      );
    }
    const app = buildModelServer({
      load: async () => loaded,
      modelName: options.modelName ?? model.registeredVersion?.name,
      modelVersion: model.registeredVersion?.version,
      batching: options.batching,
      bodyLimitBytes: options.bodyLimitBytes,
      requestTimeoutMs: options.requestTimeoutMs,
      logger: options.logger,
    });
    let url: string;
    try {
      url = await app.listen({ host: options.host, port: options.port });
    } catch (error) {
      await app.close();
      throw error;
    }
    return {
      kind: 'mast',
      flavor: loaded.flavor,
      url,
      model,
      close: async () => {
        await app.close();
        await model.remove();
      },
    };
  } catch (error) {
    await model.remove();
    throw error;
  }
}

async function serveWithMlflow(
  options: ServeModelOptions,
  model: FetchedModel,
  envManager: string,
  unsupported: UnsupportedFlavorError,
): Promise<ServedModel> {
  const pythons = options.pythons ?? DEFAULT_PYTHONS;
  const python = await findMlflowPython(pythons);
  if (python === undefined) throw new StartupError(unsupportedWithoutFallback(unsupported, pythons));
  if (options.port === 0) {
    throw new StartupError(
      `${unsupported.message} MLflow's scoring server, which serves it, needs a port other than 0.`,
    );
  }
  options.log?.(`${unsupported.message} Handing the model to MLflow's scoring server (${python}).`);
  const server = startMlflowScoringServer({
    python,
    modelDir: model.dir,
    host: options.host,
    port: options.port,
    envManager,
    workers: options.workers,
    installMlflow: options.installMlflow,
    enableMlserver: options.enableMlserver,
    timeoutSeconds:
      options.requestTimeoutMs === undefined
        ? undefined
        : Math.max(1, Math.ceil(options.requestTimeoutMs / 1000)),
    stdio: options.fallbackStdio,
  });
  const url = `http://${reachableHost(options.host)}:${options.port}`;
  const close = async () => {
    await server.stop();
    await model.remove();
  };
  const stopNow = () => void server.stop();
  options.signal?.addEventListener('abort', stopNow, { once: true });
  try {
    await waitUntilServing(url, server.exited, options.signal);
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stopNow);
  }
  return { kind: 'mlflow', python, command: server.command, exited: server.exited, url, model, close };
}
