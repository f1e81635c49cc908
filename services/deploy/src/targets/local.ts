import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from '@mast/common';
import { type FetchedModel, fetchModel } from '@mast/model-server';
import type { DeploymentContext, DeploymentSteps, RolloutOutcome } from '../service/pipeline.js';
import type { DeploymentRecord } from '../store/deploy-store.js';
import { waitForTrackingServer } from './tracking-server.js';

export interface LocalServersOptions {
  /**
   * The tracking server the model files are downloaded from (the all-in-one server's own URL, known
   * once it listens); undefined fails the rollout with a message naming MAST_DEPLOY_TRACKING_URI.
   */
  trackingUri: () => string | undefined;
  /** Where downloaded models are kept while served (this process removes what it finds there at restore). */
  dataDir: string;
  /** How long a new model server may take to answer `/ping` (default 120 s). */
  readyTimeoutMs?: number;
  log?: (message: string, details: Record<string, unknown>) => void;
}

/** How `fetchModel` names its download directories (`mkdtemp` under the data directory). */
const MODEL_COPY_PREFIX = 'mast-model-';

/** One model server child process. */
interface LocalServer {
  deploymentId: string;
  child: ChildProcess;
  endpoint: string;
  model: FetchedModel;
  exited: Promise<void>;
}

/** The model server's process entry point (`@mast/model-server/main`: its `dist/main.js`). */
function modelServerMain(): string {
  return createRequire(import.meta.url).resolve('@mast/model-server/main');
}

/**
 * The LOCAL target of the all-in-one default: each model served by a model server child process on a
 * free loopback port, so a `mast server` user sees a transition to Production start serving without a
 * cluster. There is no image: a rollout downloads the version (`models:/<name>/<version>` from the
 * tracking server), starts a new child and waits for its `/ping`; once it answers, the child of the
 * version served before is stopped. A child that exits or never answers within `readyTimeoutMs` fails
 * the rollout while the previous version keeps serving (the deployment ends ROLLED_BACK, or FAILED when
 * nothing served before).
 */
export class LocalServers implements DeploymentSteps {
  private readonly servers = new Map<string, LocalServer>();
  private readonly log: NonNullable<LocalServersOptions['log']>;

  constructor(private readonly options: LocalServersOptions) {
    this.log = options.log ?? (() => {});
  }

  async build(): Promise<{ reason: string }> {
    return { reason: 'LOCAL target: no image, the model server loads the version from the registry' };
  }

