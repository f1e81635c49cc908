import type { Readable } from 'node:stream';

/**
 * Cuts a byte stream into parts of a fixed size for a multipart upload, filling caller-owned buffers so
 * memory stays at a few parts whatever the stream's length. Pulling stops while the caller is busy,
 * which pauses the source (TCP backpressure all the way to the client).
 */
export class PartReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;
  private ended = false;
  /** Bytes handed out so far. */
  bytesRead = 0;

  constructor(source: Readable) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  /** Fills `target` from the stream; returns the filled view, shorter than `target` only at the end. */
  async fill(target: Buffer): Promise<Buffer> {
    let filled = 0;
    while (filled < target.length) {
      let chunk = this.leftover;
      this.leftover = undefined;
      if (chunk === undefined) {
        if (this.ended) break;
        const next = await this.chunks.next();
        if (next.done) {
          this.ended = true;
          break;
        }
        chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
      const taken = Math.min(chunk.length, target.length - filled);
      chunk.copy(target, filled, 0, taken);
      filled += taken;
      if (taken < chunk.length) this.leftover = chunk.subarray(taken);
    }
    this.bytesRead += filled;
    return filled === target.length ? target : target.subarray(0, filled);
  }

  /** The next piece of the stream, at most `max` bytes, without copying; undefined at the end. */
  async next(max: number): Promise<Buffer | undefined> {
    let chunk = this.leftover;
    this.leftover = undefined;
    if (chunk === undefined) {
      if (this.ended) return undefined;
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        return undefined;
      }
      chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    this.bytesRead += chunk.length;
    return chunk;
  }

  /**
   * Stops taking from the source (on failure). The source is left paused, not destroyed: for an HTTP
   * request, destroying it would kill the socket before the error response is written.
   */
  cancel(): void {
    this.leftover = undefined;
    this.ended = true;
  }
}
