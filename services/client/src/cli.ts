import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  assertPortBindable,
  ConfigError,
  checkServicesConfig,
  DEFAULT_ARTIFACTS_DESTINATION,
  databaseConfig,
  describeBackendStore,
  listen,
  loadConfig,
  MLFLOW_COMPATIBLE_VERSION,
  migrateServices,
  openDatabase,
  type ProcessContext,
  parseBackendStoreUri,
  type RunProcessOptions,
  redactSecrets,
  runProcess,
  StartupError,
  waitForDatabase,
} from '@mast/common';
import type { AllInOneConfig } from '@mast/gateway';
import { ENV_MANAGERS, MODEL_SERVE_CONFIG, SUPPORTED_FLAVORS, serveModel } from '@mast/model-server';

/** Exit code of a command-line usage mistake (unknown command or flag), as getopt tools use. */
const USAGE_ERROR = 2;

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const MAIN_HELP = `Usage: mast [--version] [-h|--help] <command> [<args>]

Mast ${VERSION}: an MLOps platform wire-compatible with MLflow (serves MLflow's API ${MLFLOW_COMPATIBLE_VERSION}).

Commands:
  server        run every service on one port (tracking, artifacts, model registry, GraphQL)
  db upgrade    apply the schema migrations of every service, then exit
  models serve  serve an MLflow model over HTTP (MLflow's scoring protocol), from a model URI

Run 'mast <command> --help' for a command's flags. Flags override the MAST_* environment variables
(see the README's configuration table).`;

const SERVER_HELP = `Usage: mast server [flags]

Runs every Mast service on one port. Flags are named as mlflow server's.

  -h, --host HOST                 interface to listen on (MAST_HOST, default 127.0.0.1)
  -p, --port PORT                 port (MAST_PORT, default 5000)
  --backend-store-uri URI         postgresql://user:pass@host:5432/db (also postgres://,
                                  postgresql+psycopg2://, +psycopg://, +pg8000://; sslmode honoured),
                                  or a directory (or file:) for the embedded database
                                  (MAST_BACKEND_STORE_URI, default ./mast-data/db)
  --default-artifact-root URI     root of new experiments' artifact locations
                                  (MAST_DEFAULT_ARTIFACT_ROOT, default mlflow-artifacts:/; with
                                  --no-serve-artifacts, the artifacts destination)
  --artifacts-destination DIR|s3://BUCKET/PREFIX
                                  where the artifact proxy stores files
                                  (MAST_ARTIFACTS_DESTINATION, default ${DEFAULT_ARTIFACTS_DESTINATION})
  --serve-artifacts, --no-serve-artifacts
                                  serve the mlflow-artifacts proxy routes (MAST_SERVE_ARTIFACTS,
                                  default serve)
  --artifacts-only                serve only the artifact proxy (no database, no tracking; default off)
  --static-prefix /PREFIX         serve every route under /PREFIX (MAST_STATIC_PREFIX)
  --allowed-hosts LIST            comma-separated Host headers accepted, '*' wildcards
                                  (MAST_ALLOWED_HOSTS; default: localhost and private addresses)
  --disable-security-middleware   accept any Host header
  --cors-allowed-origins LIST     origins allowed to call /graphql from a browser (MAST_CORS_ORIGINS)
  -w, --workers N                 N processes sharing the port (PostgreSQL only; default 1)
  --expose-prometheus DIR         accepted: /metrics is always served
  --gunicorn-opts, --uvicorn-opts, --waitress-opts, --dev
                                  accepted and ignored, with a warning
  --app-name NAME                 refused: Mast has no built-in authentication (basic-auth) nor app
                                  plugins; put an authenticating reverse proxy in front of it
  --help                          this text (-h is --host, as in mlflow server)
  --version                       Mast's version and the MLflow API level it serves`;

const DB_UPGRADE_HELP = `Usage: mast db upgrade [URI]

Applies the schema migrations of every service that owns tables and prints, per service, what it
applied. URI (PostgreSQL or an embedded database directory) defaults to MAST_BACKEND_STORE_URI,
then DATABASE_URL, then ./mast-data/db.

  -h, --help    this text`;

