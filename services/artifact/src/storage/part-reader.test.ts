import { Readable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { PartReader } from './part-reader.js';

function chunked(total: number, chunk: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const size = Math.min(chunk, total - sent);
      const buffer = Buffer.alloc(size);
      for (let i = 0; i < size; i++) buffer[i] = (sent + i) % 251;
      sent += size;
      this.push(buffer);
    },
  });
}

describe('PartReader', () => {
  test.each([
    [0, 7, 10],
    [25, 7, 10],
    [30, 10, 10],
    [31, 64, 10],
    [1000, 3, 64],
  ])('%d bytes in %d-byte chunks cut into %d-byte parts', async (total, chunk, partSize) => {
    const reader = new PartReader(chunked(total, chunk));
    const parts: Buffer[] = [];
    for (;;) {
      const part = Buffer.from(await reader.fill(Buffer.alloc(partSize)));
      if (part.length > 0) parts.push(part);
      if (part.length < partSize) break;
    }
    expect(reader.bytesRead).toBe(total);
    expect(parts.slice(0, -1).every((part) => part.length === partSize)).toBe(true);
    const joined = Buffer.concat(parts);
    expect(joined.length).toBe(total);
    expect(joined.every((byte, i) => byte === i % 251)).toBe(true);
  });

  test('a source error rejects the fill', async () => {
    const source = new Readable({ read() {} });
    const reader = new PartReader(source);
    const filling = reader.fill(Buffer.alloc(10));
    source.destroy(new Error('client went away'));
    await expect(filling).rejects.toThrow('client went away');
  });
});