  async rollout(context: DeploymentContext, signal: AbortSignal): Promise<RolloutOutcome> {
    const { deployment, previous } = context;
    const rollback = previous ? { reason: `version ${previous.modelVersion} still serving` } : undefined;
    try {
      const server = await this.start(deployment, signal);
      const key = serverKey(deployment);
      const replaced = this.servers.get(key);
      this.servers.set(key, server);
      if (replaced) {
        await stop(replaced);
        this.log('deploy: local model server stopped', { deploymentId: replaced.deploymentId });
      }
      return {
        outcome: 'LIVE',
        reason: `model server for ${deployment.modelName} version ${deployment.modelVersion} answering at ${server.endpoint}`,
        endpoint: server.endpoint,
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return { outcome: 'FAILED', reason: (error as Error).message, rollback };
    }
  }

  /**
   * Serves again the LIVE deployments of LOCAL targets after a restart of `mast server` (whose children
   * ended with it), telling `onServed` each one's new endpoint or why it could not be served. Model
   * copies the previous process left behind are removed first.
   */
  async restore(
    deployments: readonly DeploymentRecord[],
    onServed: (deploymentId: string, result: { endpoint: string } | { error: string }) => Promise<void>,
  ): Promise<void> {
    const leftovers = await readdir(this.options.dataDir).catch(() => [] as string[]);
    await Promise.all(
      leftovers
        .filter((name) => name.startsWith(MODEL_COPY_PREFIX))
        .map((name) => rm(join(this.options.dataDir, name), { recursive: true, force: true })),
    );
    for (const deployment of deployments) {
      try {
        const server = await this.start(deployment, new AbortController().signal);
        const replaced = this.servers.get(serverKey(deployment));
        this.servers.set(serverKey(deployment), server);
        if (replaced) await stop(replaced);
        await onServed(deployment.deploymentId, { endpoint: server.endpoint });
      } catch (error) {
        await onServed(deployment.deploymentId, { error: (error as Error).message });
      }
    }
  }

  /** The endpoint serving a deployment now, if this process runs it. */
  endpointOf(deploymentId: string): string | undefined {
    return [...this.servers.values()].find((server) => server.deploymentId === deploymentId)?.endpoint;
  }

  /** Stops every model server (on shutdown). */
  async close(): Promise<void> {
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(servers.map(stop));
  }

  private async start(deployment: DeploymentRecord, signal: AbortSignal): Promise<LocalServer> {
    const trackingUri = await waitForTrackingServer(this.options.trackingUri, signal);
    await mkdir(this.options.dataDir, { recursive: true });
    const uri = `models:/${deployment.modelName}/${deployment.modelVersion}`;
    const model = await fetchModel(uri, {
      trackingUri,
      downloadRoot: this.options.dataDir,
    });
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const output: string[] = [];
    const child = spawn(process.execPath, [modelServerMain()], {
      env: {
        ...process.env,
        MAST_MODEL_DIR: model.dir,
        MAST_MODEL_NAME: deployment.modelName,
        MAST_HOST: '127.0.0.1',
        MAST_PORT: String(port),
        MAST_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let loggedError: string | undefined;
    const keep = (chunk: Buffer) => {
      const lines = chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
      loggedError ??= lines.map(errorMessage).find((message) => message !== undefined);
      output.push(...lines);
      output.splice(0, Math.max(0, output.length - 20));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      });
    });
    const server: LocalServer = { deploymentId: deployment.deploymentId, child, endpoint, model, exited };
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    for (;;) {
      if (exitCode !== undefined) {
        await model.remove();
        throw new Error(
          `the model server exited with code ${exitCode} before serving${output.length ? `: ${lastLine(output)}` : ''}`,
        );
      }
      if (loggedError !== undefined) {
        // e.g. "the model failed to load: ...": it would never answer /ping
        await stop(server);
        throw new Error(`the model server failed before serving: ${loggedError}`);
      }
      if (signal.aborted || Date.now() > deadline) {
        await stop(server);
        if (signal.aborted) throw new Error('shutting down');
        throw new Error(
          `the model server did not answer /ping within ${Math.round((this.options.readyTimeoutMs ?? 120_000) / 1000)} s${output.length ? `: ${lastLine(output)}` : ''}`,
        );
      }
      try {
        const response = await fetch(`${endpoint}/ping`, { signal: AbortSignal.timeout(2000) });
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.log('deploy: local model server started', { deploymentId: deployment.deploymentId, endpoint });
    return server;
  }
}

function serverKey(deployment: DeploymentRecord): string {
  return JSON.stringify([deployment.targetName, deployment.modelName]);
}

/** The message of a pino log record at level error (50) or above, else undefined. */
function errorMessage(line: string): string | undefined {
  try {
    const record = JSON.parse(line) as { level?: unknown; msg?: unknown };
    if (typeof record.level === 'number' && record.level >= 50 && typeof record.msg === 'string')
      return record.msg;
  } catch {
    // not a log record
  }
  return undefined;
}

/**
 * What the child said last that explains its end: an uncaught error's line (`Error: …`, Node prints the
 * stack after it), else the last line, without pino's JSON wrapping when it is a log record.
 */
function lastLine(output: string[]): string {
  const thrown = output.find((line) => /^[A-Za-z]*Error\b/.test(line));
  if (thrown) return thrown;
  const line = output[output.length - 1];
  try {
    const record = JSON.parse(line) as { msg?: unknown };
    if (typeof record.msg === 'string') return record.msg;
  } catch {
    // plain text
  }
  return line;
}

/** Stops a model server (SIGTERM, then SIGKILL after 10 s) and removes its model copy. */
async function stop(server: LocalServer): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(timer);
  }
  await server.model.remove();
}