const DB_HELP = `Usage: mast db <subcommand>

Subcommands:
  upgrade [URI]   apply the schema migrations of every service, then exit`;

const MODELS_HELP = `Usage: mast models <subcommand>

Subcommands:
  serve -m URI    serve a model over HTTP as 'mlflow models serve' does`;

const MODELS_SERVE_HELP = `Usage: mast models serve -m URI [-p PORT] [-h HOST] [flags]

Serves an MLflow model with MLflow's scoring protocol (/invocations, /ping, /health, /version) and the
Open Inference Protocol (/v2/...). Flags are named as mlflow models serve's.

  -m, --model-uri URI             the model: models:/NAME/VERSION, models:/NAME/STAGE, models:/NAME/latest,
                                  models:/NAME@ALIAS, models:/m-ID (a logged model), runs:/RUN_ID/PATH,
                                  mlflow-artifacts:/PATH, http(s)://HOST/api/2.0/mlflow-artifacts/artifacts/PATH,
                                  s3://BUCKET/PREFIX (AWS_* settings), or a local directory (or file:)
                                  holding an MLmodel file
  -p, --port PORT                 port (MAST_PORT, default 5000)
  -h, --host HOST                 interface to listen on (MAST_HOST, default 127.0.0.1)
  --tracking-uri URI              the Mast or MLflow server that resolves and serves remote model URIs
                                  (MLFLOW_TRACKING_URI); files are downloaded through its artifact routes.
                                  Credentials: http://user:password@host, else MLFLOW_TRACKING_USERNAME
                                  and MLFLOW_TRACKING_PASSWORD (basic auth), else MLFLOW_TRACKING_TOKEN.
                                  TLS: MLFLOW_TRACKING_SERVER_CERT_PATH (CA bundle, PEM, or a directory
                                  of CA certificates),
                                  MLFLOW_TRACKING_CLIENT_CERT_PATH (one PEM: certificate and private key),
                                  MLFLOW_TRACKING_INSECURE_TLS=true (no certificate verification)
  -t, --timeout SECONDS           a request's time limit, 504 after it
                                  (MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT, default 60)
  -w, --workers N                 workers of MLflow's scoring server when it serves the model
                                  (MLFLOW_MODELS_WORKERS, default 1); Mast's own server is one process
                                  (onnxruntime runs each call on every core; use batching instead)
  --env-manager ${ENV_MANAGERS.join('|')}
                                  default local. Mast runs ${SUPPORTED_FLAVORS.join(', ')} models itself, in-process
                                  (local only); other values are passed to MLflow's scoring server
  --no-conda                      the same as --env-manager local
  --install-mlflow                passed to MLflow's scoring server (installs mlflow into the environment
                                  --env-manager creates); Mast's own server needs no environment
  --enable-mlserver               passed to MLflow's scoring server (MLServer); Mast's own server speaks
                                  the Open Inference Protocol (/v2/...) without it
  --max-batch-size N              turn on adaptive batching: merge concurrent requests into one call of
                                  up to N rows (MAST_BATCH_MAX_SIZE, default 64 when MAST_BATCHING=true)
  --max-batch-wait-ms MS          how long a batch waits for more rows (MAST_BATCH_MAX_WAIT_MS, default 2);
                                  turns on adaptive batching too
  --help                          this text (-h is --host, as in mlflow models serve)

A model whose flavors Mast does not run (an sklearn pickle, say) is handed to MLflow's own scoring
server, 'python -m mlflow models serve -m DIR --env-manager local', when python3 (or python) can
import mlflow; otherwise serving fails at load, naming the flavors Mast supports.`;

/**
 * The services and the all-in-one server, loaded when a command needs them: `mast models serve` and
 * `--help` start without loading every service (Apollo, GraphiQL, the stores).
 */
function loadGateway() {
  return import('@mast/gateway');
}

/** Each `mast models serve` flag that sets a variable (flags named as `mlflow models serve`'s). */
const MODELS_SERVE_FLAGS = {
  host: 'MAST_HOST',
  port: 'MAST_PORT',
  'tracking-uri': 'MLFLOW_TRACKING_URI',
  timeout: 'MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT',
  workers: 'MLFLOW_MODELS_WORKERS',
  'max-batch-size': 'MAST_BATCH_MAX_SIZE',
  'max-batch-wait-ms': 'MAST_BATCH_MAX_WAIT_MS',
} as const;

