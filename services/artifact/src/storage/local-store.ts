import { randomUUID } from 'node:crypto';
import { createWriteStream, type Dirent, constants as fsConstants, type Stats } from 'node:fs';
import {
  access,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MlflowError } from '@mast/common';
import type { ByteRange } from '../domain/byte-range.js';
import { errorCode, toStorageError } from './errors.js';
import type { ArtifactStore, DirectoryEntry, FileStat, OpenedFile, WriteOptions } from './store.js';

/** Uploads are written here (inside the root, so the final rename stays on one file system). */
export const STAGING_DIR = '.mast-uploads';
/** Staged files older than this are leftovers of a crash and are removed at start-up. */
const STALE_STAGING_MS = 24 * 60 * 60 * 1000;
const READ_CHUNK = 1024 * 1024;

function missing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function outsideRoot(path: string): MlflowError {
  return MlflowError.invalidParameter(`Invalid path '${path}': it leads outside the artifact root.`);
}

/**
 * A local artifact root that cannot be used: it, or the deepest of its parents that exists, is not a
 * directory (or is a symbolic link to nothing), or it cannot be created or written. `code` is the
 * system's (ENOTDIR, ENOENT, EACCES, EROFS...), so `toStorageError` maps it as the failed call.
 */
export class LocalRootError extends Error {
  override name = 'LocalRootError';
  constructor(
    readonly root: string,
    readonly code: string,
    reason: string,
  ) {
    super(`cannot use ${root} as an artifact root: ${reason}`);
  }
}

/** A failed file-system call as a LocalRootError (Node's message: `EACCES: permission denied, mkdir '/x'`). */
function rootFailure(root: string, error: unknown): LocalRootError {
  return new LocalRootError(root, errorCode(error) ?? 'EIO', (error as Error).message);
}

/**
 * Creates the directory `root` (an absolute path) and its missing parents one level at a time, then
 * its staging directory, and checks that one is writable. Node's recursive mkdir never returns where a
 * parent cannot be made (under /proc), so the deepest existing parent is found first and must be a
 * directory. Throws a LocalRootError. `LocalStore.open` runs it; run alone, it checks a root up front.
 */
export async function prepareLocalRoot(root: string): Promise<void> {
  const toCreate: string[] = [];
  for (let path = root; ; path = dirname(path)) {
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      if (!missing(error) || dirname(path) === path) throw rootFailure(root, error);
      // stat follows links: a link whose target is gone (an unmounted volume) cannot be made a directory.
      if ((await lstat(path).catch(() => undefined))?.isSymbolicLink())
        throw new LocalRootError(
          root,
          'ENOENT',
          `ENOENT: ${path} is a symbolic link to ${await readlink(path)}, which does not exist`,
        );
      toCreate.unshift(path);
      continue;
    }
    if (!info.isDirectory()) throw new LocalRootError(root, 'ENOTDIR', `ENOTDIR: ${path} is not a directory`);
    break;
  }
  const staging = join(root, STAGING_DIR);
  try {
    for (const path of [...toCreate, staging]) {
      await mkdir(path).catch((error: unknown) => {
        if (errorCode(error) !== 'EEXIST') throw error;
      });
    }
    // Creating it proved nothing when it existed (a volume remounted read-only since: EROFS).
    await access(staging, fsConstants.W_OK);
  } catch (error) {
    throw rootFailure(root, error);
  }
}

/**
 * Artifacts in a local directory (the embedded default). Every path is checked twice: the request
 * path is already free of `..`, and the real path (symlinks resolved) must stay under the root's real
 * path, so a symlink cannot lead a read, write, list or delete outside. Uploads go to a staging file
 * that is flushed and renamed into place only when complete.
 */
export class LocalStore implements ArtifactStore {
  readonly uri: string;

  private constructor(
    private readonly root: string,
    private readonly realRoot: string,
  ) {
    this.uri = root;
  }

  /** Opens (creating it if needed) the directory `root`, an absolute path. */
  static async open(root: string): Promise<LocalStore> {
    try {
      await prepareLocalRoot(root);
      const store = new LocalStore(root, await realpath(root));
      await store.removeStaleStaging();
      return store;
    } catch (error) {
      throw toStorageError(error, root);
    }
  }

  private async removeStaleStaging(): Promise<void> {
    const staging = join(this.root, STAGING_DIR);
    const now = Date.now();
    for (const name of await readdir(staging)) {
      const file = join(staging, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs > STALE_STAGING_MS) await rm(file, { force: true, recursive: true });
    }
  }

  private contains(real: string): boolean {
    return (
      real === this.realRoot ||
      real.startsWith(this.realRoot.endsWith(sep) ? this.realRoot : this.realRoot + sep)
    );
  }

  private absolute(path: string): string {
    if (path.split('/')[0] === STAGING_DIR) {
      throw MlflowError.invalidParameter(`Invalid path '${path}': '${STAGING_DIR}' is reserved.`);
    }
    return path === '' ? this.root : join(this.root, ...path.split('/'));
  }

