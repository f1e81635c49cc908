import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tar from 'tar-stream';
import { layerDiffId, listLayerEntries, writeLayer } from './layer.js';

let dir: string;
let model: string;
const longName = `${'deep-'.repeat(30)}file.bin`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mast-layer-'));
  model = join(dir, 'model');
  await mkdir(join(model, 'b', 'c'), { recursive: true });
  await writeFile(join(model, 'MLmodel'), 'flavors: {}\n');
  await writeFile(join(model, 'b', 'c', 'weights.bin'), Buffer.alloc(100_000, 7));
  await writeFile(join(model, 'b-sibling'), 'x');
  await writeFile(join(model, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(model, 'run.sh'), 0o700);
  await chmod(join(model, 'MLmodel'), 0o600);
  await writeFile(join(model, longName), 'long');
  await writeFile(join(model, 'modèle.txt'), 'utf-8 name');
  await symlink('MLmodel', join(model, 'link'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readTar(bytes: Buffer): Promise<Array<{ header: tar.Header; body: Buffer }>> {
  const extract = tar.extract();
  const entries: Array<{ header: tar.Header; body: Buffer }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  extract.end(bytes);
  await done;
  return entries;
}

describe('model layer', () => {
  it('lists parents first, sorted bytewise, with normalized modes', async () => {
    const entries = await listLayerEntries(model, '/opt/ml/model');
    expect(entries.map((e) => e.path)).toEqual([
      'opt',
      'opt/ml',
      'opt/ml/model',
      'opt/ml/model/MLmodel',
      'opt/ml/model/b',
      'opt/ml/model/b-sibling',
      'opt/ml/model/b/c',
      'opt/ml/model/b/c/weights.bin',
      `opt/ml/model/${longName}`,
      'opt/ml/model/link',
      'opt/ml/model/modèle.txt',
      'opt/ml/model/run.sh',
    ]);
    const mode = (path: string) => entries.find((e) => e.path === `opt/ml/model/${path}`)?.mode;
    expect([mode('MLmodel'), mode('run.sh'), mode('b'), mode('link')]).toEqual([0o644, 0o755, 0o755, 0o777]);
  });

  it('writes the same bytes whatever the source mtimes, with fixed owner and time', async () => {
    const entries = await listLayerEntries(model, 'opt/ml/model');
    const mtime = new Date(0);
    const first = await writeLayer(entries, mtime, join(dir, 'one.tar.gz'));
    await utimes(join(model, 'MLmodel'), new Date(), new Date('2001-02-03T04:05:06Z'));
    const second = await writeLayer(
      await listLayerEntries(model, 'opt/ml/model'),
      mtime,
      join(dir, 'two.tar.gz'),
    );
    expect(second).toEqual(first);
    const gz = await readFile(join(dir, 'one.tar.gz'));
    expect(gz.length).toBe(first.size);
    expect(`sha256:${createHash('sha256').update(gz).digest('hex')}`).toBe(first.digest);
    const tarBytes = gunzipSync(gz);
    expect(`sha256:${createHash('sha256').update(tarBytes).digest('hex')}`).toBe(first.diffId);
    expect(await layerDiffId(entries, mtime)).toBe(first.diffId);

    const read = await readTar(tarBytes);
    for (const { header } of read) {
      expect([header.uid, header.gid, header.uname, header.gname]).toEqual([0, 0, '', '']);
      expect(header.mtime?.getTime()).toBe(0);
    }
    const byName = new Map(read.map((e) => [e.header.name.replace(/\/$/, ''), e]));
    expect(byName.get(`opt/ml/model/${longName}`)?.body.toString()).toBe('long'); // PAX path
    expect(byName.get('opt/ml/model/modèle.txt')?.body.toString()).toBe('utf-8 name');
    expect(byName.get('opt/ml/model/link')?.header).toMatchObject({ type: 'symlink', linkname: 'MLmodel' });
    expect(byName.get('opt/ml/model/b/c/weights.bin')?.body.equals(Buffer.alloc(100_000, 7))).toBe(true);
    expect(byName.get('opt')?.header).toMatchObject({ type: 'directory', mode: 0o755 });
  });

  it('changes the diff_id when a file changes', async () => {
    const entries = await listLayerEntries(model, 'opt/ml/model');
    const before = await layerDiffId(entries, new Date(0));
    await writeFile(join(model, 'b-sibling'), 'y');
    expect(await layerDiffId(entries, new Date(0))).not.toBe(before);
    expect(await layerDiffId(entries, new Date(1000))).not.toBe(await layerDiffId(entries, new Date(0)));
  });

  it('fails, without hanging, when the layer file cannot be written', async () => {
    const entries = await listLayerEntries(model, 'opt/ml/model');
    await expect(writeLayer(entries, new Date(0), join(dir, 'absent', 'layer.tar.gz'))).rejects.toMatchObject(
      {
        code: 'ENOENT',
      },
    );
  });

  it('refuses a missing model directory', async () => {
    await expect(listLayerEntries(join(dir, 'absent'), 'opt/ml/model')).rejects.toMatchObject({
      code: 'INVALID_MODEL_DIR',
    });
  });
});