const MODELS_SERVE_OPTIONS = {
  help: { type: 'boolean' },
  'model-uri': { type: 'string', short: 'm' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'h' },
  'tracking-uri': { type: 'string' },
  timeout: { type: 'string', short: 't' },
  workers: { type: 'string', short: 'w' },
  'env-manager': { type: 'string' },
  'no-conda': { type: 'boolean' },
  'install-mlflow': { type: 'boolean' },
  'enable-mlserver': { type: 'boolean' },
  'max-batch-size': { type: 'string' },
  'max-batch-wait-ms': { type: 'string' },
} as const;

/** Each `mast server` flag that sets a variable (flags named as `mlflow server`'s). */
const SERVER_FLAGS = {
  host: 'MAST_HOST',
  port: 'MAST_PORT',
  'backend-store-uri': 'MAST_BACKEND_STORE_URI',
  'default-artifact-root': 'MAST_DEFAULT_ARTIFACT_ROOT',
  'artifacts-destination': 'MAST_ARTIFACTS_DESTINATION',
  'static-prefix': 'MAST_STATIC_PREFIX',
  'allowed-hosts': 'MAST_ALLOWED_HOSTS',
  'cors-allowed-origins': 'MAST_CORS_ORIGINS',
} as const;

/** `mlflow server` flags that configure what Mast does not have, and what Mast does instead. */
const IGNORED_FLAGS: Record<string, string> = {
  'gunicorn-opts': 'Mast is not served by gunicorn; use --workers N for more processes',
  'uvicorn-opts': 'Mast is not served by uvicorn; use --workers N for more processes',
  'waitress-opts': 'Mast is not served by waitress; use --workers N for more processes',
  dev: 'Mast has no debug/reload mode; MAST_LOG_LEVEL=debug logs more',
};

const SERVER_OPTIONS = {
  help: { type: 'boolean' },
  version: { type: 'boolean' },
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'p' },
  'backend-store-uri': { type: 'string' },
  'default-artifact-root': { type: 'string' },
  'artifacts-destination': { type: 'string' },
  // parseArgs has no negation: both spellings of mlflow's flag are declared.
  'serve-artifacts': { type: 'boolean' },
  'no-serve-artifacts': { type: 'boolean' },
  'artifacts-only': { type: 'boolean' },
  'static-prefix': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'cors-allowed-origins': { type: 'string' },
  'disable-security-middleware': { type: 'boolean' },
  workers: { type: 'string', short: 'w' },
  'expose-prometheus': { type: 'string' },
  'gunicorn-opts': { type: 'string' },
  'uvicorn-opts': { type: 'string' },
  'waitress-opts': { type: 'string' },
  'app-name': { type: 'string' },
  dev: { type: 'boolean' },
} as const;

/** A usage mistake: one line on stderr pointing to the command's help, exit 2. */
function refuse(command: string, line: string): never {
  process.stderr.write(`${command}: ${line} (see '${command} --help')\n`);
  process.exit(USAGE_ERROR);
}

/**
 * parseArgs, with each mistake refused in one line (its own messages span a paragraph and name the
 * option, not what was typed): an unknown flag, a flag without its value (or with an empty one), a
 * value given to a switch, an argument the command does not take.
 */
function parseCommandLine<
  const O extends NonNullable<ParseArgsConfig['options']>,
  const P extends boolean = false,
