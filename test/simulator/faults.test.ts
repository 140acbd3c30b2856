import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { DEMO_API_KEY, parseFaultSpec, type Simulator } from '../../src/simulator/index.js';
import { call, REVISION, small } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.clearLog();
});

/** Raw GET that reports socket errors and the bytes received. */
function raw(path: string): Promise<{ status?: number; bytes: number; length?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request(
      `${sim.baseUrl}${path}`,
      { headers: { Authorization: `Klaviyo-API-Key ${DEMO_API_KEY}`, revision: REVISION } },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, bytes, length: Number(res.headers['content-length']) }),
        );
        res.on('error', (e) => resolve({ status: res.statusCode, bytes, error: e.message }));
        res.on('aborted', () => resolve({ status: res.statusCode, bytes, error: 'aborted' }));
      },
    );
    req.on('error', (e) => resolve({ bytes: 0, error: e.message }));
    req.end();
  });
}

test('fault spec grammar', () => {
  expect(
    parseFaultSpec(
      '503x3@events,429-no-retry-after@profiles,reset@events:p=0.05,truncate,slow:5000,html403,expire-cursor',
    ),
  ).toEqual([
    { kind: 'status', status: 503, count: 3, endpoint: 'events' },
    { kind: '429-no-retry-after', endpoint: 'profiles' },
    { kind: 'reset', endpoint: 'events', p: 0.05 },
    { kind: 'truncate' },
    { kind: 'slow', delayMs: 5000 },
    { kind: 'html403' },
    { kind: 'expire-cursor' },
  ]);
  expect(parseFaultSpec('500@flows:at=2+4')).toEqual([
    { kind: 'status', status: 500, endpoint: 'flows', atRequest: [2, 4] },
  ]);
  expect(() => parseFaultSpec('teapot')).toThrow(/unknown kind/);
  expect(() => parseFaultSpec('503@nowhere')).toThrow(/unknown endpoint/);
});

test('5xx burst: next N requests to the endpoint, others untouched', async () => {
  sim.addFault('503x2@events');
  expect((await call(sim, '/api/profiles')).status).toBe(200);
  expect((await call(sim, '/api/events')).status).toBe(503);
  expect((await call(sim, '/api/events')).status).toBe(503);
  expect((await call(sim, '/api/events')).status).toBe(200);
  sim.addFault({ kind: 'status', status: 504, endpoint: 'events', atRequest: [2] });
  expect((await call(sim, '/api/events')).status).toBe(200);
  expect((await call(sim, '/api/events')).status).toBe(504);
  expect(
    sim
      .requestLog()
      .filter((e) => e.fault !== null)
      .map((e) => e.fault),
  ).toEqual(['status:503', 'status:503', 'status:504']);
});

test('429 without Retry-After', async () => {
  sim.addFault('429-no-retry-after@profiles');
  const r = await call(sim, '/api/profiles');
  expect(r.status).toBe(429);
  expect(r.headers.get('retry-after')).toBeNull();
  expect(r.body.errors[0].code).toBe('throttled');
  sim.addFault('429:3');
  const r2 = await call(sim, '/api/lists');
  expect(r2.headers.get('retry-after')).toBe('3');
});

test('connection reset mid-body and truncated JSON', async () => {
  sim.addFault('reset@events');
  const reset = await raw('/api/events');
  expect(reset.error).toBeDefined();
  sim.addFault('truncate@events');
  const cut = await raw('/api/events');
  expect(cut.status).toBe(200);
  expect(cut.bytes).toBe(cut.length);
  const t = await call(sim, '/api/events');
  expect(t.status).toBe(200);
  sim.addFault('truncate');
  const bad = await call(sim, '/api/lists');
  expect(bad.body).toBeNull();
  expect(() => JSON.parse(bad.text)).toThrow();
});

test('slow response exceeds a client timeout', async () => {
  sim.addFault('slow:2000@metrics');
  const started = Date.now();
  await expect(
    fetch(`${sim.baseUrl}/api/metrics`, {
      headers: { Authorization: `Klaviyo-API-Key ${DEMO_API_KEY}`, revision: REVISION },
      signal: AbortSignal.timeout(300),
    }),
  ).rejects.toThrow();
  expect(Date.now() - started).toBeLessThan(1500);
});

test('Cloudflare-like HTML 403', async () => {
  sim.addFault('html403');
  const r = await call(sim, '/api/events');
  expect(r.status).toBe(403);
  expect(r.headers.get('content-type')).toMatch(/^text\/html/);
  expect(r.headers.get('cf-mitigated')).toBe('challenge');
  expect(r.text).toContain('<html');
});

test('expiring cursor: only requests with page[cursor] are hit', async () => {
  sim.addFault('expire-cursor@events');
  const first = await call(sim, '/api/events', { 'page[size]': '10' });
  expect(first.status).toBe(200);
  const u = new URL(first.body.links.next);
  const r = await call(sim, u.pathname, Object.fromEntries(u.searchParams));
  expect(r.status).toBe(400);
  expect(r.body.errors[0]).toMatchObject({
    code: 'invalid',
    detail: 'Invalid cursor provided',
    source: { parameter: 'page[cursor]' },
  });
  expect((await call(sim, u.pathname, Object.fromEntries(u.searchParams))).status).toBe(200);
});

test('probabilistic faults are deterministic from the seed', async () => {
  const run = async () => {
    const s = await small({ faults: '500@lists:p=0.3' });
    try {
      const out: number[] = [];
      for (let k = 0; k < 20; k++) out.push((await call(s, '/api/lists')).status);
      return out;
    } finally {
      await s.close();
    }
  };
  const a = await run();
  expect(a).toEqual(await run());
  expect(a.filter((x) => x === 500).length).toBeGreaterThan(0);
  expect(a.filter((x) => x === 200).length).toBeGreaterThan(0);
});

test('request log: method, path, query, status, in-flight, redacted key', async () => {
  sim.addFault('slow:300@templates');
  await Promise.all([call(sim, '/api/templates', { sort: 'name' }), call(sim, '/api/templates')]);
  const log = sim.requestLog();
  expect(log).toHaveLength(2);
  expect(log.map((e) => e.inFlightAtStart).sort()).toEqual([0, 1]);
  const sorted = log.find((e) => e.query.sort === 'name');
  expect(sorted).toMatchObject({
    method: 'GET',
    path: '/api/templates',
    status: 200,
    endpoint: 'templates',
    revision: REVISION,
  });
  expect(sorted?.apiKey).toBe(`***${DEMO_API_KEY.slice(-4)}`);
  expect(JSON.stringify(log)).not.toContain(DEMO_API_KEY);
});
