/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a free loopback
 * port with filesystem storage in a temporary directory, optionally behind htpasswd Basic auth. Plus
 * synthetic base images pushed without Docker, and `skopeo` to check results independently.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { freePort } from '@mast/common';
import { waitFor } from '@mast/test-support';
import tar from 'tar-stream';
import type { RegistryClient } from '../../src/oci/client.js';
import { MEDIA_TYPES, type MediaTypeFamily } from '../../src/oci/media-types.js';

const run = promisify(execFile);

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

/** A bcrypt htpasswd line (distribution accepts bcrypt only), made by Debian's Python `crypt`. */
async function htpasswdLine(username: string, password: string): Promise<string> {
  const script =
    'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))';
  const { stdout } = await run('/usr/bin/python3', ['-W', 'ignore', '-c', script, password]);
  return `${username}:${stdout.trim()}\n`;
}

/**
 * Starts `docker-registry serve` and waits until `/v2/` answers (200, or 401 with auth). `readOnly`
 * puts the storage in maintenance read-only mode: every push is refused.
 */
export async function startRegistry(
  options: { htpasswd?: { username: string; password: string }; readOnly?: boolean } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'mast-registry-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    ...(options.readOnly ? ['  maintenance:', '    readonly:', '      enabled: true'] : []),
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (options.htpasswd) {
    await writeFile(
      join(dir, 'htpasswd'),
      await htpasswdLine(options.htpasswd.username, options.htpasswd.password),
    );
    lines.push('auth:', '  htpasswd:', '    realm: mast-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  await writeFile(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const host = `127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
      const response = await fetch(`http://${host}/v2/`).catch(() => undefined);
      return response !== undefined && (response.status === 200 || response.status === 401);
    }, 'docker-registry to answer /v2/');
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    host,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface SyntheticImage {
  digest: string;
  mediaType: string;
  layerDigest: string;
  configDigest: string;
}

/**
 * Pushes a tiny single-platform base image: one layer holding `etc/base-release`, a config with Env,
 * Cmd and a label, as a Docker v2 schema 2 or an OCI manifest, under `reference` (tag or digest).
 */
export async function pushSyntheticImage(
  client: RegistryClient,
  repository: string,
  reference: string | undefined,
  family: MediaTypeFamily,
  architecture = 'amd64',
): Promise<SyntheticImage> {
  const types = MEDIA_TYPES[family];
  const layerTar = await tarOf({ 'etc/base-release': `synthetic base ${family} ${architecture}\n` });
  const layer = gzipSync(layerTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      os: 'linux',
      created: '2020-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8'],
        Cmd: ['sh'],
        Labels: { base: 'yes' },
      },
      rootfs: { type: 'layers', diff_ids: [sha256(layerTar)] },
      history: [{ created: '2020-01-01T00:00:00Z', created_by: 'synthetic base layer' }],
    }),
  );
  await client.pushBlob(repository, { digest: sha256(layer), size: layer.length, data: layer });
  await client.pushBlob(repository, { digest: sha256(config), size: config.length, data: config });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: sha256(config), size: config.length },
      layers: [{ mediaType: types.layerGzip, digest: sha256(layer), size: layer.length }],
    }),
  );
  const digest = await client.putManifest(
    repository,
    reference ?? sha256(manifest),
    types.manifest,
    manifest,
  );
  return { digest, mediaType: types.manifest, layerDigest: sha256(layer), configDigest: sha256(config) };
}

/** Pushes an OCI index with linux/amd64 and linux/arm64 children (and an attestation entry) under `tag`. */
export async function pushSyntheticIndex(
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<{ digest: string; amd64: SyntheticImage; arm64: SyntheticImage }> {
  const amd64 = await pushSyntheticImage(client, repository, undefined, 'oci', 'amd64');
  const arm64 = await pushSyntheticImage(client, repository, undefined, 'oci', 'arm64');
  const size = async (digest: string) => (await client.getManifest(repository, digest)).bytes.length;
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.oci.index,
      manifests: [
        {
          mediaType: MEDIA_TYPES.oci.manifest,
          digest: amd64.digest,
          size: await size(amd64.digest),
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MEDIA_TYPES.oci.manifest,
          digest: arm64.digest,
          size: await size(arm64.digest),
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
        {
          mediaType: MEDIA_TYPES.oci.manifest,
          digest: amd64.digest,
          size: await size(amd64.digest),
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
        },
      ],
    }),
  );
  const digest = await client.putManifest(repository, tag, MEDIA_TYPES.oci.index, index);
  return { digest, amd64, arm64 };
}

