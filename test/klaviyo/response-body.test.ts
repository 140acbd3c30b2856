import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyDecodeError, readResponseBytes } from '../../src/klaviyo/response-body.js';

/** A body of `size`-byte chunks, as a socket delivers it. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

// Multi-byte characters (2, 3 and 4 bytes in UTF-8) so that chunk boundaries split them.
const TEXT = JSON.stringify({
  data: Array.from({ length: 300 }, (_, i) => ({ id: `é${i}`, name: `名前 ${i} 🚀` })),
});

describe('readResponseBytes', () => {
  it.each([
    ['identity', undefined, (b: Buffer) => b],
    ['gzip', 'gzip', gzipSync],
    ['x-gzip', 'X-Gzip', gzipSync],
    ['deflate', 'deflate', deflateSync],
    ['brotli', 'br', brotliCompressSync],
  ])(
    'reads a %s body split into 7-byte chunks, characters cut in half included',
    async (_name, encoding, encode) => {
      const wire = encode(Buffer.from(TEXT, 'utf8'));
      const read = await readResponseBytes(chunked(wire, 7), encoding);
      expect(read.bytes.toString('utf8')).toBe(TEXT);
      expect(read.wireBytes).toBe(wire.length);
    },
  );

  it('reads an unknown encoding as it is', async () => {
    const read = await readResponseBytes(chunked(Buffer.from('{"a":1}'), 3), 'zstd-unknown');
    expect(read.bytes.toString('utf8')).toBe('{"a":1}');
  });

  it('a body that does not inflate is a BodyDecodeError with the bytes received', async () => {
    const wire = Buffer.concat([gzipSync(Buffer.from(TEXT)).subarray(0, 40), Buffer.from('not gzip at all')]);
    const failure = await readResponseBytes(chunked(wire, 16), 'gzip').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(BodyDecodeError);
    expect((failure as BodyDecodeError).wireBytes).toBe(wire.length);
    expect((failure as BodyDecodeError).cause).toMatchObject({ code: 'Z_DATA_ERROR' });
  });

  it('a failure while receiving is the transport error itself, compressed or not', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    async function* broken(wire: Buffer): AsyncGenerator<Buffer> {
      yield wire.subarray(0, 20);
      throw reset;
    }
    for (const [wire, encoding] of [
      [Buffer.from(TEXT), undefined],
      [gzipSync(Buffer.from(TEXT)), 'gzip'],
    ] as const) {
      const failure = await readResponseBytes(broken(wire), encoding).catch((e: unknown) => e);
      expect(failure).toBe(reset);
    }
  });

  it("lends buffers out and takes them back: a released body's buffer serves the next, a held one is never reused", async () => {
    const first = await readResponseBytes(chunked(Buffer.from(TEXT), 1000), undefined);
    const held = await readResponseBytes(chunked(Buffer.from(TEXT.toUpperCase()), 1000), undefined);
    expect(held.bytes.buffer).not.toBe(first.bytes.buffer);
    first.release();
    first.release(); // twice is harmless: the buffer is not lent out twice
    const next = await readResponseBytes(chunked(Buffer.from('{"b":2}'), 3), undefined);
    const other = await readResponseBytes(chunked(Buffer.from('{"c":3}'), 3), undefined);
    expect(next.bytes.buffer).toBe(first.bytes.buffer);
    expect(other.bytes.buffer).not.toBe(first.bytes.buffer);
    expect(next.bytes.toString()).toBe('{"b":2}');
    expect(other.bytes.toString()).toBe('{"c":3}');
    expect(held.bytes.toString()).toBe(TEXT.toUpperCase());
    for (const read of [held, next, other]) read.release();
  });

  it('a body that outgrows its buffer keeps every byte (moved to a larger one)', async () => {
    const big = Buffer.from(TEXT.repeat(40));
    expect(big.length).toBeGreaterThan(4 * 64 * 1024);
    const read = await readResponseBytes(chunked(big, 10_000), undefined);
    expect(read.bytes.equals(big)).toBe(true);
    read.release();
  });
});