>(command: string, args: string[], options: O, allowPositionals?: P) {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  /** `--flag -1` spelled `--flag=-1` (index of the flag), and the value's own index to drop. */
  const joined = new Map<number, string>();
  for (const token of tokens) {
    if (token.kind === 'positional' && !allowPositionals)
      refuse(command, `unexpected argument '${token.value}'`);
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    const flag =
      token.rawName === `--${token.name}` ? `'${token.rawName}'` : `'${token.rawName}' (--${token.name})`;
    if (option === undefined) refuse(command, `unknown flag '${token.rawName}'`);
    if (option.type === 'boolean' && token.value !== undefined)
      refuse(command, `flag ${flag} takes no value`);
    // A following flag is not a value (`--port --host x`), but a negative number is (`-p -1`: the
    // flag's own check refuses it by name); an empty value is a mistake, not the default (an empty
    // variable means unset).
    const value = token.value;
    if (option.type === 'string' && !token.inlineValue && value !== undefined && /^-\d/.test(value)) {
      // parseArgs' strict pass takes `--flag -1` for a flag missing its value; `--flag=-1` it reads.
      joined.set(token.index, `--${token.name}=${value}`).set(token.index + 1, '');
      continue;
    }
    if (
      option.type === 'string' &&
      (value === undefined || value.trim() === '' || (!token.inlineValue && value.startsWith('-')))
    )
      refuse(command, `flag ${flag} needs a value`);
  }
  const strictArgs = args.flatMap((arg, index) => {
    const replacement = joined.get(index);
    return replacement === undefined ? [arg] : replacement === '' ? [] : [replacement];
  });
  return parseArgs({ args: strictArgs, options, strict: true, allowPositionals });
}

/** Flags whose values are other servers' command lines (`--gunicorn-opts "--timeout 60"`). */
const PASS_THROUGH_VALUES = new Set(['--gunicorn-opts', '--uvicorn-opts', '--waitress-opts']);

function parseServerArgs(argv: string[]) {
  // A value that starts with '-' would be taken for a missing one: join such values to their flag.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (PASS_THROUGH_VALUES.has(arg) && i + 1 < argv.length) args.push(`${arg}=${argv[++i]}`);
    else args.push(arg);
  }
  return parseCommandLine('mast server', args, SERVER_OPTIONS).values;
}

type ServerValues = ReturnType<typeof parseServerArgs>;

/**
 * A bad value given on the command line is a usage error (exit 2), as an unknown flag is; a bad
 * variable alone stays a configuration error (exit 1).
 */
function commandLineMistake(error: unknown): unknown {
  return error instanceof ConfigError && error.problems.some((problem) => problem.source !== problem.variable)
    ? new StartupError(error.message, USAGE_ERROR)
    : error;
}

/** runProcess for a command: configuration mistakes in its flags and arguments exit 2. */
function runCommand(
  name: string,
  main: (context: ProcessContext) => Promise<void>,
  options?: RunProcessOptions,
): Promise<void> {
  return runProcess(
    name,
    async (context) => {
      try {
        await main(context);
      } catch (error) {
        throw commandLineMistake(error);
      }
    },
    options,
  );
}

/** The environment with flags layered over it, and which variables flags set. */
interface LayeredEnvironment {
  env: Record<string, string | undefined>;
  /** Variable -> the flag that set it (so errors name `--port`, not `MAST_PORT`). */
  sources: Record<string, string>;
}

/** Layers the string flags of `flags` (flag -> variable) over `env`. */
function flagsOverEnvironment(
  values: Record<string, unknown>,
  flags: Record<string, string>,
  env: Record<string, string | undefined>,
): LayeredEnvironment {
  const layered = { ...env };
  const sources: Record<string, string> = {};
  for (const [flag, variable] of Object.entries(flags)) {
    const value = values[flag];
    if (typeof value === 'string') {
      layered[variable] = value;
      sources[variable] = `--${flag}`;
    }
  }
  return { env: layered, sources };
}

/** `mast server`'s flags over the environment, with the boolean flags that set variables. */
function serverEnvironment(
  values: ServerValues,
  env: Record<string, string | undefined>,
): LayeredEnvironment {
  const { env: layered, sources } = flagsOverEnvironment(values, SERVER_FLAGS, env);
  if (values['no-serve-artifacts'] || values['serve-artifacts']) {
    layered.MAST_SERVE_ARTIFACTS = values['no-serve-artifacts'] ? 'false' : 'true';
    sources.MAST_SERVE_ARTIFACTS = values['no-serve-artifacts']
      ? '--no-serve-artifacts'
      : '--serve-artifacts';
  }
  if (values['disable-security-middleware']) {
    layered.MAST_ALLOWED_HOSTS = '*';
    sources.MAST_ALLOWED_HOSTS = '--disable-security-middleware';
  }
  return { env: layered, sources };
}

