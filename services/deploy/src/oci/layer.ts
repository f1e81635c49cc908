import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { OciError } from './errors.js';

/**
 * The gzip level of model layers. Level 1: model weights are near-random floats that deflate barely
 * shrinks further at higher levels (50 MB of the benchmark's bytes: 29.07 MB at level 1, 28.92 MB at 6),
 * while level 6 costs about 35% more CPU; the build has to keep pace with `gzip -1` (issue 12 benchmark).
 * Changing it changes every layer digest (the same tar compressed differently is another blob).
 */
export const GZIP_LEVEL = 1;

/** One entry of a layer tar: its path inside the image (relative, `/`-separated) and where it comes from. */
export interface LayerEntry {
  path: string;
  type: 'directory' | 'file' | 'symlink';
  /** file: its normalized mode (0644, or 0755 when executable in the source); directory 0755; symlink 0777. */
  mode: number;
  size: number;
  /** file: the source file to read. */
  source?: string;
  /** symlink: its target, as stored. */
  linkname?: string;
}

/** A layer's identities (image-spec `config.md`): `diffId` of the tar, `digest` and `size` of the gzip. */
export interface LayerDigests {
  diffId: string;
  digest: string;
  size: number;
}

/** Bytewise order of UTF-8 paths (spec §1.12 step 1); a parent always sorts before its children. */
function byPath(a: LayerEntry, b: LayerEntry): number {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
}

/**
 * The entries of a layer holding `directory` at `destination` (e.g. `opt/ml/model`), by the
 * reproducibility checklist of spec §1.12: every parent directory once (0755) before its children,
 * files 0644 or 0755, symlinks kept as links, sorted bytewise. Throws OciError `INVALID_MODEL_DIR` when the
 * directory is missing or holds something else than files, directories and symlinks (sockets, devices).
 */
export async function listLayerEntries(directory: string, destination: string): Promise<LayerEntry[]> {
  const parts = destination.split('/').filter(Boolean);
  const entries: LayerEntry[] = parts.map((_, i) => ({
    path: parts.slice(0, i + 1).join('/'),
    type: 'directory',
    mode: 0o755,
    size: 0,
  }));
  const root = await lstat(directory).catch(() => undefined);
  if (!root?.isDirectory())
    throw new OciError('INVALID_MODEL_DIR', `model directory ${directory} is not a directory`);
  const walk = async (source: string, path: string): Promise<void> => {
    for (const name of await readdir(source)) {
      const child = join(source, name);
      const childPath = `${path}/${name}`;
      const stat = await lstat(child);
      if (stat.isDirectory()) {
        entries.push({ path: childPath, type: 'directory', mode: 0o755, size: 0 });
        await walk(child, childPath);
      } else if (stat.isFile()) {
        const mode = stat.mode & 0o111 ? 0o755 : 0o644;
        entries.push({ path: childPath, type: 'file', mode, size: stat.size, source: child });
      } else if (stat.isSymbolicLink()) {
        entries.push({
          path: childPath,
          type: 'symlink',
          mode: 0o777,
          size: 0,
          linkname: await readlink(child),
        });
      } else {
        throw new OciError(
          'INVALID_MODEL_DIR',
          `model file ${child} is neither a file, a directory nor a symlink`,
        );
      }
    }
  };
  await walk(directory, parts.join('/'));
  return entries.sort(byPath);
}

/**
 * The layer's tar stream: owner 0:0 with empty uname/gname, every mtime `mtime`, no atime/ctime or
 * xattrs (spec §1.12 steps 3–4). tar-stream switches to a PAX header only for a path longer than
 * ustar's 100+155 bytes or not ASCII, so the bytes depend on the entries alone.
 */
export async function* layerTar(entries: readonly LayerEntry[], mtime: Date): AsyncGenerator<Buffer> {
  const pack = tar.pack();
  const produce = async () => {
    for (const entry of entries) {
      const header = {
        // Directories end in `/`, as GNU tar and Go's archive/tar write them.
        name: entry.type === 'directory' ? `${entry.path}/` : entry.path,
        type: entry.type,
        mode: entry.mode,
        mtime,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        size: entry.size,
        linkname: entry.linkname,
      };
      if (entry.type !== 'file') {
        pack.entry(header);
        continue;
      }
      const written = new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
        (async () => {
          for await (const chunk of createReadStream(entry.source!, { highWaterMark: 1024 * 1024 })) {
            if (!sink.write(chunk)) await once(sink, 'drain');
          }
          sink.end(() => undefined);
        })().catch((error: unknown) => {
          sink.destroy(error as Error);
          reject(error);
        });
      });
      await written;
    }
    pack.finalize();
  };
  const producing = produce().catch((error: unknown) => {
    pack.destroy(error as Error);
    throw error;
  });
  let complete = false;
  try {
    for await (const chunk of pack) yield chunk as Buffer;
    complete = true;
  } finally {
    // A consumer that stops early (its destination failed) must not leave the producer waiting for
    // 'drain' forever; its own error is the one that counts then.
    if (!complete) pack.destroy(new Error('the layer tar was abandoned'));
    await (complete ? producing : producing.catch(() => undefined));
  }
}

/** A pass-through that feeds a hash and counts bytes. */
function hashing(hash: Hash, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  });
}

/** The sha256 of the layer's tar (its diff_id) without compressing it: what a cached rebuild costs. */
export async function layerDiffId(entries: readonly LayerEntry[], mtime: Date): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of layerTar(entries, mtime)) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Writes the gzipped layer to `path` in one pass, hashing the tar (diff_id) and the gzip output (digest)
 * as they stream (spec §1.2: build to a file first so the digest is known before any request). Node's
 * gzip header has mtime 0 and no file name; level GZIP_LEVEL.
 */
export async function writeLayer(
  entries: readonly LayerEntry[],
  mtime: Date,
  path: string,
): Promise<LayerDigests> {
  const tarHash = createHash('sha256');
  const gzipHash = createHash('sha256');
  const compressed = { bytes: 0 };
  await pipeline(
    layerTar(entries, mtime),
    hashing(tarHash, { bytes: 0 }),
    createGzip({ level: GZIP_LEVEL }),
    hashing(gzipHash, compressed),
    createWriteStream(path),
  );
  return {
    diffId: `sha256:${tarHash.digest('hex')}`,
    digest: `sha256:${gzipHash.digest('hex')}`,
    size: compressed.bytes,
  };
}
