import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaseImage } from './image.js';
import type { LayerDigests } from './layer.js';

/** A compressed layer known to the cache: its digests and the file holding its gzip bytes. */
export interface CachedLayer extends LayerDigests {
  path: string;
}

/** A resolved base image: its platform manifest's digest plus the manifest and config. */
export interface ResolvedBase extends BaseImage {
  digest: string;
}

/**
 * What makes a rebuild of an unchanged version cost only HEAD requests (spec §1.12 steps 5 and 9):
 * compressed layers by diff_id, on disk under `directory` (`layers/<diff_id hex>.json` →
 * `blobs/sha256-<hex>`), since gzip bytes are reproducible only with the same compressor, so a rebuild
 * hashes the tar and reuses the stored blob instead of compressing again; and resolved bases by
 * (manifest digest, platform), in memory (digests name immutable content). Nothing is evicted: the
 * owner removes the directory (one per worker; the files are as large as the models built).
 */
export class BuildCache {
  readonly directory: string;
  private readonly bases = new Map<string, ResolvedBase>();

  constructor(directory: string) {
    this.directory = directory;
  }

  /** The cached layer with this diff_id, if its blob file is still there. */
  async layer(diffId: string): Promise<CachedLayer | undefined> {
    const text = await readFile(this.indexPath(diffId), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const digests = JSON.parse(text) as LayerDigests;
    const path = this.blobPath(digests.digest);
    const present = await stat(path).then(
      (s) => s.size === digests.size,
      () => false,
    );
    return present ? { ...digests, path } : undefined;
  }

  /** A fresh temporary path inside the cache (same file system, so `addLayer` renames it). */
  async scratchPath(): Promise<string> {
    await mkdir(join(this.directory, 'tmp'), { recursive: true });
    return join(this.directory, 'tmp', `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  }

  /** Moves a written layer file into the cache and records it under its diff_id. */
  async addLayer(file: string, digests: LayerDigests): Promise<CachedLayer> {
    await mkdir(join(this.directory, 'blobs'), { recursive: true });
    await mkdir(join(this.directory, 'layers'), { recursive: true });
    const path = this.blobPath(digests.digest);
    await rename(file, path).catch(async (error: unknown) => {
      await rm(file, { force: true });
      throw error;
    });
    await writeFile(this.indexPath(digests.diffId), JSON.stringify(digests));
    return { ...digests, path };
  }

  base(digest: string, platform: string): ResolvedBase | undefined {
    return this.bases.get(`${digest} ${platform}`);
  }

  addBase(digest: string, platform: string, base: ResolvedBase): void {
    this.bases.set(`${digest} ${platform}`, base);
  }

  private indexPath(diffId: string): string {
    return join(this.directory, 'layers', `${diffId.replace(':', '-')}.json`);
  }

  private blobPath(digest: string): string {
    return join(this.directory, 'blobs', digest.replace(':', '-'));
  }
}