/**
 * `--app-name basic-auth` (or another app plugin) is refused, not ignored: an operator moving MLflow's
 * auth setup over would otherwise get a server open to anyone.
 */
function refuseAppName(values: ServerValues): void {
  if (values['app-name'] !== undefined)
    throw new StartupError(
      `--app-name ${values['app-name']}: Mast has no built-in authentication nor app plugins; put an authenticating reverse proxy (oauth2-proxy, your ingress) in front of it and start it without --app-name`,
      USAGE_ERROR,
    );
}

function workerCount(values: ServerValues): number {
  if (values.workers === undefined) return 1;
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256)
    throw new StartupError(
      `--workers: expected a number of processes (1-256), got '${values.workers}'`,
      USAGE_ERROR,
    );
  return workers;
}

/** `mast server`: every service on one port (the all-in-one composition root). */
async function runServer(argv: string[]): Promise<void> {
  const isWorker = cluster.isWorker;
  const values = parseServerArgs(argv);
  if (values.help) return console.log(SERVER_HELP);
  if (values.version) return console.log(versionLine());
  return runCommand(
    isWorker ? `mast server (worker ${cluster.worker?.id})` : 'mast server',
    async (context) => {
      refuseAppName(values);
      const { env, sources } = serverEnvironment(values, process.env);
      const { buildAllInOne, loadAllInOneConfig, SERVICES } = await loadGateway();
      const config = loadAllInOneConfig(env, { sources });
      context.shutdownTimeoutMs = config.shutdownTimeoutMs;
      const workers = workerCount(values);
      const artifactsOnly = values['artifacts-only'] === true;
      const services = artifactsOnly ? SERVICES.filter((service) => service.name === 'artifact') : SERVICES;
      checkServicesConfig(services, config, sources);
      const verbose = ['info', 'debug', 'trace'].includes(config.logLevel);
      const progress = (message: string) => {
        if (verbose) context.logger.info(message);
      };
      if (!isWorker) {
        for (const [flag, instead] of Object.entries(IGNORED_FLAGS))
          if (values[flag as keyof ServerValues] !== undefined)
            process.stderr.write(`mast server: warning: --${flag} is ignored: ${instead}\n`);
        if (values['expose-prometheus'] !== undefined)
          progress('--expose-prometheus: Prometheus metrics are always served at /metrics');
      }
      const postgres = parseBackendStoreUri(config.backendStoreUri).kind === 'postgres';
      if (workers > 1 && !postgres && !artifactsOnly) {
        throw new StartupError(
          `--workers ${workers}: the embedded database (${config.backendStoreUri}) is opened by one process only; use PostgreSQL (--backend-store-uri postgresql://...) for several workers`,
        );
      }
      if (!isWorker) {
        // Before any database work: a second server on a busy port must touch nothing.
        await assertPortBindable(config.host, config.port, {
          host: sources.MAST_HOST,
          port: sources.MAST_PORT,
        });
        // Before the database too: a destination that cannot be written fails in one line, not after
        // migrating (the artifact service would open it last).
        const { ArtifactStorage } = await import('@mast/artifact');
        await ArtifactStorage.prepareDestination(config.artifactsDestination, { sources });
        if (workers > 1) return runPrimary(context, config, workers, progress, artifactsOnly);
      }
      const server = await buildAllInOne(config, {
        shutdown: context.shutdown,
        services,
        log: progress,
        holdPort: isWorker ? undefined : { host: config.host, port: config.port },
        checkHostsByDefault: true,
        graphql: !artifactsOnly,
      });
      const address = await listen(context, server.app, { host: config.host, port: config.port });
      const prefix = config.staticPrefix === '' ? '' : ` under ${config.staticPrefix}`;
      server.app.log.info(
        artifactsOnly
          ? `Mast listening on ${address}${prefix} (artifacts only: ${redactSecrets(config.artifactsDestination)})`
          : `Mast listening on ${address}${prefix} (backend store: ${describeBackendStore(config.backendStoreUri)})`,
      );
      if (config.allowedHosts === undefined && !/^(127\.|localhost$|::1$)/.test(config.host))
        server.app.log.warn(
          `listening on ${config.host}: requests are accepted only with a Host header that is localhost or a private address; set --allowed-hosts for DNS names`,
        );
    },
  );
}

