/**
 * Registry authentication of the model-image builder: htpasswd Basic auth on a real `docker-registry`
 * with credentials from a dockerconfigjson document, and the Bearer token flow (a token front over the
 * real registry) including a push the token does not allow.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildModelImage } from '../src/oci/build.js';
import { RegistryClient } from '../src/oci/client.js';
import { OciError } from '../src/oci/errors.js';
import {
  pushSyntheticImage,
  skopeoInspect,
  startRegistry,
  startTokenFront,
  type TestRegistry,
} from './support/oci-registry.js';

const user = { username: 'deployer', password: 'not-a-real-secret' };
const dockerConfig = (host: string, username: string, password: string) =>
  JSON.stringify({
    auths: { [`http://${host}`]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } },
  });

let work: string;
let modelDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mast-oci-auth-'));
  modelDir = join(work, 'model');
  await mkdir(modelDir);
  await writeFile(join(modelDir, 'MLmodel'), 'flavors: {}\n');
  await writeFile(join(modelDir, 'model.bin'), Buffer.alloc(4096, 3));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('htpasswd Basic auth', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: user });
    const client = new RegistryClient({ registry: registry.host, insecure: true, credentials: user });
    await pushSyntheticImage(client, 'base/oci', '1.0', 'oci');
  });

  afterAll(async () => {
    await registry?.stop();
  });

  const build = (auth?: string) =>
    buildModelImage({
      base: `${registry.host}/base/oci:1.0`,
      target: `${registry.host}/models/secure:1`,
      modelDir,
      labels: { name: 'secure', version: '1' },
      auth,
      insecureRegistries: [registry.host],
    });

  it('builds with the credentials of a dockerconfigjson document; skopeo confirms with the same', async () => {
    const built = await build(dockerConfig(registry.host, user.username, user.password));
    const inspected = await skopeoInspect(
      `${registry.host}/models/secure:1`,
      'plain',
      `${user.username}:${user.password}`,
    );
    expect(inspected.Digest).toBe(built.digest);
    expect(built.reusedBlobs).toBe(1); // the base layer, mounted
  });

  it('fails UNAUTHORIZED without credentials or with a wrong password', async () => {
    const anonymous = build();
    await expect(anonymous).rejects.toBeInstanceOf(OciError);
    await expect(anonymous).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
      retryable: false,
      message: expect.stringContaining('failed: 401 UNAUTHORIZED: authentication required'),
    });
    await expect(build(dockerConfig(registry.host, user.username, 'wrong'))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});

describe('Bearer token flow', () => {
  let registry: TestRegistry;
  let front: Awaited<ReturnType<typeof startTokenFront>>;

  beforeAll(async () => {
    registry = await startRegistry();
    await pushSyntheticImage(
      new RegistryClient({ registry: registry.host, insecure: true }),
      'base/oci',
      '1.0',
      'oci',
    );
    front = await startTokenFront(registry.host, {
      writer: { password: 'w-pass', actions: ['pull', 'push'] },
      reader: { password: 'r-pass', actions: ['pull'] },
    });
  });

  afterAll(async () => {
    await front?.stop();
    await registry?.stop();
  });

  const build = (username: string, password: string, repository = 'models/tokened') =>
    buildModelImage({
      base: `${front.host}/base/oci:1.0`,
      target: `${front.host}/${repository}:1`,
      modelDir,
      labels: { name: 'tokened', version: '1' },
      auth: dockerConfig(front.host, username, password),
      insecureRegistries: [front.host],
    });

  it('fetches tokens for the scopes of each request, push scope first, mount source included', async () => {
    const built = await build('writer', 'w-pass');
    const inspected = await skopeoInspect(`${registry.host}/models/tokened@${built.digest}`, 'raw');
    expect(inspected.layers).toHaveLength(2);
    expect(front.tokenRequests).toContainEqual(['repository:base/oci:pull']);
    expect(front.tokenRequests).toContainEqual([
      'repository:models/tokened:pull,push',
      'repository:base/oci:pull',
    ]);
  });

  it('fails DENIED when the token does not grant push', async () => {
    await expect(build('reader', 'r-pass', 'models/denied')).rejects.toMatchObject({
      code: 'DENIED',
      status: 403,
      retryable: false,
      message: expect.stringMatching(
        /^registry 127\.0\.0\.1:\d+: .* failed: 403 DENIED: requested access to the resource is denied$/,
      ),
    });
  });
});
