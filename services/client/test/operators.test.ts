import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { parseBackendStoreUri } from '@mast/common';
import pg from 'pg';
import { createPostgresDatabase, freePort } from '../../gateway/test/processes.js';

/**
 * Issue 8, "Operators": `mast server` and `mast db upgrade` as real processes (kill, restart,
 * PostgreSQL connections terminated or unreachable), over HTTP.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAST = join(ROOT, 'services/client/bin/mast.js');

jest.setTimeout(240_000);

function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('MAST_') || name === 'NODE_OPTIONS' || name === 'DATABASE_URL')
      continue;
    env[name] = value;
  }
  return { ...env, MAST_LOG_LEVEL: 'info', ...extra };
}

interface Child {
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  pid: number;
  kill(signal: NodeJS.Signals): void;
}

function start(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [MAST, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    output: () => stdout + stderr,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    pid: child.pid!,
    kill: (signal) => child.kill(signal),
  };
}

async function run(args: string[], env: Record<string, string> = {}) {
  const child = start(args, env);
  const code = await child.exited;
  return {
    code,
    stdout: child.stdout(),
    stderrLines: child
      .stderr()
      .split('\n')
      .filter((line) => line !== ''),
  };
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function status(url: string, init?: RequestInit): Promise<number> {
  try {
    return (await fetch(url, init)).status;
  } catch {
    return 0;
  }
}

/** A GET with a given Host header (fetch does not let a caller set Host). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

/** Starts `mast server` on a free port and waits until it listens. */
async function startServer(args: string[], env: Record<string, string> = {}) {
  const port = await freePort();
  const child = start(['server', '--port', String(port), ...args], env);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => child.stdout().includes('Mast listening'), `mast server ${args.join(' ')}`, 90_000);
  return { child, url, port };
}

async function stop(child: Child): Promise<void> {
  child.kill('SIGTERM');
  await child.exited;
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A TCP proxy in front of PostgreSQL that a test can cut (every connection dropped) and restore. */
async function postgresProxy(target: URL) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  return { port, up, down };
}

