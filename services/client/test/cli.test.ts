import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { SERVICES } from '@mast/gateway';
import pg from 'pg';
import { createPostgresDatabase, freePort } from '../../gateway/test/processes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAST = join(ROOT, 'services/client/bin/mast.js');
const FIXTURE = fileURLToPath(new URL('./fixtures/closers.mjs', import.meta.url));

/** The environment of a child: no MAST_* from ours, no jest's NODE_OPTIONS (its warnings go to stderr). */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('MAST_') || name === 'NODE_OPTIONS' || name === 'DATABASE_URL')
      continue;
    env[name] = value;
  }
  return { ...env, MAST_LOG_LEVEL: 'warn', ...extra };
}

interface Child {
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

function start(script: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [script, ...args], {
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
  return { stdout: () => stdout, stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

/** Runs a command to its end: exit code and output. */
async function run(script: string, args: string[], env: Record<string, string> = {}) {
  const child = start(script, args, env);
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

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function schemasOf(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema_name: string }>(
      'select schema_name from information_schema.schemata',
    );
    return rows.map((row) => row.schema_name);
  } finally {
    await client.end();
  }
}

describe('mast server: start-up failures are one line and exit 1, before any database work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-cli-'));
  const dbDir = join(dir, 'db');
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    busy = createServer();
    busyPort = await freePort();
    await new Promise<void>((resolve) => busy.listen(busyPort, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a bad flag is named by its flag, and is a usage error (exit 2)', async () => {
    const result = await run(MAST, ['server', '--port', 'abc', '--backend-store-uri', dbDir]);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toEqual(["mast server: --port: expected a port number (1-65535), got 'abc'"]);
    expect(existsSync(dbDir)).toBe(false);
  });

  test('a bad variable is named by its variable; every problem in one line; other processes’ variables ignored', async () => {
    const result = await run(MAST, ['server', '--backend-store-uri', dbDir], {
      MAST_PORT: 'abc',
      MAST_DB_POOL_SIZE: '0',
      REDIS_URL: 'localhost:6379',
      // The gateway process's variable: the all-in-one server does not read it.
      MAST_SERVICE_URLS: 'garbage',
    });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([
      "mast server: MAST_PORT: expected a port number (1-65535), got 'abc'; " +
        "MAST_DB_POOL_SIZE: expected a positive integer, got '0'; " +
        "REDIS_URL: expected a redis:// or rediss:// URL, got 'localhost:6379'",
    ]);
    expect(existsSync(dbDir)).toBe(false);
  });

  test('a port in use: one line, exit 1, no embedded database created', async () => {
    const result = await run(MAST, ['server', '--port', String(busyPort), '--backend-store-uri', dbDir]);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([
      `mast server: cannot listen on 127.0.0.1:${busyPort}: the address is already in use (--port)`,
    ]);
    expect(existsSync(dbDir)).toBe(false);
  });

  test('a data directory that cannot be made: one line naming it, exit 1 (no endless mkdir under /proc)', async () => {
    for (const [where, reason] of [
      ['/proc/mast-nope/db', 'ENOENT'],
      ['/etc/passwd/db', 'ENOTDIR'],
    ] as const) {
      const result = await run(MAST, [
        'server',
        '--port',
        String(busyPort + 1),
        '--backend-store-uri',
        where,
      ]);
      expect(result.code).toBe(1);
      const failure = result.stderrLines.filter(
        (line) => !/(creating|opening) the embedded database in/.test(line),
      );
      expect(failure).toHaveLength(1);
      expect(failure[0]).toContain(`cannot create the embedded database directory ${where}: ${reason}`);
    }
  });

  test('a port in use: nothing migrated on PostgreSQL either', async () => {
    const database = await createPostgresDatabase();
    try {
      const before = await schemasOf(database.url);
      const result = await run(MAST, ['server', '--backend-store-uri', database.url], {
        MAST_PORT: String(busyPort),
      });
      expect(result.code).toBe(1);
      expect(result.stderrLines).toEqual([
        `mast server: cannot listen on 127.0.0.1:${busyPort}: the address is already in use (MAST_PORT)`,
      ]);
      expect(await schemasOf(database.url)).toEqual(before);
    } finally {
      await database.drop();
    }
  });

  test('artifact settings that cannot work are configuration errors too, before the database', async () => {
    const result = await run(
      MAST,
      ['server', '--backend-store-uri', dbDir, '--artifacts-destination', 'gs://bucket/artifacts'],
      { MAST_ARTIFACT_ALLOWED_ROOTS: 's3://' },
    );
    // A bad flag among the problems makes the whole line a usage error.
    expect(result.code).toBe(2);
    expect(result.stderrLines).toEqual([
      "mast server: --artifacts-destination: 'gs://bucket/artifacts' cannot be an artifact storage root: " +
        'use a directory, file:///path or s3://bucket/prefix.; ' +
        "MAST_ARTIFACT_ALLOWED_ROOTS: Invalid artifact location 's3://': expected s3://bucket/prefix.",
    ]);
    const s3 = await run(MAST, [
      'server',
      '--backend-store-uri',
      dbDir,
      '--artifacts-destination',
      's3://bucket/x',
    ]);
    expect(s3.code).toBe(1);
    expect(s3.stderrLines).toEqual([
      'mast server: AWS_ACCESS_KEY_ID: an s3:// artifacts destination needs AWS_ACCESS_KEY_ID and ' +
        'AWS_SECRET_ACCESS_KEY (presigned URLs need a key pair)',
    ]);
    expect(existsSync(dbDir)).toBe(false);
  });

  test('an artifacts destination that cannot be a writable directory: one line naming the flag, before the database', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const dangling = join(dir, 'dangling');
    symlinkSync('/mnt/mast-nonexistent-volume/x', dangling);
    for (const [destination, reason] of [
      [
        dangling,
        `ENOENT: ${dangling} is a symbolic link to /mnt/mast-nonexistent-volume/x, which does not exist`,
      ],
      [file, `ENOTDIR: ${file} is not a directory`],
      [join(file, 'sub'), `ENOTDIR: ${file} is not a directory`],
      // Node's recursive mkdir never returns under /proc: created one level at a time instead.
      ['/proc/mast-nope', "ENOENT: no such file or directory, mkdir '/proc/mast-nope'"],
    ]) {
      const result = await run(MAST, [
        'server',
        '--backend-store-uri',
        dbDir,
        '--artifacts-destination',
        destination!,
      ]);
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderrLines: [
          `mast server: --artifacts-destination: cannot use ${destination} as an artifact root: ${reason}`,
        ],
      });
    }
    // Set by its variable, it is named by it, and a configuration error (exit 1).
    const byVariable = await run(MAST, ['server', '--backend-store-uri', dbDir], {
      MAST_ARTIFACTS_DESTINATION: file,
    });
    expect(byVariable.code).toBe(1);
    expect(byVariable.stderrLines).toEqual([
      `mast server: MAST_ARTIFACTS_DESTINATION: cannot use ${file} as an artifact root: ENOTDIR: ${file} is not a directory`,
    ]);
    expect(existsSync(dbDir)).toBe(false);
  });

  test('an unknown flag is one line too', async () => {
    const result = await run(MAST, ['server', '--colour', 'blue']);
    expect(result.code).toBe(2);
    expect(result.stderrLines).toHaveLength(1);
    expect(result.stderrLines[0]).toMatch(/^mast server: .*'--colour'/);
  });

  test('the gateway process names its own bad variable and ignores the database ones', async () => {
    const result = await run(join(ROOT, 'services/gateway/dist/main.js'), [], {
      MAST_SERVICE_URLS: 'garbage',
      MAST_DB_POOL_SIZE: 'many',
    });
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual([
      "gateway: MAST_SERVICE_URLS: expected name=url pairs, got 'garbage'",
    ]);
  });
});

