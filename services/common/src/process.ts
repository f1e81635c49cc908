import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { ConfigError } from './config.js';

/**
 * The lifecycle of a Mast process: `runProcess()` runs its start-up, owns SIGTERM/SIGINT and a
 * shutdown registry (HTTP servers, workers, relays, pools: anything with a close), and turns expected
 * start-up failures (configuration, a port in use) into one line on stderr and exit code 1.
 */

/** Something to close on shutdown. */
export interface Closer {
  name: string;
  close(): Promise<void> | void;
}

/** What a process closes on shutdown, in reverse order of registration (a server before its pool). */
export class ShutdownRegistry {
  readonly #closers: Closer[] = [];
  readonly #first: Closer[] = [];

  /** Registers a closer; register each resource as soon as it is open. */
  add(name: string, close: () => Promise<void> | void): void {
    this.#closers.push({ name, close });
  }

  /**
   * Registers a closer that runs before every `add`ed one, even those added later: for a dependency
   * whose outage would otherwise hold the others up (Redis down: a relay or worker waiting on it).
   */
  addFirst(name: string, close: () => Promise<void> | void): void {
    this.#first.push({ name, close });
  }

  /** The names registered so far, in registration order (`addFirst`'s, then `add`'s). */
  get names(): string[] {
    return [...this.#first, ...this.#closers].map((closer) => closer.name);
  }

  /**
   * Closes everything registered: `addFirst`'s in order, then `add`'s last first; a closer that fails
   * is reported and the others still run. Each closer runs once, even if this is called again.
   */
  async closeAll(onError: (name: string, error: unknown) => void = () => {}): Promise<void> {
    while (this.#first.length > 0 || this.#closers.length > 0) {
      const closer = this.#first.length > 0 ? this.#first.shift()! : this.#closers.pop()!;
      try {
        await closer.close();
      } catch (error) {
        onError(closer.name, error);
      }
    }
  }
}

/** An expected failure (bad input, a busy port, …): printed as one line, without a stack trace. */
export class StartupError extends Error {
  override name = 'StartupError';
  /** The process's exit code (1; 2 for a command-line usage mistake, if a command wants it). */
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The subset of a pino logger the lifecycle writes to. */
export interface ProcessLogger {
  info(message: string): void;
  error(object: object, message: string): void;
}

/** Plain lines on stderr, until the process has a real logger. */
const stderrLogger = (name: string): ProcessLogger => ({
  info: (message) => process.stderr.write(`${name}: ${message}\n`),
  error: (object, message) => {
    const error = (object as { err?: unknown }).err;
    process.stderr.write(`${name}: ${message}${error instanceof Error ? `: ${error.stack}` : ''}\n`);
  },
});

export interface ProcessContext {
  /** The process's name in messages (`mast server`, `tracking`, …). */
  readonly name: string;
  readonly shutdown: ShutdownRegistry;
  /** How long shutdown may take before the process exits with 1 anyway (10 s until set). */
  shutdownTimeoutMs: number;
  /** Where lifecycle messages go: stderr lines until the process sets its own logger. */
  logger: ProcessLogger;
}

export interface RunProcessOptions {
  /**
   * Serve until a signal (the default), or close everything and exit 0 once `main` returns (one-shot
   * commands such as `mast db upgrade`).
   */
  untilSignal?: boolean;
  /** How the process exits (tests may replace it). */
  exit?: (code: number) => void;
}

const PORT_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this process does not have',
  EADDRNOTAVAIL: 'is not an address of this machine',
  ENOTFOUND: 'is a host name that does not resolve',
  EAI_AGAIN: 'is a host name that could not be resolved now',
};

/** Errors about the host part of the address (the rest are about the port). */
const HOST_ERRORS = new Set(['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

/** The one line an expected failure prints, or undefined for an unexpected one (printed with its stack). */
export function expectedFailure(error: unknown): string | undefined {
  if (error instanceof ConfigError || error instanceof StartupError) return error.message;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code in PORT_ERRORS) {
    const { address, port } = error as { address?: string; port?: number };
    return `cannot listen on ${address ?? '?'}:${port ?? '?'}: the address ${PORT_ERRORS[code]}`;
  }
  return undefined;
}

/**
 * Runs a process: `main` starts it (load the configuration, check the port, open and register
 * resources, listen). SIGTERM or SIGINT closes the registered resources in reverse order within the
 * shutdown timeout, then exits 0 (1 when a closer failed or time ran out; a second signal exits at
 * once). A start-up failure closes what was opened and exits 1, with one line on stderr for expected
 * failures (`ConfigError`, `StartupError`, a port that cannot be bound).
 */
export async function runProcess(
  name: string,
  main: (context: ProcessContext) => Promise<void>,
  options: RunProcessOptions = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const context: ProcessContext = {
    name,
    shutdown: new ShutdownRegistry(),
    shutdownTimeoutMs: 10_000,
    logger: stderrLogger(name),
  };

  let stopping = false;
  const stop = async (code: number, reason?: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (reason !== undefined) context.logger.info(`shutting down (${reason})`);
    const timer = setTimeout(() => {
      context.logger.error({}, `shutdown did not finish within ${context.shutdownTimeoutMs} ms; exiting`);
      exit(1);
    }, context.shutdownTimeoutMs);
    let failed = false;
    await context.shutdown.closeAll((closer, error) => {
      failed = true;
      context.logger.error({ err: error }, `closing ${closer} failed`);
    });
    clearTimeout(timer);
    exit(failed && code === 0 ? 1 : code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      context.logger.info(`${signal} again: exiting now`);
      exit(1);
      return;
    }
    void stop(0, signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await main(context);
  } catch (error) {
    // A signal during start-up closed what `main` was waiting on (a pool, the queue): not a failure.
    if (stopping) return;
    const line = expectedFailure(error);
    if (line !== undefined) process.stderr.write(`${name}: ${line}\n`);
    else process.stderr.write(`${name}: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
    await stop(error instanceof StartupError ? error.exitCode : 1);
    return;
  }
  if (options.untilSignal === false) await stop(0);
}

/** Where the port and host settings came from, to name them in errors (`--port` or `MAST_PORT`). */
export interface ListenSources {
  host?: string;
  port?: string;
}

/**
 * Fails with a StartupError when `host:port` cannot be bound (in use, privileged, not a local
 * address). Run it before opening the database or migrating, so a second server on a busy port
 * touches nothing.
 */
export async function assertPortBindable(
  host: string,
  port: number,
  sources: ListenSources = {},
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const problem = error.code !== undefined ? PORT_ERRORS[error.code] : undefined;
      if (problem === undefined) return reject(error);
      const setting = HOST_ERRORS.has(error.code!)
        ? (sources.host ?? 'MAST_HOST')
        : (sources.port ?? 'MAST_PORT');
      reject(new StartupError(`cannot listen on ${host}:${port}: the address ${problem} (${setting})`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/**
 * While the process waits for a dependency (`waitingFor`: the database, Redis), holds its port with a
 * stand-in: `/health` answers `OK`, `/ready` 503, every other path 503 `TEMPORARILY_UNAVAILABLE`.
 * Resolves to the function that closes it (call it just before the real server listens).
 */
export async function holdPort(
  host: string,
  port: number,
  waitingFor = 'the database',
): Promise<() => Promise<void>> {
  const server = createHttpServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    response.setHeader('connection', 'close');
    if (path.endsWith('/health')) {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    } else if (path.endsWith('/ready')) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end(`NOT READY: waiting for ${waitingFor}`);
    } else {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' }).end(
        JSON.stringify({
          error_code: 'TEMPORARILY_UNAVAILABLE',
          message: `The server is starting: ${waitingFor} is not reachable yet; retry later.`,
        }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
