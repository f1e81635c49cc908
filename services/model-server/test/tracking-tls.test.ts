/**
 * MLflow's TLS settings for the tracking server (`MLFLOW_TRACKING_INSECURE_TLS`,
 * `MLFLOW_TRACKING_SERVER_CERT_PATH`, `MLFLOW_TRACKING_CLIENT_CERT_PATH`) over real HTTPS: a throwaway
 * CA made with openssl signs a server certificate (127.0.0.1 and localhost) and a client certificate
 * (a second one signs a client certificate the servers refuse);
 * an HTTPS tracking server lists a run's model (the linear test model) and redirects each download
 * (`/get-artifact`) to a second HTTPS host, as presigned storage URLs do. `fetchModel` is checked
 * directly, and `mast models serve` as a user runs it (the compiled CLI; `npm run build` first).
 */
import { execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ConfigError, freePort, loadConfig } from '@mast/common';
import { fetchModel } from '../src/model-uri/index.js';
import type { TrackingCredentials } from '../src/model-uri/tracking-server.js';
import { modelServeConfig } from '../src/serve.js';
import { filesUnder } from './serve-support.js';
import { generateTestModels } from './support/models.js';

/** Each CLI test starts the CLI; on a busy 2-core machine one start can take 15 s. */
const CHILD_TEST_TIMEOUT_MS = 180_000;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAST = join(ROOT, 'services/client/bin/mast.js');
const RUN_ID = 'a1b2c3d4';
const MODEL_URI = `runs:/${RUN_ID}/model`;
const LIST_WHAT = `list the artifacts of run '${RUN_ID}' under 'model'`;

const run = promisify(execFile);

/** The throwaway CA, the server's certificate and key, and the client's PEM (certificate + key). */
interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  client: string;
  clientCertOnly: string;
  clientKeyOnly: string;
  /** Another CA's certificate (`other-ca.pem`), and a client PEM (certificate + key) it signed. */
  otherCa: string;
  otherClient: string;
}

/** Runs `openssl` with `args` (one string, split at spaces) in `dir`. */
function openssl(dir: string, args: string): Promise<unknown> {
  return run('openssl', args.split(' '), { cwd: dir });
}

/** A CA certificate and key (`<name>.pem`, `<name>.key`) in `dir`. */
function makeCa(dir: string, name: string): Promise<unknown> {
  return openssl(
    dir,
    `req -x509 -newkey rsa:2048 -nodes -keyout ${name}.key -out ${name}.pem -days 1 -subj /CN=${name} -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign`,
  );
}

async function makePki(dir: string): Promise<Pki> {
  await makeCa(dir, 'ca');
  await makeCa(dir, 'other-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const signed = [
    ['server', 'ca'],
    ['client', 'ca'],
    ['other-client', 'other-ca'],
  ];
  for (const [who, ca] of signed) {
    await openssl(
      dir,
      `req -newkey rsa:2048 -nodes -keyout ${who}.key -out ${who}.csr -subj /CN=mast-test-${who}`,
    );
    await openssl(
      dir,
      `x509 -req -in ${who}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -out ${who}.pem -days 1 -extfile ${who === 'server' ? 'server' : 'client'}.ext`,
    );
  }
  // requests' `cert` as one path: the certificate and its private key in one PEM file.
  const at = (name: string) => join(dir, name);
  for (const who of ['client', 'other-client']) {
    writeFileSync(
      at(`${who}-bundle.pem`),
      Buffer.concat([readFileSync(at(`${who}.pem`)), readFileSync(at(`${who}.key`))]),
    );
  }
  return {
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    client: at('client-bundle.pem'),
    clientCertOnly: at('client.pem'),
    clientKeyOnly: at('client.key'),
    otherCa: at('other-ca.pem'),
    otherClient: at('other-client-bundle.pem'),
  };
}