describe('the command line: help, and usage mistakes in one line with exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-usage-'));
  const dbDir = join(dir, 'db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('-h is help where no command has a host flag: mast, db, models, db upgrade', async () => {
    for (const group of [[], ['db'], ['models'], ['db', 'upgrade']]) {
      const long = await run(MAST, [...group, '--help']);
      const short = await run(MAST, [...group, '-h']);
      expect(short).toEqual({ code: 0, stdout: long.stdout, stderrLines: [] });
      expect(short.stdout).toMatch(/^Usage: mast/);
    }
  });

  test('-h is --host for server and models serve, as in MLflow; alone it lacks its value', async () => {
    for (const command of ['server', 'models serve']) {
      expect(await run(MAST, [...command.split(' '), '-h'])).toEqual({
        code: 2,
        stdout: '',
        stderrLines: [`mast ${command}: flag '-h' (--host) needs a value (see 'mast ${command} --help')`],
      });
    }
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the refusal shows -h was taken as the host.
    const port = String(await freePort());
    for (const args of [
      ['server', '-h', '192.0.2.1', '-p', port, '--backend-store-uri', dbDir],
      ['models', 'serve', '-m', join(dir, 'no-model'), '-h', '192.0.2.1', '-p', port],
    ]) {
      const command = args[0] === 'server' ? 'mast server' : 'mast models serve';
      expect(await run(MAST, args)).toEqual({
        code: 1,
        stdout: '',
        stderrLines: [
          `${command}: cannot listen on 192.0.2.1:${port}: the address is not an address of this machine (--host)`,
        ],
      });
    }
    expect(existsSync(dbDir)).toBe(false);
  });

  test("mast server --help shows the artifact flags' defaults, as the README's table does", async () => {
    const help = await run(MAST, ['server', '--help']);
    expect(help.code).toBe(0);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## `mast server`'), readme.indexOf('## `mast models serve`'));
    /** A flag's line in the help and the lines continuing it, as one line. */
    const entry = (flag: string) => {
      const lines = help.stdout.split('\n');
      const first = lines.findIndex((line) => line.trimStart().startsWith(flag));
      expect(first).toBeGreaterThan(-1);
      const rest = lines.slice(first + 1);
      const end = rest.findIndex((line) => !/^ {20,}\S/.test(line));
      return [lines[first], ...rest.slice(0, end)].map((line) => line.trim()).join(' ');
    };
    for (const flag of [
      '--default-artifact-root',
      '--artifacts-destination',
      '--serve-artifacts',
      '--artifacts-only',
    ]) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${flag}\``));
      const readmeDefault = row?.split('|')[2]?.trim().replaceAll('`', '');
      expect(readmeDefault).toMatch(/\S/);
      expect(entry(flag)).toContain(`default ${readmeDefault}`);
    }
    expect(entry('--default-artifact-root')).toContain('MAST_DEFAULT_ARTIFACT_ROOT');
    expect(entry('--artifacts-destination')).toContain('MAST_ARTIFACTS_DESTINATION');
    expect(entry('--serve-artifacts')).toContain('MAST_SERVE_ARTIFACTS');
  });

  test('unknown flags, missing values and bad values: one line, exit 2, for every command', async () => {
    const cases: Array<[string[], string | RegExp]> = [
      [['--frob'], "mast: unknown flag '--frob' (see 'mast --help')"],
      [['frob'], "mast: unknown command 'frob' (see 'mast --help')"],
      [['server', '--port'], "mast server: flag '--port' needs a value (see 'mast server --help')"],
      [['server', '-p'], "mast server: flag '-p' (--port) needs a value (see 'mast server --help')"],
      [['server', '--port='], "mast server: flag '--port' needs a value (see 'mast server --help')"],
      [
        ['server', '--port', '--host', '127.0.0.1'],
        "mast server: flag '--port' needs a value (see 'mast server --help')",
      ],
      [
        ['server', '--backend-store-uri', dbDir, '--port', '70000'],
        "mast server: --port: expected a port number (1-65535), got '70000'",
      ],
      [
        ['server', '--backend-store-uri', dbDir, '--workers', 'two'],
        "mast server: --workers: expected a number of processes (1-256), got 'two'",
      ],
      [
        ['server', '--serve-artifacts=no'],
        "mast server: flag '--serve-artifacts' takes no value (see 'mast server --help')",
      ],
      [['server', 'now'], "mast server: unexpected argument 'now' (see 'mast server --help')"],
      // MLflow's auth app: refused, not ignored (Mast would run without authentication).
      [
        ['server', '--backend-store-uri', dbDir, '--app-name', 'basic-auth'],
        'mast server: --app-name basic-auth: Mast has no built-in authentication nor app plugins; put an authenticating reverse proxy (oauth2-proxy, your ingress) in front of it and start it without --app-name',
      ],
      [['db', 'downgrade'], "mast db: unknown command 'downgrade' (see 'mast db --help')"],
      [
        ['db', 'upgrade', '--force'],
        "mast db upgrade: unknown flag '--force' (see 'mast db upgrade --help')",
      ],
      [
        ['db', 'upgrade', 'a', 'b'],
        "mast db upgrade: expected one URI, got 2 arguments (see 'mast db upgrade --help')",
      ],
      [
        ['db', 'upgrade', 'sqlite:///mlflow.db'],
        /^mast db upgrade: URI: 'sqlite:\/\/\/mlflow.db' is not a backend store/,
      ],
      [['models', 'predict'], "mast models: unknown command 'predict' (see 'mast models --help')"],
      [['models', 'serve'], "mast models serve: -m/--model-uri is required (see 'mast models serve --help')"],
      [
        ['models', 'serve', '-m'],
        "mast models serve: flag '-m' (--model-uri) needs a value (see 'mast models serve --help')",
      ],
      [
        ['models', 'serve', '-m', 'x', '-p'],
        "mast models serve: flag '-p' (--port) needs a value (see 'mast models serve --help')",
      ],
      [
        ['models', 'serve', '-m', 'x', '-p', 'abc'],
        "mast models serve: --port: expected a port number (1-65535), got 'abc'",
      ],
      [
        ['models', 'serve', '-m', 'x', '--port', '0'],
        "mast models serve: --port: expected a port number (1-65535), got '0'",
      ],
      // A negative number is the flag's value, refused by the flag's own check, not taken for a flag.
      [
        ['models', 'serve', '-m', 'x', '-p', '-1'],
        "mast models serve: --port: expected a port number (1-65535), got '-1'",
      ],
      [
        ['models', 'serve', '-m', 'x', '--max-batch-size', '-5', '-p', '5099'],
        "mast models serve: --max-batch-size: expected a positive integer, got '-5'",
      ],
      [
        ['models', 'serve', '-m', 'x', '--max-batch-wait-ms', '-1'],
        "mast models serve: --max-batch-wait-ms: expected a non-negative integer, got '-1'",
      ],
      [
        ['server', '--backend-store-uri', dbDir, '--workers', '-2'],
        "mast server: --workers: expected a number of processes (1-256), got '-2'",
      ],
      [
        ['models', 'serve', '-m', 'x', '--colour'],
        "mast models serve: unknown flag '--colour' (see 'mast models serve --help')",
      ],
    ];
    for (const [args, line] of cases) {
      const result = await run(MAST, args);
      expect({ args, code: result.code, lines: result.stderrLines.length }).toEqual({
        args,
        code: 2,
        lines: 1,
      });
      if (typeof line === 'string') expect(result.stderrLines[0]).toBe(line);
      else expect(result.stderrLines[0]).toMatch(line);
    }
    expect(existsSync(dbDir)).toBe(false);
  });
});

