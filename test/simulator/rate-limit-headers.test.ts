import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, small } from './helpers.js';

const A = 'pk_rate_headers_key_a_0000000000aaaa';
const B = 'pk_rate_headers_key_b_0000000000bbbb';
const WARM = 'pk_rate_headers_key_w_0000000000wwww';

let sim: Simulator;
let wall = Date.UTC(2030, 0, 1, 0, 0, 30);
beforeAll(async () => {
  sim = await small({
    apiKeys: [A, B, WARM],
    rateLimits: 'real',
    rateLimitOverrides: { events: { burst: 100, steady: 3 } },
    rateLimitWindows: 'first-request',
    rateLimitHeaders: (key) => key !== B,
    unlimitedKeys: [WARM],
    wallClock: () => wall,
  });
});
afterAll(() => sim.close());

const events = (key: string, query: Record<string, string> = {}) => call(sim, '/api/events', query, { key });

test('every answer but a 429 carries RateLimit-*; windows start at each key first request', async () => {
  const first = await events(A);
  expect(first.status).toBe(200);
  expect(first.headers.get('ratelimit-limit')).toBe('3, 100;w=1, 3;w=60');
  expect(first.headers.get('ratelimit-remaining')).toBe('2');
  // The key's minute started with its first request, not on the clock's minute.
  expect(first.headers.get('ratelimit-reset')).toBe('60');
  wall += 1000;
  // A 400 counted against the limits says so too.
  const bad = await events(A, { 'page[cursor]': 'not-a-cursor' });
  expect(bad.status).toBe(400);
  expect(bad.headers.get('ratelimit-remaining')).toBe('1');
  expect((await events(A)).headers.get('ratelimit-remaining')).toBe('0');
  const throttled = await events(A);
  expect(throttled.status).toBe(429);
  expect(throttled.headers.get('retry-after')).toBe('59');
  expect(throttled.headers.get('ratelimit-remaining')).toBeNull();
  wall += 59_000;
  expect((await events(A)).status).toBe(200);
});

test('a key can be served without the headers; an unlimited key is never throttled', async () => {
  const b = await events(B);
  expect(b.status).toBe(200);
  expect(b.headers.get('ratelimit-limit')).toBeNull();
  for (let i = 0; i < 5; i++) expect((await events(WARM)).status).toBe(200);
});
