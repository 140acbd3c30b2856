import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createKlaviyoClient,
  type KlaviyoClient,
  type KlaviyoClientEvent,
} from '../../src/klaviyo/client.js';
import type { Resource } from '../../src/klaviyo/json-api.js';
import { RateLimiterRegistry } from '../../src/klaviyo/rate-limiter.js';
import { BodyDecodeError, readResponseText } from '../../src/klaviyo/response-body.js';
import { InstantClock } from './support/clocks.js';
import { event, sendJson, startServer, type TestServer } from './support/server.js';

/** A body of `size`-byte chunks, as a socket delivers it. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

// Multi-byte characters (2, 3 and 4 bytes in UTF-8) so that chunk boundaries split them.
const TEXT = JSON.stringify({
  data: Array.from({ length: 300 }, (_, i) => ({ id: `é${i}`, name: `名前 ${i} 🚀` })),
});

describe('readResponseText', () => {
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
      const read = await readResponseText(chunked(wire, 7), encoding);
      expect(read.text).toBe(TEXT);
      expect(read.wireBytes).toBe(wire.length);
    },
  );

  it('reads an unknown encoding as it is', async () => {
    const read = await readResponseText(chunked(Buffer.from('{"a":1}'), 3), 'zstd-unknown');
    expect(read.text).toBe('{"a":1}');
  });

  it('a body that does not inflate is a BodyDecodeError with the bytes received', async () => {
    const wire = Buffer.concat([gzipSync(Buffer.from(TEXT)).subarray(0, 40), Buffer.from('not gzip at all')]);
    const failure = await readResponseText(chunked(wire, 16), 'gzip').catch((e: unknown) => e);
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
      const failure = await readResponseText(broken(wire), encoding).catch((e: unknown) => e);
      expect(failure).toBe(reset);
    }
  });
});

describe('client bodies over HTTP', () => {
  let server: TestServer | undefined;
  let client: KlaviyoClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  const makeClient = (baseUrl: string, onEvent?: (e: KlaviyoClientEvent) => void) => {
    const clock = new InstantClock();
    return createKlaviyoClient({
      apiKey: 'pk_body_0123456789abcdef',
      revision: '2026-07-15',
      baseUrl,
      clock,
      random: () => 0,
      limiter: new RateLimiterRegistry(clock),
      ...(onEvent ? { onEvent } : {}),
    });
  };

  it('a chunked gzip page is decoded; a corrupt one is retried as a bad body', async () => {
    const page = { data: Array.from({ length: 200 }, (_, i) => event(`e${i}`)), links: { next: null } };
    server = await startServer(async (req, res) => {
      const wire = gzipSync(JSON.stringify(page));
      res.writeHead(200, { 'content-type': 'application/vnd.api+json', 'content-encoding': 'gzip' });
      // Several writes without a content-length: the client sees a chunked body.
      const body = req.n === 1 ? Buffer.concat([wire.subarray(0, 100), Buffer.alloc(50, 7)]) : wire;
      for (let at = 0; at < body.length; at += 512) {
        res.write(body.subarray(at, at + 512));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
    const retries: string[] = [];
    client = makeClient(server.baseUrl, (e) => {
      if (e.type === 'retry') retries.push(e.reason);
    });
    const doc = await client.get('/api/events');
    expect((doc.data as Resource[]).map((r) => r.id)).toEqual(page.data.map((r) => r.id));
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([expect.stringMatching(/does not decompress \(Z_DATA_ERROR\)/)]);
  });

  it('an identity body keeps its byte count in the stats', async () => {
    const page = { data: [event('a')], links: { next: null } };
    server = await startServer((_req, res) => sendJson(res, 200, page));
    client = makeClient(server.baseUrl);
    await client.get('/api/events');
    expect(client.stats().bytes).toBe(Buffer.byteLength(JSON.stringify(page)));
  });
});
