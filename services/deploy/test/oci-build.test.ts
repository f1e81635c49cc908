/**
 * The daemonless model-image builder against a real registry (Debian `docker-registry`), results
 * checked independently with `skopeo inspect`.
 */

import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tar from 'tar-stream';
import { type BuildModelImageOptions, buildModelImage } from '../src/oci/build.js';
import { BuildCache } from '../src/oci/cache.js';
import { RegistryClient } from '../src/oci/client.js';
import { OciError } from '../src/oci/errors.js';
import { MEDIA_TYPES } from '../src/oci/media-types.js';
import { servingDefaults } from '../src/oci/serving.js';
import {
  pushSyntheticImage,
  pushSyntheticIndex,
  type SyntheticImage,
  skopeoCopyToDir,
  skopeoInspect,
  startRegistry,
  type TestRegistry,
} from './support/oci-registry.js';

interface Exchange {
  method: string;
  path: string;
  status: number;
}

let registry: TestRegistry;
let work: string;
let modelDir: string;
let ociBase: SyntheticImage;
let dockerBase: SyntheticImage;
let multi: Awaited<ReturnType<typeof pushSyntheticIndex>>;

beforeAll(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'mast-oci-build-'));
  modelDir = join(work, 'model');
  await mkdir(join(modelDir, 'artifacts', 'nested'), { recursive: true });
  await writeFile(
    join(modelDir, 'MLmodel'),
    'flavors:\n  onnx:\n    onnx_version: 1.16.0\n    data: model.onnx\n',
  );
  // Incompressible enough that the gzip layer is several 64 KiB chunks.
  const weights = Buffer.alloc(300 * 1024);
  let state = 0x2545f491;
  for (let i = 0; i < weights.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    weights[i] = state & 0xff;
  }
  await writeFile(join(modelDir, 'model.onnx'), weights);
  await writeFile(join(modelDir, 'artifacts', 'nested', 'vocab.txt'), 'a\nb\nc\n');
  await writeFile(join(modelDir, 'run.sh'), '#!/bin/sh\necho ok\n');
  await chmod(join(modelDir, 'run.sh'), 0o700);
  const client = new RegistryClient({ registry: registry.host, insecure: true });
  ociBase = await pushSyntheticImage(client, 'base/oci', '1.0', 'oci');
  dockerBase = await pushSyntheticImage(client, 'base/docker', '1.0', 'docker');
  multi = await pushSyntheticIndex(client, 'base/multi', '1.0');
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function options(overrides: Partial<BuildModelImageOptions>): BuildModelImageOptions {
  const serving = servingDefaults('onnx');
  return {
    base: `${registry.host}/base/oci:1.0`,
    target: `${registry.host}/models/iris:1`,
    modelDir,
    labels: { name: 'iris', version: '1', runId: 'abc123', flavor: 'onnx' },
    env: serving.env,
    exposedPorts: serving.exposedPorts,
    insecureRegistries: [registry.host],
    ...overrides,
  };
}