/**
 * `--workers N`: this process migrates once, then forks N workers that share the port (node:cluster)
 * and runs until a signal, which it passes on to the workers. A worker that dies is replaced.
 */
async function runPrimary(
  context: ProcessContext,
  config: AllInOneConfig,
  workers: number,
  progress: (message: string) => void,
  artifactsOnly: boolean,
): Promise<void> {
  if (!artifactsOnly) {
    progress(`connecting to PostgreSQL at ${describeBackendStore(config.backendStoreUri)}`);
    const database = await openDatabase({ uri: config.backendStoreUri, poolSize: 1 });
    try {
      await waitForDatabase(database, {
        timeoutMs: config.dbStartupTimeoutMs,
        onRetry: (attempt, delayMs, error) =>
          context.logger.info(
            `PostgreSQL is not reachable (attempt ${attempt}: ${redactSecrets((error as Error).message)}); retrying in ${delayMs / 1000} s`,
          ),
      });
      progress('migrating the database');
      await migrateServices(database.db, (await loadGateway()).SERVICES);
    } finally {
      await database.close();
    }
  }
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    context.logger.error({}, `worker ${worker.id} exited (${signal ?? code}); starting another`);
    setTimeout(fork, 1000);
  });
  context.shutdown.add('workers', async () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    await Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  });
  for (let i = 0; i < workers; i++) fork();
  progress(`started ${workers} workers on ${config.host}:${config.port}`);
}

/**
 * `mast models serve`: fetches and serves one model (`serveModel`), until a signal; when MLflow's
 * scoring server serves it, its exit ends the command with its exit code.
 */
async function serveModelCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandLine('mast models serve', argv, MODELS_SERVE_OPTIONS);
  if (values.help) return console.log(MODELS_SERVE_HELP);
  const modelUri = values['model-uri'];
  if (modelUri === undefined) refuse('mast models serve', '-m/--model-uri is required');
  return runCommand('mast models serve', async (context) => {
    const { env, sources } = flagsOverEnvironment(values, MODELS_SERVE_FLAGS, process.env);
    const batchingFlag =
      values['max-batch-size'] !== undefined
        ? '--max-batch-size'
        : values['max-batch-wait-ms'] !== undefined
          ? '--max-batch-wait-ms'
          : undefined;
    if (batchingFlag !== undefined) {
      env.MAST_BATCHING = 'true';
      sources.MAST_BATCHING = batchingFlag;
    }
    const config = loadConfig(env, MODEL_SERVE_CONFIG, { sources });
    context.shutdownTimeoutMs = config.shutdownTimeoutMs;
    const envManager = values['no-conda'] ? 'local' : values['env-manager'];
    // Before any download: a busy port fails at once.
    await assertPortBindable(config.host, config.port, { host: sources.MAST_HOST, port: sources.MAST_PORT });
    // Registered before serving: a signal while the model downloads or MLflow's scoring server starts
    // stops that and waits until it is cleaned up.
    let closing = false;
    const starting = new AbortController();
    const serving = serveModel({
      modelUri,
      trackingUri: config.modelServe.trackingUri,
      credentials: config.modelServe.credentials,
      host: config.host,
      port: config.port,
      requestTimeoutMs: config.modelServer.requestTimeoutMs,
      workers: config.modelServe.workers,
      envManager,
      installMlflow: values['install-mlflow'],
      enableMlserver: values['enable-mlserver'],
      batching: config.modelServer.batching,
      bodyLimitBytes: config.bodyLimit,
      modelName: config.modelServer.modelName,
      logger: { level: config.logLevel },
      log: (line) => context.logger.info(line),
      // s3:// models are read as the artifact service reads S3, with this process's AWS_* settings.
      openStore: async (uri) => {
        const { ArtifactStorage } = await import('@mast/artifact');
        const storage = await ArtifactStorage.open({ destination: uri, allowedRoots: [], s3: config.s3 });
        return { store: storage.destination, close: () => storage.close() };
      },
      signal: starting.signal,
    });
    context.shutdown.add('model server', async () => {
      closing = true;
      starting.abort();
      const served = await serving.catch(() => undefined);
      await served?.close();
    });
    const served = await serving;
    if (served.kind === 'mast') {
      context.logger.info(`serving ${served.model.source} (${served.flavor}) at ${served.url}`);
      if (config.modelServe.workers > 1) {
        process.stderr.write(
          `mast models serve: warning: --workers ${config.modelServe.workers} is not used: Mast's own server is one process (onnxruntime runs each call on every core); --max-batch-size merges concurrent requests\n`,
        );
      }
      return;
    }
    context.logger.info(
      `MLflow's scoring server (${served.command.join(' ')}) serves ${served.model.source} at ${served.url}`,
    );
    void served.exited.then(async (code) => {
      if (closing) return;
      context.logger.error({}, `MLflow's scoring server exited with code ${code}`);
      await served.close();
      process.exit(code);
    });
  });
}