describe('item 5: the CLI', () => {
  test('--help on every command: usage, exit 0, nothing created; --version; unknown flags and commands exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mast-help-'));
    try {
      for (const args of [['--help'], ['server', '--help'], ['db', 'upgrade', '--help'], ['db', '--help']]) {
        const child = spawn(process.execPath, [MAST, ...args], { cwd: dir, env: childEnv({}) });
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
        });
        const code = await new Promise((resolve) => child.once('exit', resolve));
        expect(code).toBe(0);
        expect(out).toMatch(/^Usage: mast/);
      }
      expect(readdirSync(dir)).toEqual([]);
      const version = await run(['--version']);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(/^mast \d+\.\d+\.\d+ \(MLflow API \d+\.\d+\.\d+\)\n$/);
      for (const [args, line] of [
        [
          ['server', '--colour', 'blue'],
          /^mast server: unknown flag '--colour' \(see 'mast server --help'\)$/,
        ],
        [['frobnicate'], /^mast: unknown command 'frobnicate'/],
        [['--frob'], /^mast: unknown flag '--frob'/],
        [['db', 'upgrade', '--force'], /^mast db upgrade: unknown flag '--force'/],
      ] as const) {
        const result = await run([...args]);
        expect(result.code).toBe(2);
        expect(result.stderrLines).toHaveLength(1);
        expect(result.stderrLines[0]).toMatch(line);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("mlflow server's habitual flags: --static-prefix, --allowed-hosts, ignored ones warn, --expose-prometheus", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mast-flags-'));
    const { child, url } = await startServer([
      '--backend-store-uri',
      'memory://',
      '--artifacts-destination',
      join(dir, 'artifacts'),
      '--static-prefix',
      '/mlflow',
      '--allowed-hosts',
      'mlflow.internal:*,127.0.0.1:*',
      '--gunicorn-opts',
      '--timeout 60',
      '--dev',
      '--expose-prometheus',
      join(dir, 'prometheus'),
    ]);
    try {
      expect(child.stderr()).toMatch(/warning: --gunicorn-opts is ignored: .*--workers/);
      expect(child.stderr()).toMatch(/warning: --dev is ignored/);
      expect(child.stderr()).toMatch(
        /creating the embedded database in memory:\/\/ \(first start: 10-40 s\)/,
      );
      expect(child.stderr()).toMatch(/migrating the database/);
      const created = await post(`${url}/mlflow/api/2.0/mlflow/experiments/create`, { name: 'prefixed' });
      expect(created.status).toBe(200);
      expect(await status(`${url}/api/2.0/mlflow/experiments/search?max_results=1`)).toBe(404);
      expect(await status(`${url}/mlflow/metrics`)).toBe(200);
      const search = `${url}/mlflow/api/2.0/mlflow/experiments/search?max_results=1`;
      expect(await statusWithHost(search, 'attacker.example:80')).toBe(403);
      expect(await statusWithHost(search, 'mlflow.internal:5000')).toBe(200);
      // Probes answer whatever the Host (MLflow exempts /health and /version; Mast /ready and /metrics too).
      for (const probe of ['health', 'version', 'ready', 'metrics'])
        expect(await statusWithHost(`${url}/mlflow/${probe}`, 'lb.example.com')).toBe(200);

      // Item 7: /graphql in a browser is GraphiQL, every asset from this server.
      const explorer = await fetch(`${url}/mlflow/graphql`, { headers: { accept: 'text/html' } });
      expect(explorer.status).toBe(200);
      expect(explorer.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      const html = await explorer.text();
      expect(html).toMatch(/GraphQL explorer/);
      expect(html).not.toMatch(/https?:\/\//);
      for (const asset of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
        const response = await fetch(new URL(asset[1]!, `${url}/mlflow/graphql`));
        expect(response.status).toBe(200);
      }
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--artifacts-only serves the artifact proxy alone, without a database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mast-artifacts-only-'));
    const dbDir = join(dir, 'db');
    const { child, url } = await startServer([
      '--artifacts-only',
      '--backend-store-uri',
      dbDir,
      '--artifacts-destination',
      join(dir, 'artifacts'),
    ]);
    try {
      const put = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/0/r/a.txt`, {
        method: 'PUT',
        body: 'hello',
      });
      expect(put.status).toBe(200);
      const got = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/0/r/a.txt`);
      expect(await got.text()).toBe('hello');
      expect(await status(`${url}/api/2.0/mlflow/experiments/search?max_results=1`)).toBe(404);
      expect(existsSync(dbDir)).toBe(false);
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--workers N: N processes on one port with PostgreSQL; refused on the embedded database', async () => {
    const refused = await run([
      'server',
      '--workers',
      '2',
      '--backend-store-uri',
      join(tmpdir(), 'mast-never'),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderrLines).toEqual([
      expect.stringMatching(/--workers 2: the embedded database .* use PostgreSQL/),
    ]);
    const database = await createPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mast-workers-'));
    const { child, url } = await startServer([
      '--workers',
      '2',
      '--backend-store-uri',
      database.url,
      '--artifacts-destination',
      dir,
    ]);
    try {
      await waitFor(() => (child.stdout().match(/Mast listening/g) ?? []).length === 2, 'two workers');
      const pids = new Set<number>();
      for (let i = 0; i < 40 && pids.size < 2; i++) {
        const response = await post(`${url}/api/2.0/mlflow/experiments/create`, { name: `w${i}` });
        expect(response.status).toBe(200);
      }
      const logged = child.stdout().match(/"pid":(\d+)[^\n]*Mast listening/g) ?? [];
      expect(logged).toHaveLength(2);
    } finally {
      await stop(child);
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('item 2: backend store URIs as MLflow users write them', () => {
  test('SQLAlchemy PostgreSQL forms work (sslmode honoured); sqlite/mysql/mssql/other schemes are refused', async () => {
    const database = await createPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mast-uris-'));
    try {
      for (const scheme of ['postgresql+psycopg2', 'postgres', 'postgresql+pg8000']) {
        const uri = `${database.url.replace(/^postgresql/, scheme)}?sslmode=disable&application_name=mast-test`;
        const { child, url } = await startServer([
          '--backend-store-uri',
          uri,
          '--artifacts-destination',
          dir,
        ]);
        try {
          const response = await post(`${url}/api/2.0/mlflow/experiments/create`, { name: scheme });
          expect(response.status).toBe(200);
        } finally {
          await stop(child);
        }
      }
      for (const uri of [
        'sqlite:///mlflow.db',
        'mysql://u:pw@db/mlflow',
        'mssql+pyodbc://db/mlflow',
        'redis://x/0',
      ]) {
        const result = await run(['server', '--backend-store-uri', uri], {});
        // Given as a flag, a bad URI is a usage error (exit 2); in the variable, a configuration error.
        expect(result.code).toBe(2);
        expect(result.stderrLines).toHaveLength(1);
        expect(result.stderrLines[0]).toMatch(
          /--backend-store-uri: .* is not a backend store Mast can use .*Mast supports PostgreSQL/,
        );
      }
      const fromVariable = await run(['server'], { MAST_BACKEND_STORE_URI: 'sqlite:///mlflow.db' });
      expect(fromVariable.code).toBe(1);
      expect(fromVariable.stderrLines).toEqual([
        expect.stringMatching(/^mast server: MAST_BACKEND_STORE_URI: .* is not a backend store Mast can use/),
      ]);
      expect(existsSync(join(ROOT, 'sqlite:'))).toBe(false);
      expect(parseBackendStoreUri('postgresql://h/db?sslmode=require')).toMatchObject({
        kind: 'postgres',
        connectionString: 'postgresql://h/db',
        ssl: { rejectUnauthorized: false },
      });
      expect(parseBackendStoreUri('postgresql+psycopg://h/db?sslmode=verify-full')).toMatchObject({
        ssl: { rejectUnauthorized: true },
      });
      expect(parseBackendStoreUri('file:///var/mast/db')).toEqual({
        kind: 'pglite',
        dataDir: '/var/mast/db',
      });
      expect(parseBackendStoreUri('./mast-data/db')).toEqual({ kind: 'pglite', dataDir: './mast-data/db' });
    } finally {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('item 3: no secrets in logs or errors', () => {
  test('a URI password and S3 keys appear nowhere: start-up logs, config errors, server-info', async () => {
    const database = await createPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'mast-secrets-'));
    const withPassword = database.url.replace('postgres@', 'postgres:Sup3rSecretPw@');
    try {
      const { child, url } = await startServer(
        ['--backend-store-uri', withPassword, '--artifacts-destination', dir],
        {
          AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID0000',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIexampleSECRETkey',
        },
      );
      try {
        const info = await (await fetch(`${url}/api/3.0/mlflow/server-info`)).text();
        const notFound = await (await fetch(`${url}/nowhere`)).text();
        for (const text of [child.output(), info, notFound]) {
          expect(text).not.toContain('Sup3rSecretPw');
          expect(text).not.toContain('wJalrXUtnFEMIexampleSECRETkey');
        }
        expect(child.output()).toContain('postgres:***@');
      } finally {
        await stop(child);
      }
      const bad = await run(['server', '--backend-store-uri', 'mysql://root:Sup3rSecretPw@db/mlflow']);
      expect(bad.stderrLines.join('\n')).not.toContain('Sup3rSecretPw');
      expect(bad.stderrLines[0]).toContain('root:***@');
      const unreachable = await run(['db', 'upgrade', 'postgresql://u:Sup3rSecretPw@127.0.0.1:1/db'], {
        MAST_DB_STARTUP_TIMEOUT: '1',
      });
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderrLines.join('\n')).not.toContain('Sup3rSecretPw');
    } finally {
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('item 4: database availability', () => {
  const target = new URL(process.env.MAST_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test');
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: Awaited<ReturnType<typeof postgresProxy>>;
  let dir: string;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await postgresProxy(target);
    dir = mkdtempSync(join(tmpdir(), 'mast-availability-'));
  });
  afterAll(async () => {
    await proxy.down();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('unreachable at start-up: retries with a line per attempt, /ready 503 meanwhile; lost at run time: 503 then recovery', async () => {
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = start(
      [
        'server',
        '--port',
        String(port),
        '--backend-store-uri',
        viaProxy.toString(),
        '--artifacts-destination',
        dir,
      ],
      {},
    );
    try {
      await waitFor(() => /not reachable \(attempt 2/.test(child.stderr()), 'two retry lines');
      expect(await status(`${url}/ready`)).toBe(503);
      const early = await post(`${url}/api/2.0/mlflow/experiments/create`, { name: 'early' });
      expect(early.status).toBe(503);
      expect(((await early.json()) as { error_code: string }).error_code).toBe('TEMPORARILY_UNAVAILABLE');

      await proxy.up();
      await waitFor(() => child.stdout().includes('Mast listening'), 'mast server to listen');
      expect(await status(`${url}/ready`)).toBe(200);
      expect((await post(`${url}/api/2.0/mlflow/experiments/create`, { name: 'e' })).status).toBe(200);

      // Every connection killed by the server: the pool reconnects, no request fails with 500.
      const admin = new pg.Client({ connectionString: target.toString() });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [
        viaProxy.pathname.slice(1),
      ]);
      await admin.end();
      const afterKill = await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e`);
      expect([200, 503]).toContain(afterKill.status);
      await waitFor(
        async () => (await status(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e`)) === 200,
        'recovery after pg_terminate_backend',
      );

      // PostgreSQL unreachable at run time: 503 TEMPORARILY_UNAVAILABLE, /ready 503, never 500.
      await proxy.down();
      const lost = await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e`);
      expect(lost.status).toBe(503);
      expect(((await lost.json()) as { error_code: string }).error_code).toBe('TEMPORARILY_UNAVAILABLE');
      const graphql = await post(`${url}/graphql`, {
        query: '{ experimentByName(name: "e") { experimentId } }',
      });
      expect(graphql.status).not.toBe(500);
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/database is unreachable/);

      await proxy.up();
      await waitFor(
        async () => (await status(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e`)) === 200,
        'recovery without restart',
      );
      expect(child.output()).not.toMatch(/"level":50/);
    } catch (error) {
      console.log(child.output());
      throw error;
    } finally {
      await stop(child);
    }
  });
});

describe('item 1: one process per embedded database', () => {
  test('a second server or db upgrade refuses naming the holder; a killed holder does not block the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mast-lock-'));
    const dbDir = join(dir, 'db');
    try {
      const first = await startServer([
        '--backend-store-uri',
        dbDir,
        '--artifacts-destination',
        join(dir, 'a'),
      ]);
      // The slow first start is announced only when the database is created.
      expect(first.child.stderr()).toContain(
        `creating the embedded database in ${dbDir} (first start: 10-40 s)`,
      );
      const lock = JSON.parse(readFileSync(join(dbDir, 'mast.lock'), 'utf8'));
      expect(lock).toMatchObject({ pid: first.child.pid });
      const second = await run(['server', '--port', String(await freePort()), '--backend-store-uri', dbDir]);
      expect(second.code).toBe(1);
      expect(second.stderrLines.at(-1)).toMatch(
        new RegExp(
          `^mast server: the embedded database .* is in use by pid ${first.child.pid} on \\S+ since \\S+ \\(.*mast.*server`,
        ),
      );
      const upgrade = await run(['db', 'upgrade', dbDir]);
      expect(upgrade.code).toBe(1);
      expect(upgrade.stderrLines.at(-1)).toMatch(new RegExp(`in use by pid ${first.child.pid}`));
      // The first server is unharmed.
      expect((await post(`${first.url}/api/2.0/mlflow/experiments/create`, { name: 'kept' })).status).toBe(
        200,
      );

      first.child.kill('SIGKILL');
      await first.child.exited;
      expect(existsSync(join(dbDir, 'mast.lock'))).toBe(true);
      const next = await startServer([
        '--backend-store-uri',
        dbDir,
        '--artifacts-destination',
        join(dir, 'a'),
      ]);
      try {
        expect(next.child.stderr()).toContain(`opening the embedded database in ${dbDir}\n`);
        expect(next.child.stderr()).not.toContain('first start');
        const kept = await fetch(`${next.url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=kept`);
        expect(kept.status).toBe(200);
      } finally {
        await stop(next.child);
      }
      expect(existsSync(join(dbDir, 'mast.lock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