describe('buildModelImage against docker-registry', () => {
  let first: Awaited<ReturnType<typeof buildModelImage>>;
  const cache = () => new BuildCache(join(work, 'cache'));
  const sharedCache = { value: undefined as BuildCache | undefined };

  it('pushes to a fresh repository in chunks, mounting the base layer; skopeo reads the image', async () => {
    sharedCache.value = cache();
    const exchanges: Exchange[] = [];
    first = await buildModelImage(
      options({ cache: sharedCache.value, chunkSize: 64 * 1024, onRequest: (e) => exchanges.push(e) }),
    );
    expect(first.mediaType).toBe(MEDIA_TYPES.oci.manifest);
    expect(first.baseDigest).toBe(ociBase.digest);
    expect(first.reusedBlobs).toBe(1); // the base layer, mounted
    const mounts = exchanges.filter((e) => e.method === 'POST' && e.path.includes('mount='));
    expect(mounts).toEqual([
      expect.objectContaining({
        status: 201,
        path: expect.stringContaining(`from=${encodeURIComponent('base/oci')}`),
      }),
    ]);
    // The model layer (> 64 KiB compressed) went up in several PATCH chunks, the config in one PUT.
    expect(exchanges.filter((e) => e.method === 'PATCH').length).toBeGreaterThan(1);
    expect(exchanges.filter((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/')).length).toBe(2);
    expect(first.pushedBytes).toBeGreaterThan(0);

    const reference = `${registry.host}/models/iris@${first.digest}`;
    const raw = await skopeoInspect(reference, 'raw');
    expect(raw.mediaType).toBe(MEDIA_TYPES.oci.manifest);
    expect(raw.layers.map((l: any) => l.mediaType)).toEqual([
      MEDIA_TYPES.oci.layerGzip,
      MEDIA_TYPES.oci.layerGzip,
    ]);
    expect(raw.layers[0].digest).toBe(ociBase.layerDigest);
    expect(raw.annotations).toMatchObject({
      'org.opencontainers.image.base.digest': ociBase.digest,
      'org.opencontainers.image.base.name': `${registry.host}/base/oci:1.0`,
      'io.mast.model.name': 'iris',
    });
    const config = await skopeoInspect(reference, 'config');
    expect(config.config.Env).toEqual([
      'PATH=/usr/local/bin:/usr/bin:/bin',
      'LANG=C.UTF-8',
      'MAST_HOST=0.0.0.0',
      'MAST_PORT=8080',
      'MAST_MODEL_DIR=/opt/ml/model',
    ]);
    expect(config.config.Cmd).toEqual(['sh']); // the base's: no entrypoint given
    expect(config.config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(config.config.Labels).toEqual({
      base: 'yes',
      'io.mast.model.name': 'iris',
      'io.mast.model.version': '1',
      'io.mast.model.run-id': 'abc123',
      'io.mast.model.flavor': 'onnx',
    });
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.history.at(-1).created_by).toBe('mast deploy: model iris v1');
    const tagged = await skopeoInspect(`${registry.host}/models/iris:1`);
    expect(tagged.Digest).toBe(first.digest);
    expect(tagged.Layers).toHaveLength(2);

    // skopeo downloads the image checking every digest; the model layer unpacks to /opt/ml/model.
    const copy = join(work, 'skopeo-copy');
    await skopeoCopyToDir(reference, copy);
    const layer = gunzipSync(await readFile(join(copy, raw.layers[1].digest.slice('sha256:'.length))));
    const names: string[] = [];
    const extract = tar.extract();
    const reading = (async () => {
      for await (const entry of extract) {
        names.push(`${entry.header.name} ${entry.header.mode?.toString(8)}`);
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        if (entry.header.name === 'opt/ml/model/MLmodel')
          expect(Buffer.concat(chunks).toString()).toContain('onnx_version');
      }
    })();
    extract.end(layer);
    await reading;
    expect(names).toEqual([
      'opt/ 755',
      'opt/ml/ 755',
      'opt/ml/model/ 755',
      'opt/ml/model/MLmodel 644',
      'opt/ml/model/artifacts/ 755',
      'opt/ml/model/artifacts/nested/ 755',
      'opt/ml/model/artifacts/nested/vocab.txt 644',
      'opt/ml/model/model.onnx 644',
      'opt/ml/model/run.sh 755',
    ]);
  });

  it('rebuilds an unchanged version to the same digest with HEAD requests only', async () => {
    const exchanges: Exchange[] = [];
    const again = await buildModelImage(
      options({ cache: sharedCache.value, onRequest: (e) => exchanges.push(e) }),
    );
    expect(again.digest).toBe(first.digest);
    expect(again.pushedBytes).toBe(0);
    expect(again.reusedBlobs).toBe(3);
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.filter((e) => e.method !== 'HEAD')).toEqual([]);
  });

  it('gives the same digest without a cache, uploading monolithically to another repository', async () => {
    const exchanges: Exchange[] = [];
    const other = await buildModelImage(
      options({ target: `${registry.host}/models/copy:1`, onRequest: (e) => exchanges.push(e) }),
    );
    expect(other.digest).toBe(first.digest);
    expect(exchanges.filter((e) => e.method === 'PATCH')).toEqual([]);
    expect(exchanges.filter((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/')).length).toBe(2);
    const changed = await buildModelImage(
      options({ target: `${registry.host}/models/copy:2`, labels: { name: 'iris', version: '2' } }),
    );
    expect(changed.digest).not.toBe(first.digest);
    expect(changed.pushedBytes).toBeLessThan(4096); // only the config and the manifest: same model layer
  });

  it('copies the base layers when the base is in another registry', async () => {
    const other = await startRegistry();
    try {
      const exchanges: Exchange[] = [];
      const built = await buildModelImage(
        options({
          target: `${other.host}/models/iris:1`,
          insecureRegistries: [registry.host, other.host],
          onRequest: (e) => exchanges.push(e),
        }),
      );
      expect(built.digest).toBe(first.digest);
      expect(built.reusedBlobs).toBe(0);
      expect(exchanges).toContainEqual({
        method: 'GET',
        path: `/v2/base/oci/blobs/${ociBase.layerDigest}`,
        status: 200,
      });
      expect(exchanges.filter((e) => e.path.includes('mount='))).toEqual([]);
      const raw = await skopeoInspect(`${other.host}/models/iris@${built.digest}`, 'raw');
      expect(raw.layers[0].digest).toBe(ociBase.layerDigest);
      await skopeoCopyToDir(`${other.host}/models/iris@${built.digest}`, join(work, 'copied'));
    } finally {
      await other.stop();
    }
  });

  it('keeps a Docker v2 schema 2 base in the Docker family and sets the MLflow entry point', async () => {
    const serving = servingDefaults('sklearn');
    const built = await buildModelImage(
      options({
        base: `${registry.host}/base/docker:1.0`,
        target: `${registry.host}/models/pyfunc:1`,
        entrypoint: serving.entrypoint,
        env: serving.env,
      }),
    );
    expect(built.mediaType).toBe(MEDIA_TYPES.docker.manifest);
    const raw = await skopeoInspect(`${registry.host}/models/pyfunc@${built.digest}`, 'raw');
    expect(raw.mediaType).toBe(MEDIA_TYPES.docker.manifest);
    expect(raw.config.mediaType).toBe(MEDIA_TYPES.docker.config);
    expect(raw.layers.map((l: any) => l.mediaType)).toEqual([
      MEDIA_TYPES.docker.layerGzip,
      MEDIA_TYPES.docker.layerGzip,
    ]);
    expect(raw.annotations).toBeUndefined();
    expect(raw.layers[0].digest).toBe(dockerBase.layerDigest);
    const config = await skopeoInspect(`${registry.host}/models/pyfunc@${built.digest}`, 'config');
    expect(config.config.Entrypoint).toEqual(serving.entrypoint);
    expect(config.config.Cmd ?? null).toBeNull();
    expect(config.config.Env).toContain('MLFLOW_DISABLE_ENV_CREATION=False');
  });

  it('picks the requested platform from a multi-arch index base', async () => {
    const arm = await buildModelImage(
      options({
        base: `${registry.host}/base/multi:1.0`,
        target: `${registry.host}/models/multi:arm`,
        platform: 'linux/arm64',
      }),
    );
    expect(arm.baseDigest).toBe(multi.arm64.digest);
    const config = await skopeoInspect(`${registry.host}/models/multi@${arm.digest}`, 'config');
    expect(config.architecture).toBe('arm64');
    const amd = await buildModelImage(
      options({ base: `${registry.host}/base/multi:1.0`, target: `${registry.host}/models/multi:amd` }),
    );
    expect(amd.baseDigest).toBe(multi.amd64.digest);
    await expect(
      buildModelImage(options({ base: `${registry.host}/base/multi:1.0`, platform: 'linux/s390x' })),
    ).rejects.toMatchObject({
      code: 'PLATFORM_NOT_FOUND',
      message: expect.stringContaining('offers: linux/amd64, linux/arm64/v8'),
    });
  });

  it('fails with the registry error code for an unknown base tag or repository', async () => {
    const missingTag = buildModelImage(options({ base: `${registry.host}/base/oci:nope` }));
    await expect(missingTag).rejects.toBeInstanceOf(OciError);
    await expect(missingTag).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      status: 404,
      retryable: false,
      message: `registry ${registry.host}: GET manifest base/oci:nope failed: 404 MANIFEST_UNKNOWN: manifest unknown`,
    });
    // distribution 2.8 answers MANIFEST_UNKNOWN for a repository it has never seen too (NAME_UNKNOWN is
    // what ECR and Harbor send); either way the registry's code is the error's.
    await expect(buildModelImage(options({ base: `${registry.host}/no/such:1` }))).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      message: expect.stringContaining('GET manifest no/such:1 failed: 404 MANIFEST_UNKNOWN'),
    });
  });

  it('fails as UNREACHABLE (retryable) when the registry does not answer', async () => {
    await expect(
      buildModelImage(options({ base: '127.0.0.1:9/base/oci:1.0', insecureRegistries: ['127.0.0.1:9'] })),
    ).rejects.toMatchObject({ code: 'UNREACHABLE', retryable: true });
  });
});
