/**
 * Reads an HTTP response body into text as its chunks arrive, inflating gzip, deflate or brotli on
 * the way, so a page never exists as one joined buffer (1-2 MB at 1,000 events) next to its text.
 *
 * Large malloc blocks are what glibc handles worst: freeing one raises its mmap threshold to that
 * size, after which blocks up to it come from its heaps, where freed space stays resident. Chunks stay
 * at the socket's read size. Measured on 2,000,000 uncached events (one run each): peak RSS 342 ->
 * 294 MB, median 248 -> 233 MB, same rows/s. (DuckDB's checkpoints still free 10-13 MB blocks; see
 * src/cli/runtime-tuning.ts.)
 */

import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
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

export interface ResponseText {
  text: string;
  /** Bytes as received, before inflating. */
  wireBytes: number;
}

/**
 * The body's text. Throws the transport's own error when receiving fails and `BodyDecodeError` when
 * the received bytes do not inflate. An unknown encoding is read as it is (as before: identity).
 */
export async function readResponseText(
  body: AsyncIterable<Buffer>,
  contentEncoding: string | undefined,
): Promise<ResponseText> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let wireBytes = 0;
  const inflater = inflaterFor(contentEncoding);
  if (inflater === null) {
    for await (const chunk of body) {
      wireBytes += chunk.length;
      text += decoder.write(chunk);
    }
    return { text: text + decoder.end(), wireBytes };
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
      for await (const chunk of inflated) text += decoder.write(chunk);
    });
  } catch (error) {
    if (error instanceof WireError) throw error.original;
    throw new BodyDecodeError(wireBytes, error);
  }
  return { text: text + decoder.end(), wireBytes };
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