/**
 * A fresh directory under `dir` holding `files` (name -> a file to copy, or text), `links`
 * (name -> the file it links to) and the subdirectories `dirs`.
 */
function makeDir(
  dir: string,
  name: string,
  entries: { files?: Record<string, string>; links?: Record<string, string>; dirs?: string[] },
): string {
  const path = join(dir, name);
  mkdirSync(path);
  for (const [file, source] of Object.entries(entries.files ?? {})) {
    if (source.startsWith('/')) copyFileSync(source, join(path, file));
    else writeFileSync(join(path, file), source);
  }
  for (const [link, target] of Object.entries(entries.links ?? {})) symlinkSync(target, join(path, link));
  for (const sub of entries.dirs ?? []) mkdirSync(join(path, sub));
  return path;
}

/** What the two HTTPS servers were asked: host (`tracking`/`storage`), path, and the client certificate's CN. */
interface Seen {
  server: 'tracking' | 'storage';
  path: string;
  clientCn?: string;
}

interface TrackingServers {
  /** The tracking server (`https://127.0.0.1:…`). */
  url: string;
  seen: Seen[];
  /** TCP connections the tracking server accepted. */
  connections(): number;
  close(): Promise<void>;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

/**
 * An HTTPS tracking server holding run RUN_ID's `model` directory (`modelDir`): MLflow's
 * `artifacts/list`, and `/get-artifact` redirecting to a storage host (`https://localhost:…`) that
 * serves the file. Both use `tls` (a server certificate, maybe a required client certificate).
 */
async function startServers(modelDir: string, tls: ServerOptions): Promise<TrackingServers> {
  const seen: Seen[] = [];
  const note = (server: Seen['server'], request: IncomingMessage) => {
    const peer = (request.socket as TLSSocket).getPeerCertificate();
    seen.push({ server, path: request.url ?? '', clientCn: peer?.subject?.CN?.toString() });
  };
  const storage = createServer(tls, (request, response) => {
    note('storage', request);
    const path = decodeURIComponent(
      new URL(request.url ?? '', 'https://x').pathname.replace(/^\/bucket\//, ''),
    );
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(join(modelDir, path)).pipe(response);
  });
  const storagePort = await listen(storage, '127.0.0.1');
  const tracking = createServer(tls, (request, response) => {
    note('tracking', request);
    const url = new URL(request.url ?? '', 'https://x');
    const path = url.searchParams.get('path') ?? '';
    const inModel = path.replace(/^model\/?/, '');
    if (url.pathname === '/api/2.0/mlflow/artifacts/list' && url.searchParams.get('run_id') === RUN_ID) {
      const files = readdirSync(join(modelDir, inModel)).map((name) => {
        const stat = statSync(join(modelDir, inModel, name));
        return { path: `${path}/${name}`, is_dir: stat.isDirectory(), file_size: stat.size };
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ root_uri: `s3://bucket/${RUN_ID}/artifacts`, files }));
      return;
    }
    if (url.pathname === '/get-artifact' && url.searchParams.get('run_id') === RUN_ID) {
      // Another host name and port, as a presigned URL's.
      response.writeHead(302, {
        location: `https://localhost:${storagePort}/bucket/${encodeURIComponent(inModel)}?X-Amz-Signature=0123`,
      });
      response.end();
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error_code": "ENDPOINT_NOT_FOUND", "message": "No such route"}');
  });
  let connections = 0;
  tracking.on('connection', () => connections++);
  const port = await listen(tracking, '127.0.0.1');
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: async () => {
      await close(tracking);
      await close(storage);
    },
  };
}

interface Child {
  code: Promise<number | null>;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

/** `mast models serve ARGS` with only the given variables besides basics (no MAST_*, no jest's). */
function mast(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [MAST, 'models', 'serve', ...args], {
    cwd: ROOT,
    env: { HOME: process.env.HOME ?? '/tmp', PATH: '/usr/bin:/bin', MAST_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return {
    code: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
  };
}

/** The lines a CLI run that ends by itself wrote to stderr, with its exit code. */
async function mastFails(env: Record<string, string>) {
  const child = mast(['-m', MODEL_URI, '-p', String(await freePort())], env);
  const code = await child.code;
  return {
    code,
    lines: child
      .stderr()
      .split('\n')
      .filter((line) => line !== ''),
  };
}

describe("MLflow's TLS settings for the tracking server", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-tracking-tls-'));
  const downloadRoot = mkdtempSync(join(tmpdir(), 'mast-tracking-tls-downloads-'));
  let pki: Pki;
  let modelDir: string;
  /** Servers that want no client certificate. */
  let open: TrackingServers;
  /** Servers that refuse a connection without a client certificate the CA signed. */
  let mutual: TrackingServers;

  const fetchWith = (server: TrackingServers, credentials: TrackingCredentials) =>
    fetchModel(MODEL_URI, { trackingUri: server.url, credentials, downloadRoot });

  /** Fetches the model with `credentials`, checks every file arrived, and removes the copy. */
  async function expectFetched(server: TrackingServers, credentials: TrackingCredentials): Promise<void> {
    server.seen.length = 0;
    const fetched = await fetchWith(server, credentials);
    try {
      expect(filesUnder(fetched.dir)).toEqual(filesUnder(modelDir));
      for (const file of filesUnder(modelDir)) {
        expect(readFileSync(join(fetched.dir, file))).toEqual(readFileSync(join(modelDir, file)));
      }
    } finally {
      await fetched.remove();
    }
    // Every file was downloaded from the storage host the tracking server redirected to.
    expect(server.seen.filter((seen) => seen.server === 'storage')).toHaveLength(filesUnder(modelDir).length);
  }

  beforeAll(async () => {
    await run('openssl', ['version']).catch((error: Error) => {
      throw new Error(`these tests need openssl on PATH to make certificates: ${error.message}`);
    });
    pki = await makePki(dir);
    modelDir = (await generateTestModels()).linear;
    const serverTls = { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) };
    open = await startServers(modelDir, serverTls);
    mutual = await startServers(modelDir, {
      ...serverTls,
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    });
  }, CHILD_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await open?.close();
    await mutual?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(downloadRoot, { recursive: true, force: true });
  });

  test('without a setting, a certificate of an unknown CA is refused in one line naming the cause, not asked again', async () => {
    open.seen.length = 0;
    const before = open.connections();
    await expect(fetchWith(open, {})).rejects.toThrow(
      `Cannot ${LIST_WHAT}: the TLS certificate of ${open.url} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true not to verify it.`,
    );
    // One connection (no retry), and no request reached the server.
    expect(open.connections() - before).toBe(1);
    expect(open.seen).toEqual([]);
    expect(readdirSync(downloadRoot)).toEqual([]);
  });

  test('MLFLOW_TRACKING_INSECURE_TLS: the certificate is not verified, on redirected downloads too', async () => {
    await expectFetched(open, { ignoreTlsVerification: true });
  });

  test('MLFLOW_TRACKING_SERVER_CERT_PATH: the CA bundle verifies both hosts', async () => {
    await expectFetched(open, { serverCertPath: pki.ca });
    // The bundle replaces the system's CAs (requests' `verify=<path>`): another CA's bundle fails.
    await expect(fetchWith(open, { serverCertPath: pki.otherCa })).rejects.toThrow(
      /the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE:/,
    );
  });

  test("MLFLOW_TRACKING_SERVER_CERT_PATH as a directory (requests' capath): every regular file holding a PEM certificate, under any name", async () => {
    const hash = String((await run('openssl', ['x509', '-hash', '-noout', '-in', pki.ca])).stdout).trim();
    const rehashed = makeDir(dir, 'ca-rehashed', {
      files: { README: 'CA certificates, as c_rehash links them\n', 'client.key': pki.clientKeyOnly },
      // c_rehash's name for the CA: a link to its file.
      links: { [`${hash}.0`]: pki.ca, 'dangling.0': join(dir, 'missing.pem') },
      dirs: ['nested'],
    });
    // A FIFO is no regular file: reading it would wait for a writer for ever.
    await run('mkfifo', [join(rehashed, 'fifo.pem')]);
    await expectFetched(open, { serverCertPath: rehashed });
    // Files dropped in by name, several CAs.
    await expectFetched(open, {
      serverCertPath: makeDir(dir, 'ca-named', { files: { 'other.crt': pki.otherCa, 'mast.pem': pki.ca } }),
    });
    // The directory replaces the system's CAs too.
    const otherOnly = makeDir(dir, 'ca-other', { files: { 'other.pem': pki.otherCa } });
    await expect(fetchWith(open, { serverCertPath: otherOnly })).rejects.toThrow(
      `Cannot ${LIST_WHAT}: the TLS certificate of ${open.url} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE:`,
    );
    // Without a certificate in it, one line naming the directory (a subdirectory's are not read).
    const nested = makeDir(dir, 'ca-nested', { dirs: ['certs'] });
    copyFileSync(pki.ca, join(nested, 'certs', 'ca.pem'));
    for (const empty of [
      makeDir(dir, 'ca-empty', {}),
      makeDir(dir, 'ca-none', { files: { 'key.pem': pki.clientKeyOnly, 'notes.txt': 'no CA here\n' } }),
      nested,
    ]) {
      const message = await fetchWith(open, { serverCertPath: empty }).catch((error: Error) => error.message);
      expect(message).toBe(
        `MLFLOW_TRACKING_SERVER_CERT_PATH ${empty} is a directory without a file holding a PEM certificate (-----BEGIN CERTIFICATE-----).`,
      );
    }
    expect(readdirSync(downloadRoot)).toEqual([]);
  });

  test('MLFLOW_TRACKING_CLIENT_CERT_PATH: a server that wants a client certificate gets it on every call and download', async () => {
    await expectFetched(mutual, { serverCertPath: pki.ca, clientCertPath: pki.client });
    expect(mutual.seen.length).toBeGreaterThan(filesUnder(modelDir).length);
    expect(mutual.seen.every((seen) => seen.clientCn === 'mast-test-client')).toBe(true);
  });

  test('a TLS 1.3 server that closes the connection after the handshake, refusing the client certificate or wanting one, is said so in one line naming MLFLOW_TRACKING_CLIENT_CERT_PATH', async () => {
    const closed = `Cannot ${LIST_WHAT}: the tracking server at ${mutual.url} closed the TLS connection right after the handshake, without answering: it probably refuses the client certificate or requires one; set MLFLOW_TRACKING_CLIENT_CERT_PATH to a PEM file holding a certificate it trusts and its private key.`;
    mutual.seen.length = 0;
    // No client certificate; then one of a CA the server does not trust.
    await expect(fetchWith(mutual, { serverCertPath: pki.ca })).rejects.toThrow(closed);
    await expect(
      fetchWith(mutual, { serverCertPath: pki.ca, clientCertPath: pki.otherClient }),
    ).rejects.toThrow(closed);
    expect(mutual.seen).toEqual([]);
    expect(readdirSync(downloadRoot)).toEqual([]);

    // Not every closed connection: one that closes after part of an answer (bytes were read on it)…
    const partial = createServer(
      { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
      (request) => request.socket.end('HTTP/1.1 200 OK\r\n'),
    );
    // …and a plain HTTP server that closes without answering.
    const plain = createTcpServer((socket) => socket.once('data', () => socket.end()));
    try {
      const partialUrl = `https://127.0.0.1:${await listen(partial, '127.0.0.1')}`;
      await expect(
        fetchModel(MODEL_URI, {
          trackingUri: partialUrl,
          credentials: { serverCertPath: pki.ca },
          downloadRoot,
        }),
      ).rejects.toThrow(
        `Cannot ${LIST_WHAT}: the tracking server at ${partialUrl} is unreachable (other side closed).`,
      );
      const plainPort = await new Promise<number>((resolve) =>
        plain.listen(0, '127.0.0.1', () => resolve((plain.address() as AddressInfo).port)),
      );
      const plainUrl = `http://127.0.0.1:${plainPort}`;
      await expect(fetchModel(MODEL_URI, { trackingUri: plainUrl, downloadRoot })).rejects.toThrow(
        `Cannot ${LIST_WHAT}: the tracking server at ${plainUrl} is unreachable (other side closed).`,
      );
    } finally {
      partial.close();
      plain.close();
    }
  }, 60_000);

  test("bad settings are one line naming the variable, never a file's contents; a local model reads none", async () => {
    const missing = join(dir, 'missing.pem');
    const cases: Array<[TrackingCredentials, string]> = [
      // MLflow's own refusal (MlflowHostCreds), word for word.
      [
        { ignoreTlsVerification: true, serverCertPath: pki.ca },
        "When 'ignore_tls_verification' is true then 'server_cert_path' must not be set! This error may have occurred because the 'MLFLOW_TRACKING_INSECURE_TLS' and 'MLFLOW_TRACKING_SERVER_CERT_PATH' environment variables are both set - only one of these environment variables may be set.",
      ],
      [
        { serverCertPath: missing },
        `Cannot read MLFLOW_TRACKING_SERVER_CERT_PATH ${missing}: no such file or directory.`,
      ],
      [
        { clientCertPath: dir },
        `Cannot read MLFLOW_TRACKING_CLIENT_CERT_PATH ${dir}: illegal operation on a directory.`,
      ],
      [
        { serverCertPath: pki.clientKeyOnly },
        `MLFLOW_TRACKING_SERVER_CERT_PATH ${pki.clientKeyOnly} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`,
      ],
      [
        // A directory of private keys: its contents are not printed either.
        { serverCertPath: makeDir(dir, 'keys', { files: { 'a.pem': pki.clientKeyOnly } }) },
        `MLFLOW_TRACKING_SERVER_CERT_PATH ${join(dir, 'keys')} is a directory without a file holding a PEM certificate (-----BEGIN CERTIFICATE-----).`,
      ],
      [
        { clientCertPath: pki.clientCertOnly },
        `MLFLOW_TRACKING_CLIENT_CERT_PATH ${pki.clientCertOnly} is not one PEM file holding a certificate and its private key (`,
      ],
      [
        { clientCertPath: pki.clientKeyOnly },
        `MLFLOW_TRACKING_CLIENT_CERT_PATH ${pki.clientKeyOnly} is not one PEM file holding a certificate and its private key (`,
      ],
    ];
    for (const [credentials, message] of cases) {
      const error = await fetchWith(open, credentials).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message.startsWith(message)).toBe(true);
      // Neither a line break nor PEM contents (base64 DER starts `MII`).
      expect((error as Error).message).not.toMatch(/\n|PRIVATE KEY|MII/);
    }
    expect(readdirSync(downloadRoot)).toEqual([]);
    // A model on this machine reaches no tracking server: its TLS files are not read (as MLflow's).
    const local = await fetchModel(modelDir, { credentials: { serverCertPath: missing } });
    expect(local.dir).toBe(modelDir);
  });

  test("MLFLOW_TRACKING_INSECURE_TLS is read as MLflow reads booleans: true/false/1/0 in any case, else MLflow's message", () => {
    const insecure = (value: string) =>
      loadConfig({ MLFLOW_TRACKING_INSECURE_TLS: value }, [modelServeConfig]).modelServe.credentials
        .ignoreTlsVerification;
    expect(['true', 'TRUE', 'True', '1', 'false', 'FALSE', '0', ''].map(insecure)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    for (const value of ['yes', 'no', 'on', ' true', '2', 'maybe']) {
      let error: unknown;
      try {
        insecure(value);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `MLFLOW_TRACKING_INSECURE_TLS: value must be one of ['true', 'false', '1', '0'] (case-insensitive), but got ${value}`,
      );
    }
    const config = loadConfig(
      {
        MLFLOW_TRACKING_SERVER_CERT_PATH: '/etc/ca.pem',
        MLFLOW_TRACKING_CLIENT_CERT_PATH: '/etc/client.pem',
      },
      [modelServeConfig],
    );
    expect(config.modelServe.credentials).toEqual({
      ignoreTlsVerification: false,
      serverCertPath: '/etc/ca.pem',
      clientCertPath: '/etc/client.pem',
    });
  });

  test(
    'mast models serve: refusals are one line and exit 1; with the CA bundle and client certificate the model is served',
    async () => {
      const base = { MLFLOW_TRACKING_URI: mutual.url, TMPDIR: downloadRoot };
      const expectations: Array<[Record<string, string>, string]> = [
        [
          { MLFLOW_TRACKING_INSECURE_TLS: 'maybe' },
          "mast models serve: MLFLOW_TRACKING_INSECURE_TLS: value must be one of ['true', 'false', '1', '0'] (case-insensitive), but got maybe",
        ],
        [
          { MLFLOW_TRACKING_CLIENT_CERT_PATH: join(dir, 'nope.pem') },
          `mast models serve: Cannot read MLFLOW_TRACKING_CLIENT_CERT_PATH ${join(dir, 'nope.pem')}: no such file or directory.`,
        ],
        [
          { MLFLOW_TRACKING_SERVER_CERT_PATH: makeDir(dir, 'cli-empty', {}) },
          `mast models serve: MLFLOW_TRACKING_SERVER_CERT_PATH ${join(dir, 'cli-empty')} is a directory without a file holding a PEM certificate (-----BEGIN CERTIFICATE-----).`,
        ],
        [
          { MLFLOW_TRACKING_SERVER_CERT_PATH: pki.ca },
          `mast models serve: Cannot ${LIST_WHAT}: the tracking server at ${mutual.url} closed the TLS connection right after the handshake, without answering: it probably refuses the client certificate or requires one; set MLFLOW_TRACKING_CLIENT_CERT_PATH to a PEM file holding a certificate it trusts and its private key.`,
        ],
        [
          {},
          // This server sends its CA along (it verifies clients with it): OpenSSL names the cause so.
          `mast models serve: Cannot ${LIST_WHAT}: the TLS certificate of ${mutual.url} is not trusted (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain); set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true not to verify it.`,
        ],
      ];
      for (const [env, line] of expectations) {
        expect(await mastFails({ ...base, ...env })).toEqual({ code: 1, lines: [line] });
      }

      const port = await freePort();
      const child = mast(['-m', MODEL_URI, '-p', String(port)], {
        ...base,
        MLFLOW_TRACKING_SERVER_CERT_PATH: pki.ca,
        MLFLOW_TRACKING_CLIENT_CERT_PATH: pki.client,
      });
      try {
        const deadline = Date.now() + 90_000;
        let status = 0;
        while (status !== 200) {
          if (Date.now() > deadline) throw new Error(`not serving in time: ${child.stderr()}`);
          status = await fetch(`http://127.0.0.1:${port}/ping`)
            .then((response) => response.status)
            .catch(() => 0);
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(
          mutual.seen.some((seen) => seen.server === 'storage' && seen.clientCn === 'mast-test-client'),
        ).toBe(true);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await child.code).toBe(0);
      expect(readdirSync(downloadRoot).filter((name) => name.startsWith('mast-model-'))).toEqual([]);
    },
    CHILD_TEST_TIMEOUT_MS,
  );
});