/**
 * `skopeo inspect --tls-verify=false [--raw | --config] docker://<reference>` parsed as JSON;
 * `creds` is `user:password` for a registry with auth.
 */
export async function skopeoInspect(
  reference: string,
  mode: 'plain' | 'raw' | 'config' = 'plain',
  creds?: string,
): Promise<any> {
  const args = ['inspect', '--tls-verify=false'];
  if (mode !== 'plain') args.push(`--${mode}`);
  if (creds) args.push('--creds', creds);
  args.push(`docker://${reference}`);
  const { stdout } = await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout);
}

/**
 * `skopeo copy docker://<reference> dir:<directory>`: skopeo downloads every blob and checks it
 * against the manifest's digests; the layers land in `<directory>/<hex digest>`.
 */
export async function skopeoCopyToDir(reference: string, directory: string): Promise<void> {
  await run('skopeo', [
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    `docker://${reference}`,
    `dir:${directory}`,
  ]);
}

/**
 * A Bearer-token front for a real registry (what `docker-registry` cannot do without a signing setup):
 * answers 401 with `WWW-Authenticate: Bearer realm=…/token,service=…,scope=…`, serves `/token` to
 * Basic-authenticated users with the intersection of asked and allowed actions (distribution
 * `token.md`: never an error for missing rights), answers 403 DENIED when a token lacks the action,
 * and forwards everything else to the registry (Location headers rewritten to the front).
 * `users` maps a user name to its password and the actions it may take (`pull` or `pull,push`).
 */
export async function startTokenFront(
  upstream: string,
  users: Record<string, { password: string; actions: string[] }>,
): Promise<TestRegistry & { tokenRequests: string[][] }> {
  const tokens = new Map<string, Set<string>>();
  const tokenRequests: string[][] = [];
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const http = await import('node:http');
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    if (url.pathname === '/token') {
      const scopes = url.searchParams.getAll('scope');
      tokenRequests.push(scopes);
      const [user, password] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      const account = users[user ?? ''];
      if (!account || account.password !== password) return json(res, 401, { details: 'bad credentials' });
      const granted = new Set<string>();
      for (const scope of scopes) {
        const [, name, actions] = scope.split(':');
        for (const action of actions!.split(','))
          if (account.actions.includes(action)) granted.add(`${name}:${action}`);
      }
      const token = createHash('sha256').update(`${Math.random()}`).digest('hex');
      tokens.set(token, granted);
      return json(res, 200, { token, expires_in: 300 });
    }
    const name = /^\/v2\/(.+?)\/(blobs|manifests|tags)\//.exec(url.pathname)?.[1];
    const needed: string[] = [];
    if (name) {
      needed.push(`${name}:${req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push'}`);
      const from = url.searchParams.get('from');
      if (from) needed.push(`${from}:pull`);
    }
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const granted = tokens.get(bearer);
    if (!granted) {
      const scope = name ? `,scope="repository:${name}:${needed[0]!.split(':')[1]}"` : '';
      return json(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="mast-test"${scope}` },
      );
    }
    if (!needed.every((action) => granted.has(action))) {
      return json(res, 403, {
        errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
      });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (key !== 'authorization' && key !== 'host' && typeof value === 'string') headers[key] = value;
    }
    const answer = await fetch(`http://${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      redirect: 'manual',
    });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, key) => {
      if (key !== 'content-encoding' && key !== 'transfer-encoding' && key !== 'connection') {
        out[key] =
          key === 'location' ? value.replace(`http://${upstream}`, `http://${req.headers.host}`) : value;
      }
    });
    res.writeHead(answer.status, out);
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    tokenRequests,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
