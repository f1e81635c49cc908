import { OciError } from './errors.js';

/** An image platform (image-spec `image-index.md`), in Go's GOOS/GOARCH values. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A descriptor inside an index (`manifests[]`). */
export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** `linux/arm64/v8` → `{os, architecture, variant}`; throws OciError `PLATFORM_NOT_FOUND` on a bad string. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new OciError(
      'PLATFORM_NOT_FOUND',
      `invalid platform '${text}': expected os/architecture[/variant]`,
    );
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/**
 * Whether an index entry runs on `wanted`, by ggcr's `matchesPlatform` (deploy spec §1.10): os and
 * architecture equal; variant and os.version equal when `wanted` sets them; wanted os.features a subset.
 * An entry without a platform counts as linux/amd64 (ggcr's default).
 */
export function matchesPlatform(entry: IndexEntry, wanted: Platform): boolean {
  const have = entry.platform ?? DEFAULT_PLATFORM;
  if (have.os !== wanted.os || have.architecture !== wanted.architecture) return false;
  if (wanted.variant && have.variant !== wanted.variant) return false;
  if (wanted['os.version'] && have['os.version'] !== wanted['os.version']) return false;
  const features = have['os.features'] ?? [];
  return (wanted['os.features'] ?? []).every((feature) => features.includes(feature));
}

/**
 * The first entry of an index's `manifests` that matches `wanted` (spec §1.10: first match wins).
 * Attestation manifests (`vnd.docker.reference.type: attestation-manifest`, platform unknown/unknown)
 * never match. Entries may be nested indexes; the caller recurses into them.
 * Throws OciError `PLATFORM_NOT_FOUND` listing the platforms the index offers.
 */
export function selectPlatform(
  entries: readonly IndexEntry[],
  wanted: Platform,
  indexName: string,
): IndexEntry {
  const runnable = entries.filter(
    (entry) => entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  const found = runnable.find((entry) => matchesPlatform(entry, wanted));
  if (found) return found;
  const offered = runnable.map((entry) => formatPlatform(entry.platform ?? DEFAULT_PLATFORM)).join(', ');
  throw new OciError(
    'PLATFORM_NOT_FOUND',
    `base image ${indexName} has no ${formatPlatform(wanted)} image (it offers: ${offered || 'none'})`,
  );
}
