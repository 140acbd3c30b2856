/**
 * Reads an HTTP response body into bytes as its chunks arrive, inflating gzip, deflate or brotli on
 * the way. The bytes are copied into a buffer this module lends out and takes back once the body has
 * been read (`release`): a page is ~1 MB, and a fresh buffer of that size per page is a fresh mapping
 * that the kernel zeroes and page-faults in, then unmaps again (see docs/MEMORY.md). Text is decoded
 * only where it is needed (json-bytes.ts parses a page from the bytes).
 */

import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/** The body was received but does not inflate with its Content-Encoding. */
export class BodyDecodeError extends Error {
  constructor(
    readonly wireBytes: number,
    cause: unknown,
  ) {
    super('undecodable compressed body', { cause });
    this.name = 'BodyDecodeError';
  }
}

/** A failure while receiving the body (connection reset, timeout): the original error, unwrapped by the caller. */
class WireError extends Error {
  constructor(readonly original: unknown) {
    super('response body read failed');
  }
}

/** A body as received; `bytes` is valid until `release()`. */
export interface ResponseBytes {
  /** The (inflated) body. */
  bytes: Buffer;
  /** Bytes as received, before inflating. */
  wireBytes: number;
  /** Gives the buffer back for the next body; `bytes` must not be used after. Safe to call twice. */
  release(): void;
}

/**
 * The body's bytes. Throws the transport's own error when receiving fails and `BodyDecodeError` when
 * the received bytes do not inflate. An unknown encoding is read as it is (as before: identity).
 */
export async function readResponseBytes(
  body: AsyncIterable<Buffer>,
  contentEncoding: string | undefined,
): Promise<ResponseBytes> {
  const sink = new BodySink();
  let wireBytes = 0;
  const inflater = inflaterFor(contentEncoding);
  try {
    if (inflater === null) {
      for await (const chunk of body) {
        wireBytes += chunk.length;
        sink.write(chunk);
      }
      return sink.finish(wireBytes);
    }
    const received = async function* () {
      try {
        for await (const chunk of body) {
          wireBytes += chunk.length;
          yield chunk;
        }
      } catch (error) {
        throw new WireError(error);
      }
    };
    try {
      await pipeline(received, inflater, async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) sink.write(chunk);
      });
    } catch (error) {
      if (error instanceof WireError) throw error.original;
      throw new BodyDecodeError(wireBytes, error);
    }
    return sink.finish(wireBytes);
  } catch (error) {
    sink.abandon();
    throw error;
  }
}

/** Buffers kept for the next bodies: as many as pages are usually in flight at once. */
const SPARE_LIMIT = 8;
/** The first buffer's size; a body that outgrows a buffer moves to one twice its size. */
const FIRST_SIZE = 64 * 1024;
/** Bodies larger than this do not go back to the spares (a rare huge answer is not kept for ever). */
const KEEP_LIMIT = 8 * 1024 * 1024;
const spares: Buffer[] = [];

function borrow(size: number): Buffer {
  for (let i = spares.length - 1; i >= 0; i--) {
    if (spares[i]!.length >= size) return spares.splice(i, 1)[0]!;
  }
  return Buffer.allocUnsafeSlow(size);
}

function giveBack(buffer: Buffer): void {
  if (buffer.length > KEEP_LIMIT) return;
  if (spares.length >= SPARE_LIMIT) {
    // Keep the larger buffers: they serve every body, small ones only small bodies.
    let smallest = 0;
    for (let i = 1; i < spares.length; i++) if (spares[i]!.length < spares[smallest]!.length) smallest = i;
    if (spares[smallest]!.length >= buffer.length) return;
    spares.splice(smallest, 1);
  }
  spares.push(buffer);
}

/** One body's bytes, written into borrowed buffers as they arrive. */
class BodySink {
  private buffer: Buffer | null = null;
  private length = 0;

  write(chunk: Buffer): void {
    const needed = this.length + chunk.length;
    if (this.buffer === null || needed > this.buffer.length) {
      const next = borrow(Math.max(needed, FIRST_SIZE, (this.buffer?.length ?? 0) * 2));
      if (this.buffer !== null) {
        this.buffer.copy(next, 0, 0, this.length);
        giveBack(this.buffer);
      }
      this.buffer = next;
    }
    chunk.copy(this.buffer, this.length);
    this.length = needed;
  }

  finish(wireBytes: number): ResponseBytes {
    const buffer = this.buffer;
    this.buffer = null;
    let released = false;
    return {
      bytes: buffer === null ? Buffer.alloc(0) : buffer.subarray(0, this.length),
      wireBytes,
      release: () => {
        if (released || buffer === null) return;
        released = true;
        giveBack(buffer);
      },
    };
  }

  abandon(): void {
    if (this.buffer !== null) giveBack(this.buffer);
    this.buffer = null;
  }
}

function inflaterFor(contentEncoding: string | undefined) {
  switch ((contentEncoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}
