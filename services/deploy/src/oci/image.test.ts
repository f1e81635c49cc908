import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { appendLayer, type BaseImage } from './image.js';
import { MEDIA_TYPES } from './media-types.js';

const sha = (c: string) => `sha256:${c.repeat(64)}`;
const layer = { diffId: sha('d'), digest: sha('e'), size: 42 };
const settings = {
  env: { LANG: 'C', MAST_MODEL_DIR: '/opt/ml/model' },
  labels: { 'io.mast.model.name': 'iris' },
  exposedPorts: ['8080/tcp'],
  created: '1970-01-01T00:00:00.000Z',
  history: { createdBy: 'mast deploy: model iris v1', comment: 'model' },
};

function base(family: 'oci' | 'docker'): BaseImage {
  const types = MEDIA_TYPES[family];
  return {
    mediaType: types.manifest,
    manifest: {
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: sha('c'), size: 10 },
      layers: [{ mediaType: types.layerGzip, digest: sha('a'), size: 5 }],
      ...(family === 'oci' ? { annotations: { 'from.base': 'kept' } } : {}),
    },
    config: {
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      'x-unknown': { kept: true },
      config: { Env: ['PATH=/bin', 'LANG=en'], Entrypoint: ['/init'], Cmd: ['run'], Labels: { base: 'yes' } },
      rootfs: { type: 'layers', diff_ids: [sha('b')] },
      history: [{ created_by: 'base' }],
    },
  };
}

describe('appendLayer', () => {
  it('appends layer, diff_id and history, merges settings and keeps unknown fields', () => {
    const image = appendLayer(base('oci'), layer, settings, { 'org.opencontainers.image.title': 'iris' });
    const config = JSON.parse(image.config.toString());
    expect(config).toMatchObject({ architecture: 'arm64', variant: 'v8', 'x-unknown': { kept: true } });
    expect(config.created).toBe(settings.created);
    expect(config.config.Env).toEqual(['PATH=/bin', 'LANG=C', 'MAST_MODEL_DIR=/opt/ml/model']);
    expect(config.config.Entrypoint).toEqual(['/init']);
    expect(config.config.Cmd).toEqual(['run']);
    expect(config.config.Labels).toEqual({ base: 'yes', 'io.mast.model.name': 'iris' });
    expect(config.config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(config.rootfs.diff_ids).toEqual([sha('b'), sha('d')]);
    expect(config.history).toEqual([
      { created_by: 'base' },
      { created: settings.created, created_by: 'mast deploy: model iris v1', comment: 'model' },
    ]);
    const manifest = JSON.parse(image.manifest.toString());
    expect(manifest.config).toEqual({
      mediaType: MEDIA_TYPES.oci.config,
      digest: image.configDigest,
      size: image.config.length,
    });
    expect(manifest.layers[1]).toEqual({ mediaType: MEDIA_TYPES.oci.layerGzip, digest: sha('e'), size: 42 });
    expect(manifest.annotations).toEqual({ 'from.base': 'kept', 'org.opencontainers.image.title': 'iris' });
    expect(image.manifestDigest).toBe(`sha256:${createHash('sha256').update(image.manifest).digest('hex')}`);
    expect(image.configDigest).toBe(`sha256:${createHash('sha256').update(image.config).digest('hex')}`);
  });

  it('keeps the Docker family: Docker layer type, no annotations', () => {
    const image = appendLayer(base('docker'), layer, settings, { 'org.opencontainers.image.title': 'iris' });
    const manifest = JSON.parse(image.manifest.toString());
    expect(image.mediaType).toBe(MEDIA_TYPES.docker.manifest);
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      MEDIA_TYPES.docker.layerGzip,
      MEDIA_TYPES.docker.layerGzip,
    ]);
    expect(manifest.annotations).toBeUndefined();
  });

  it('replaces the entry point and drops the base Cmd, as a Dockerfile ENTRYPOINT does', () => {
    const image = appendLayer(
      base('oci'),
      layer,
      { ...settings, entrypoint: ['python', '-c', 'serve()'] },
      {},
    );
    const config = JSON.parse(image.config.toString());
    expect(config.config.Entrypoint).toEqual(['python', '-c', 'serve()']);
    expect(config.config.Cmd).toBeNull();
  });

  it('is deterministic and leaves the base untouched', () => {
    const input = base('oci');
    const snapshot = JSON.stringify(input);
    const one = appendLayer(input, layer, settings, {});
    expect(appendLayer(input, layer, settings, {}).manifestDigest).toBe(one.manifestDigest);
    expect(JSON.stringify(input)).toBe(snapshot);
  });

  it('refuses an index', () => {
    expect(() =>
      appendLayer({ ...base('oci'), mediaType: MEDIA_TYPES.oci.index }, layer, settings, {}),
    ).toThrow(/cannot append a layer to a application\/vnd.oci.image.index.v1\+json/);
  });
});
