import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { createHttpApp, registerSubgraphEndpoint } from '@mast/common';
import { fakeRegistrySubgraph } from './fake-registry.js';
import { freePort } from './processes.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Gateway {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** The gateway process (its compiled main.js) with only these Mast settings. */
async function startGateway(env: Record<string, string>): Promise<Gateway & { port: number }> {
  const port = await freePort();
  const settings = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('MAST_')),
  );
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...settings, MAST_HOST: '127.0.0.1', MAST_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, port, output: () => output, exited };
}

/** Runs the gateway until it exits: its code and its output's lines. */
async function runGateway(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const gateway = await startGateway(env);
  const code = await gateway.exited;
  return { code, lines: gateway.output().split('\n').filter(Boolean) };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: () => string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The `msg` of each pino line, and plain lines as they are. */
function messages(output: string): string[] {
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        return (JSON.parse(line) as { msg: string }).msg;
      } catch {
        return line;
      }
    });
}

describe('the gateway process refuses what it cannot serve, in one line', () => {
  test('a MAST_SUPERGRAPH file that does not exist, is a directory, or is not a supergraph', async () => {
    const services = 'tracking=http://127.0.0.1:1';
    expect(await runGateway({ MAST_SERVICE_URLS: services, MAST_SUPERGRAPH: '/nonexistent' })).toEqual({
      code: 1,
      lines: ['gateway: MAST_SUPERGRAPH: cannot read /nonexistent: no such file'],
    });
    expect(await runGateway({ MAST_SERVICE_URLS: services, MAST_SUPERGRAPH: ROOT })).toEqual({
      code: 1,
      lines: [`gateway: MAST_SUPERGRAPH: cannot read ${ROOT}: it is a directory`],
    });
    // The API schema beside the supergraph: an easy file to pick by mistake.
    const schema = `${ROOT}services/gateway/schema.graphql`;
    expect(await runGateway({ MAST_SERVICE_URLS: services, MAST_SUPERGRAPH: schema })).toEqual({
      code: 1,
      lines: [
        `gateway: MAST_SUPERGRAPH: ${schema} is not a valid supergraph (Invalid supergraph: must be a core schema)`,
      ],
    });
  });

  test('no MAST_SERVICE_URLS: nothing to route to', async () => {
    expect(await runGateway({})).toEqual({
      code: 1,
      lines: [
        'gateway: MAST_SERVICE_URLS is not set: the gateway needs the URLs of the services it routes to, ' +
          'as name=url pairs (tracking=http://tracking:5000,artifact=http://artifact:5000,...)',
      ],
    });
    expect(await runGateway({ MAST_SUPERGRAPH: 'introspect' })).toEqual({
      code: 1,
      lines: [
        'gateway: MAST_SUPERGRAPH=introspect needs subgraphs to compose: set MAST_SERVICE_URLS ' +
          '(name=url pairs of tracking, artifact, registry, deploy) or MAST_SUBGRAPH_URLS',
      ],
    });
  });

  test('introspecting a URL that is not a subgraph: one line naming it, password masked', async () => {
    const notSubgraph = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 }).app;
    const url = await notSubgraph.listen({ host: '127.0.0.1', port: 0 });
    try {
      const authority = url.replace('http://', 'http://ops:gwSECRET@');
      const result = await runGateway({
        MAST_SUPERGRAPH: 'introspect',
        MAST_SERVICE_URLS: `tracking=${authority}`,
      });
      expect(result).toEqual({
        code: 1,
        lines: [
          `gateway: subgraph tracking at ${url.replace('http://', 'http://ops:***@')}/graphql answered HTTP 404: ` +
            'not a subgraph endpoint (check MAST_SERVICE_URLS and MAST_SUBGRAPH_URLS)',
        ],
      });
    } finally {
      await notSubgraph.close();
    }
  });
});

describe('introspection waits for a subgraph that is down', () => {
  test('one line per attempt, the password masked, then it serves once the subgraph is up', async () => {
    const subgraphPort = await freePort();
    const subgraphUrl = `http://ops:gwSECRET@127.0.0.1:${subgraphPort}/graphql`;
    const gateway = await startGateway({
      MAST_SUPERGRAPH: 'introspect',
      MAST_SUBGRAPH_URLS: `registry=${subgraphUrl}`,
    });
    const subgraph = createHttpApp({ logLevel: 'silent', bodyLimit: 1024 * 1024 }).app;
    const authorizations: Array<string | undefined> = [];
    try {
      const retries = () => messages(gateway.output()).filter((line) => line.includes('retrying'));
      await waitFor(
        () => retries().length >= 2,
        () => `two retry lines in:\n${gateway.output()}`,
      );
      const masked = `subgraph registry at http://ops:***@127.0.0.1:${subgraphPort}/graphql is unreachable (ECONNREFUSED)`;
      expect(retries().slice(0, 2)).toEqual([
        `${masked}; retrying in 1 s (attempt 1)`,
        `${masked}; retrying in 2 s (attempt 2)`,
      ]);
      expect(gateway.child.exitCode).toBeNull();

      subgraph.addHook('onRequest', async (request) => {
        authorizations.push(request.headers.authorization);
      });
      registerSubgraphEndpoint(
        subgraph,
        fakeRegistrySubgraph([{ name: 'fraud', version: 1, runId: 'r' }]).schema,
      );
      await subgraph.listen({ host: '127.0.0.1', port: subgraphPort });
      const base = `http://127.0.0.1:${gateway.port}`;
      await waitFor(
        async () => (await fetch(`${base}/health`).catch(() => undefined))?.status === 200,
        () => `the gateway listening:\n${gateway.output()}`,
      );
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ modelVersions { name version } }' }),
      });
      expect(await response.json()).toEqual({ data: { modelVersions: [{ name: 'fraud', version: 1 }] } });
      // The URL's credentials reach the subgraph as Basic auth, at introspection as on queries.
      expect(new Set(authorizations)).toEqual(
        new Set([`Basic ${Buffer.from('ops:gwSECRET').toString('base64')}`]),
      );
      expect(gateway.output()).not.toContain('gwSECRET');
      expect(gateway.output()).not.toMatch(/\n\s+at /);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await subgraph.close();
    }
  });
});