describe('mast db upgrade', () => {
  test('migrates every service that owns a schema, on a fresh PostgreSQL database', async () => {
    const database = await createPostgresDatabase();
    try {
      const owners = SERVICES.flatMap((service) =>
        service.migrations === undefined ? [] : [{ name: service.name, schema: service.migrations.schema }],
      );
      expect(owners.length).toBeGreaterThan(0);
      const first = await run(MAST, ['db', 'upgrade', database.url]);
      expect(first.code).toBe(0);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        for (const owner of owners) {
          expect(first.stdout).toContain(`${owner.name} (schema ${owner.schema}): applied`);
          const { rows } = await client.query(`select name from ${owner.schema}.mast_migrations`);
          expect(rows.length).toBeGreaterThan(0);
        }
      } finally {
        await client.end();
      }
      const again = await run(MAST, ['db', 'upgrade'], { MAST_BACKEND_STORE_URI: database.url });
      expect(again.code).toBe(0);
      for (const owner of owners)
        expect(again.stdout).toContain(`${owner.name} (schema ${owner.schema}): up to date`);
    } finally {
      await database.drop();
    }
  });
});

describe('runProcess', () => {
  test('SIGTERM closes what was registered, last first, and exits 0', async () => {
    const child = start(FIXTURE, []);
    await waitFor(() => child.stdout().includes('ready'), 'the fixture to start');
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(
      child
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('closed')),
    ).toEqual(['closed third', 'closed second', 'closed first']);
  });

  test('a closer that hangs past the shutdown timeout: exit 1', async () => {
    const child = start(FIXTURE, ['hang']);
    await waitFor(() => child.stdout().includes('ready'), 'the fixture to start');
    child.kill('SIGINT');
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toMatch(/shutdown did not finish within 1000 ms/);
  });

  test('a start-up failure closes what was opened, prints one line and exits 1', async () => {
    const result = await run(FIXTURE, ['fail']);
    expect(result.code).toBe(1);
    expect(result.stderrLines).toEqual(['closers: the second resource could not open']);
    expect(result.stdout).toBe('closed first\n');
  });

  test('mast server stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const artifacts = mkdtempSync(join(tmpdir(), 'mast-cli-artifacts-'));
    const child = start(MAST, ['server', '--port', String(port), '--backend-store-uri', 'memory://'], {
      MAST_LOG_LEVEL: 'info',
      MAST_ARTIFACTS_DESTINATION: artifacts,
    });
    await waitFor(() => child.stdout().includes('Mast listening'), 'mast server to listen', 60_000);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stdout()).toMatch(/shutting down \(SIGTERM\)/);
    rmSync(artifacts, { recursive: true, force: true });
  });
});
