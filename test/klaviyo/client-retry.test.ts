import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { KlaviyoClientEvent } from '../../src/klaviyo/client.js';
import type { Resource } from '../../src/klaviyo/json-api.js';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../src/klaviyo/retry-policy.js';
import { InstantClock } from '../support/clocks.js';
import { apiError, event, sendJson } from '../support/http-server.js';
import { klaviyoTestbed } from '../support/klaviyo-client.js';

const bed = klaviyoTestbed({ apiKey: 'pk_retry_0123456789abcdef', random: () => 0.5 });

function setup(
  baseUrl: string,
  extra: { timeoutMs?: number; maxRetries?: number; random?: () => number } = {},
) {
  const clock = new InstantClock();
  const events: KlaviyoClientEvent[] = [];
  const client = bed.client(baseUrl, { clock, onEvent: (e) => events.push(e), ...extra });
  return { clock, events, client };
}

const ok = { data: [event('a')], links: { next: null } };

describe('retries', () => {
  it('429 with Retry-After pauses that long, then succeeds', async () => {
    const arrivals: number[] = [];
    let clockRef: InstantClock | undefined;
    const server = await bed.serve((req, res) => {
      arrivals.push(clockRef?.now() ?? 0);
      if (req.n === 1)
        sendJson(res, 429, apiError(429, 'throttled', 'Request was throttled.'), { 'retry-after': '7' });
      else sendJson(res, 200, ok);
    });
    const { clock, events, client } = setup(server.baseUrl);
    clockRef = clock;
    const doc = await client.get('/api/events');
    expect(doc.data).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(7000);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeLessThan(7300);
    expect(events.filter((e) => e.type === 'throttle')).toHaveLength(1);
    expect(client.stats()).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
  });

  it('429 without Retry-After uses "Expected available in N seconds", else backs off', async () => {
    let clockRef: InstantClock | undefined;
    const arrivals: number[] = [];
    const server = await bed.serve((req, res) => {
      arrivals.push(clockRef?.now() ?? 0);
      if (req.n === 1)
        sendJson(
          res,
          429,
          apiError(429, 'throttled', 'Request was throttled. Expected available in 3 seconds.'),
        );
      else if (req.n === 2) sendJson(res, 429, apiError(429, 'throttled', 'Request was throttled.'));
      else sendJson(res, 200, ok);
    });
    const { clock, client } = setup(server.baseUrl, { random: () => 0.99 });
    clockRef = clock;
    await client.get('/api/events');
    expect(server.requests).toHaveLength(3);
    const first = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
    const second = (arrivals[2] ?? 0) - (arrivals[1] ?? 0);
    expect(first).toBeGreaterThanOrEqual(3000);
    expect(first).toBeLessThan(3300);
    // backoff for the 2nd throttle: full jitter up to 500·2 ms
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThanOrEqual(1000);
    expect(client.stats().throttled).toBe(2);
  });

  it('503 three times, then success', async () => {
    const server = await bed.serve((req, res) => {
      if (req.n <= 3) sendJson(res, 503, apiError(503, 'error', 'Service unavailable'));
      else sendJson(res, 200, ok);
    });
    const { clock, events, client } = setup(server.baseUrl);
    await client.get('/api/events');
    expect(server.requests).toHaveLength(4);
    // full jitter with random 0.5: 250, 500, 1000 ms
    expect(clock.sleeps).toEqual([250, 500, 1000]);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e.type === 'retry' ? e.attempt : 0))).toEqual(
      [1, 2, 3],
    );
    expect(client.stats()).toMatchObject({ requests: 4, retries: 3, throttled: 0 });
  });

  it('a connection reset in the middle of the body is retried', async () => {
    const server = await bed.serve((req, res) => {
      if (req.n === 1) {
        res.writeHead(200, { 'content-type': 'application/vnd.api+json', 'content-length': '5000' });
        res.write('{"data":[{"type":"event","id":"a"');
        setTimeout(() => res.socket?.destroy(), 10);
      } else sendJson(res, 200, ok);
    });
    const { client } = setup(server.baseUrl);
    const doc = await client.get('/api/events');
    expect(doc.data).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
    expect(client.stats().retries).toBe(1);
  });

  it('a truncated JSON body of a 200 is retried', async () => {
    const server = await bed.serve((req, res) => {
      if (req.n === 1) {
        const text = '{"data":[{"type":"event","id":"a","attr';
        res.writeHead(200, {
          'content-type': 'application/vnd.api+json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      } else sendJson(res, 200, ok);
    });
    const { events, client } = setup(server.baseUrl);
    await client.get('/api/events');
    expect(server.requests).toHaveLength(2);
    const retry = events.find((e) => e.type === 'retry');
    expect(retry?.type === 'retry' && retry.reason).toMatch(/truncated or invalid JSON/);
  });

  it('a chunked gzip body that does not inflate is retried as a bad body', async () => {
    const page = { data: Array.from({ length: 200 }, (_, i) => event(`e${i}`)), links: { next: null } };
    const server = await bed.serve(async (req, res) => {
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
    const { events, client } = setup(server.baseUrl);
    const doc = await client.get('/api/events');
    expect((doc.data as Resource[]).map((r) => r.id)).toEqual(page.data.map((r) => r.id));
    expect(server.requests).toHaveLength(2);
    const retries = events.flatMap((e) => (e.type === 'retry' ? [e.reason] : []));
    expect(retries).toEqual([expect.stringMatching(/does not decompress \(Z_DATA_ERROR\)/)]);
  });

  it('a request that times out is retried', async () => {
    const server = await bed.serve((req, res) => {
      if (req.n === 1) return; // never answer
      sendJson(res, 200, ok);
    });
    const { events, client } = setup(server.baseUrl, { timeoutMs: 150 });
    const started = Date.now();
    await client.get('/api/events');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.requests).toHaveLength(2);
    const retry = events.find((e) => e.type === 'retry');
    expect(retry?.type === 'retry' && retry.reason).toMatch(/timed out after 150 ms/);
  });

  it('gives up after maxRetries and lists the attempts and the last cause', async () => {
    const server = await bed.serve((_req, res) =>
      sendJson(res, 502, apiError(502, 'bad_gateway', 'upstream down')),
    );
    const { client } = setup(server.baseUrl, { maxRetries: 2 });
    const error = await client.get('/api/events').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KLAVIYO_RETRIES_EXHAUSTED', kind: 'ingestion' });
    const message = (error as Error).message;
    expect(message).toMatch(/after 3 attempts/);
    expect(message).toMatch(/attempt 1: 502 Bad Gateway: "upstream down"; attempt 2: .*; attempt 3: /);
    expect(message).toMatch(/Last cause: 502 Bad Gateway/);
    expect(server.requests).toHaveLength(3);
  });
});

describe('retry policy', () => {
  it('backoff is full jitter, capped', () => {
    expect(backoffDelay(1, () => 0.999)).toBe(499);
    expect(backoffDelay(3, () => 0.5)).toBe(1000);
    expect(backoffDelay(20, () => 0.999)).toBe(29970);
    expect(backoffDelay(4, () => 0)).toBe(0);
  });

  it('Retry-After wins and is capped', () => {
    expect(retryDelay(1, () => 0, 5000)).toBe(5000);
    expect(retryDelay(1, () => 0, 10 * 60_000)).toBe(120_000);
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeNull();
  });
});
