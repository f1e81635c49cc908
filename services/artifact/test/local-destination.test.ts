import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { ConfigError } from '@mast/common';
import { ArtifactStorage } from '../src/storage/artifact-storage.js';
import { LocalRootError, prepareLocalRoot, STAGING_DIR } from '../src/storage/local-store.js';

const S3 = { region: 'us-east-1', timeoutMs: 30_000, partSize: 5 * 1024 * 1024 };

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('a local artifacts destination is created and checked before use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mast-destination-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a directory');
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'unmounted-volume', 'x'), dangling);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('missing parents are created one level at a time, with the staging directory', async () => {
    const root = join(dir, 'deep', 'er', 'artifacts');
    await prepareLocalRoot(root);
    expect(statSync(join(root, STAGING_DIR)).isDirectory()).toBe(true);
    // Again: an existing destination is fine.
    await prepareLocalRoot(root);
  });

  test.each([
    [
      'a regular file',
      () => file,
      'ENOTDIR',
      `cannot use ${file} as an artifact root: ENOTDIR: ${file} is not a directory`,
    ],
    [
      'a file as a parent',
      () => join(file, 'sub', 'artifacts'),
      'ENOTDIR',
      `cannot use ${join(file, 'sub', 'artifacts')} as an artifact root: ENOTDIR: ${file} is not a directory`,
    ],
    [
      'a symbolic link to a missing target',
      () => dangling,
      'ENOENT',
      `cannot use ${dangling} as an artifact root: ENOENT: ${dangling} is a symbolic link to ${join(dir, 'unmounted-volume', 'x')}, which does not exist`,
    ],
    [
      'a directory under /proc (where recursive mkdir never returns)',
      () => '/proc/mast-nope/artifacts',
      'ENOENT',
      "cannot use /proc/mast-nope/artifacts as an artifact root: ENOENT: no such file or directory, mkdir '/proc/mast-nope'",
    ],
  ])('%s is refused with the reason', async (_what, root, code, message) => {
    const error = await rejection(prepareLocalRoot(root()));
    expect(error).toBeInstanceOf(LocalRootError);
    expect({ code: (error as LocalRootError).code, message: error.message }).toEqual({ code, message });
  });

  test('a directory the system refuses to create is refused with its reason (/sys: even root may not)', async () => {
    const error = await rejection(prepareLocalRoot('/sys/mast-nope'));
    expect(error).toBeInstanceOf(LocalRootError);
    // EPERM for root, EACCES for another user, EROFS where /sys is mounted read-only.
    expect(['EPERM', 'EACCES', 'EROFS']).toContain((error as LocalRootError).code);
    expect(error.message).toMatch(
      /^cannot use \/sys\/mast-nope as an artifact root: E[A-Z]+: .*mkdir '\/sys\/mast-nope'$/,
    );
  });

  test('the storage refuses such a destination as a ConfigError naming its flag, or its variable', async () => {
    const byFlag = await rejection(
      ArtifactStorage.prepareDestination(dangling, {
        sources: { MAST_ARTIFACTS_DESTINATION: '--artifacts-destination' },
      }),
    );
    expect(byFlag).toBeInstanceOf(ConfigError);
    expect(byFlag.message).toBe(
      `--artifacts-destination: cannot use ${dangling} as an artifact root: ENOENT: ${dangling} is a symbolic link to ${join(dir, 'unmounted-volume', 'x')}, which does not exist`,
    );
    const opened = await rejection(ArtifactStorage.open({ destination: file, allowedRoots: [], s3: S3 }));
    expect(opened).toBeInstanceOf(ConfigError);
    expect(opened.message).toBe(
      `MAST_ARTIFACTS_DESTINATION: cannot use ${file} as an artifact root: ENOTDIR: ${file} is not a directory`,
    );
    // An s3:// destination is not contacted here.
    await ArtifactStorage.prepareDestination('s3://bucket/prefix');
  });
});