/** `mast db upgrade [URI]`: migrates every service that owns a schema. */
async function upgradeDatabase(argv: string[]): Promise<void> {
  const parsed = parseCommandLine('mast db upgrade', argv, { help: { type: 'boolean', short: 'h' } }, true);
  if (parsed.values.help) return console.log(DB_UPGRADE_HELP);
  if (parsed.positionals.length > 1)
    refuse('mast db upgrade', `expected one URI, got ${parsed.positionals.length} arguments`);
  return runCommand(
    'mast db upgrade',
    async (context) => {
      const [uri] = parsed.positionals;
      const env = uri === undefined ? process.env : { ...process.env, MAST_BACKEND_STORE_URI: uri };
      const config = loadConfig(env, [databaseConfig], {
        sources: uri === undefined ? {} : { MAST_BACKEND_STORE_URI: 'URI' },
      });
      context.logger.info(`opening ${describeBackendStore(config.backendStoreUri)}`);
      const database = await openDatabase({ uri: config.backendStoreUri, poolSize: 1 });
      context.shutdown.add('database pool', database.close);
      await waitForDatabase(database, {
        timeoutMs: config.dbStartupTimeoutMs,
        onRetry: (attempt, delayMs, error) =>
          context.logger.info(
            `the database is not reachable (attempt ${attempt}: ${redactSecrets((error as Error).message)}); retrying in ${delayMs / 1000} s`,
          ),
      });
      const { SERVICES } = await loadGateway();
      for (const { service, schema, applied } of await migrateServices(database.db, SERVICES)) {
        console.log(
          applied.length > 0
            ? `${service} (schema ${schema}): applied ${applied.join(', ')}`
            : `${service} (schema ${schema}): up to date`,
        );
      }
    },
    { untilSignal: false },
  );
}

function versionLine(): string {
  return `mast ${VERSION} (MLflow API ${MLFLOW_COMPATIBLE_VERSION})`;
}

/** A group's help: no subcommand, `--help` or `-h` (no group has a host flag). */
function isHelp(arg: string | undefined): boolean {
  return arg === undefined || arg === '--help' || arg === '-h';
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(MAIN_HELP);
      return;
    case '--version':
    case '-V':
    case 'version':
      console.log(versionLine());
      return;
    case 'server':
      return runServer(rest);
    case 'db':
      if (rest[0] === 'upgrade') return upgradeDatabase(rest.slice(1));
      if (isHelp(rest[0])) return console.log(DB_HELP);
      return refuse('mast db', `unknown command '${rest[0]}'`);
    case 'models':
      if (rest[0] === 'serve') return serveModelCommand(rest.slice(1));
      if (isHelp(rest[0])) return console.log(MODELS_HELP);
      return refuse('mast models', `unknown command '${rest[0]}'`);
    default:
      return refuse(
        'mast',
        command.startsWith('-') ? `unknown flag '${command}'` : `unknown command '${command}'`,
      );
  }
}

await main(process.argv.slice(2));
