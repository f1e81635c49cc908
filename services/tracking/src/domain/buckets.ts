/**
 * Steps per row of `tracking.metric_chunks`, the per-chunk summaries (count, min, max, last) that
 * downsampling merges. Migration 0002 partitions steps by `step >> 8`.
 */
export const CHUNK_STEPS = 256;

/** Bucket `b` covers steps `[base + b*width, base + (b+1)*width - 1]`, clipped to `[lo, hi]`. */
export interface Geometry {
  lo: number;
  hi: number;
  base: number;
  width: number;
}

/**
 * Equal-width buckets over `[lo, hi]`, at most `maxPoints` of them. Once a bucket spans a chunk or
 * more, its width is a whole number of chunks and the first bucket starts at a chunk edge, so whole
 * buckets can be merged from chunk summaries instead of read point by point. `chunksOnly`: buckets
 * are at least a chunk wide even when `maxPoints` would allow narrower ones (fewer buckets, never a
 * point read one by one).
 */
export function bucketGeometry(
  lo: number,
  hi: number,
  maxPoints: number,
  options: { chunksOnly?: boolean } = {},
): Geometry {
  const width = Math.ceil((hi - lo + 1) / maxPoints);
  if (width < CHUNK_STEPS && !options.chunksOnly) return { lo, hi, base: lo, width };
  const base = Math.floor(lo / CHUNK_STEPS) * CHUNK_STEPS;
  const chunks = Math.ceil(Math.ceil((hi - base + 1) / maxPoints) / CHUNK_STEPS);
  return { lo, hi, base, width: chunks * CHUNK_STEPS };
}