  /** The real path of `path` if it exists, checked to be inside the root. */
  private async realExisting(path: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(this.absolute(path));
    } catch (error) {
      if (missing(error) || errorCode(error) === 'ELOOP') return undefined;
      throw error;
    }
    if (!this.contains(real)) throw outsideRoot(path);
    return real;
  }

  async open(path: string): Promise<OpenedFile | undefined> {
    if (path === '') return undefined;
    try {
      const real = await this.realExisting(path);
      if (real === undefined) return undefined;
      // O_NOFOLLOW: a symlink swapped in after the check is refused, not followed.
      const handle = await open(real, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      let info: Awaited<ReturnType<typeof handle.stat>>;
      try {
        info = await handle.stat();
      } catch (error) {
        await handle.close();
        throw error;
      }
      if (!info.isFile()) {
        await handle.close();
        return undefined;
      }
      const fileStat: FileStat = {
        size: info.size,
        etag: `"${info.ino.toString(16)}-${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`,
        lastModified: info.mtime,
      };
      let handedOver = false;
      return {
        stat: fileStat,
        read: async (range?: ByteRange): Promise<Readable> => {
          handedOver = true;
          // The stream owns the handle from here and closes it when done or destroyed.
          return handle.createReadStream({
            start: range?.start ?? 0,
            end: range?.end ?? Math.max(0, info.size - 1),
            highWaterMark: READ_CHUNK,
            autoClose: true,
          });
        },
        close: async () => {
          if (!handedOver) await handle.close().catch(() => undefined);
        },
      };
    } catch (error) {
      if (errorCode(error) === 'ELOOP') throw outsideRoot(path);
      throw toStorageError(error, this.uri);
    }
  }

  async write(path: string, body: Readable, _options: WriteOptions): Promise<void> {
    if (path === '') throw MlflowError.invalidParameter('Invalid path: a file name is required.');
    const target = this.absolute(path);
    const staged = join(this.root, STAGING_DIR, randomUUID());
    try {
      await this.prepareParent(path, dirname(target));
      const existing = await stat(target).catch((error: unknown) => {
        if (missing(error)) return undefined;
        throw error;
      });
      if (existing?.isDirectory())
        throw MlflowError.invalidParameter(`Invalid path '${path}': it is a directory.`);
      // flush: the data is on disk before the rename makes the file visible.
      await pipeline(
        body,
        createWriteStream(staged, { flags: 'wx', flush: true, highWaterMark: READ_CHUNK }),
      );
      await rename(staged, target);
    } catch (error) {
      await unlink(staged).catch(() => undefined);
      throw toStorageError(error, this.uri);
    }
  }

  /**
   * Creates the parent directories of a file, after checking that the deepest one that exists is
   * really inside the root (a symlinked directory must not make mkdir create things elsewhere).
   */
  private async prepareParent(path: string, parent: string): Promise<void> {
    let existing = parent;
    for (;;) {
      try {
        const real = await realpath(existing);
        if (!this.contains(real)) throw outsideRoot(path);
        if (!(await stat(real)).isDirectory()) {
          throw MlflowError.invalidParameter(`Invalid path '${path}': a parent of it is a file.`);
        }
        break;
      } catch (error) {
        if (!missing(error)) throw error;
        if (existing === this.root) {
          throw new MlflowError('TEMPORARILY_UNAVAILABLE', `Artifact root ${this.root} does not exist.`);
        }
        existing = dirname(existing);
      }
    }
    if (existing !== parent) {
      try {
        await mkdir(parent, { recursive: true });
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EEXIST' || code === 'ENOTDIR') {
          throw MlflowError.invalidParameter(`Invalid path '${path}': a parent of it is a file.`);
        }
        throw error;
      }
    }
  }

  async list(path: string): Promise<DirectoryEntry[]> {
    try {
      const real = await this.realExisting(path);
      if (real === undefined) return [];
      let dirents: Dirent[];
      try {
        dirents = await readdir(real, { withFileTypes: true });
      } catch (error) {
        if (missing(error)) return [];
        throw error;
      }
      const entries = await Promise.all(
        dirents
          .filter((dirent) => !(path === '' && dirent.name === STAGING_DIR))
          .map((dirent) => this.entry(join(real, dirent.name), dirent.name)),
      );
      return entries
        .filter((entry): entry is DirectoryEntry => entry !== undefined)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      throw toStorageError(error, this.uri);
    }
  }

  /** One listed entry; symlinks are followed only while they stay inside the root. */
  private async entry(file: string, name: string): Promise<DirectoryEntry | undefined> {
    try {
      const real = await realpath(file);
      if (!this.contains(real)) return undefined;
      const info = await stat(real);
      if (info.isDirectory()) return { name, isDir: true };
      if (info.isFile()) return { name, isDir: false, size: info.size };
      return undefined;
    } catch (error) {
      if (missing(error) || errorCode(error) === 'ELOOP') return undefined;
      throw error;
    }
  }

  async delete(path: string): Promise<void> {
    if (path === '') throw MlflowError.invalidParameter('Refusing to delete the whole artifact root.');
    const target = this.absolute(path);
    try {
      // The parent must really be inside the root; the target itself is removed, never followed.
      const parent = await this.realExisting(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
      if (parent === undefined) return;
      await rm(join(parent, basename(target)), { recursive: true, force: true });
    } catch (error) {
      throw toStorageError(error, this.uri);
    }
  }

  async ping(): Promise<void> {
    try {
      await access(join(this.root, STAGING_DIR), fsConstants.W_OK);
    } catch (error) {
      throw new MlflowError(
        'TEMPORARILY_UNAVAILABLE',
        `Artifact root ${this.root} is not writable (${errorCode(error) ?? (error as Error).message}).`,
      );
    }
  }
}
