import { describe, expect, it } from 'vitest';
import { bucketsFor, normalizeEndpoint } from '../../src/klaviyo/limits.js';
import { parseRateLimitLimit, RateLimiter, RateLimiterRegistry } from '../../src/klaviyo/rate-limiter.js';
import { startSimulator } from '../../src/simulator/index.js';
import { systemClock } from '../../src/util/clock.js';
import { ManualClock } from '../support/clocks.js';
import { apiError, event, sendJson } from '../support/http-server.js';
import { klaviyoTestbed } from '../support/klaviyo-client.js';

const KEY = 'pk_limits_0123456789abcdef';
const bed = klaviyoTestbed({ apiKey: KEY });

/** The largest number of times inside any window of `windowMs` (half-open). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('RateLimiter (pure)', () => {
  it('spends the whole burst at once, then keeps both windows', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 5, steadyPerMinute: 20 }, clock);
    const granted: number[] = [];
    const all = Promise.all(
      Array.from({ length: 40 }, () => limiter.acquire().then(() => granted.push(clock.now()))),
    );
    await clock.drive(all, () => true);
    const t0 = granted[0] as number;
    expect(granted.slice(0, 5).every((t) => t === t0)).toBe(true);
    expect(maxInWindow(granted, 1000)).toBe(5);
    expect(maxInWindow(granted, 60_000)).toBe(20);
    // Full use of the budget: the 21st request goes out as soon as the minute allows.
    expect((granted[20] as number) - t0).toBeLessThan(61_000);
    expect((granted[39] as number) - t0).toBeLessThan(65_000);
  });

  it('a pause holds every waiter; abort removes a waiter', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 100, steadyPerMinute: 1000 }, clock);
    const t0 = clock.now();
    limiter.pause(5000);
    const times: number[] = [];
    const ac = new AbortController();
    const aborted = limiter.acquire(ac.signal).catch((e: unknown) => e);
    const a = limiter.acquire().then(() => times.push(clock.now() - t0));
    const b = limiter.acquire().then(() => times.push(clock.now() - t0));
    ac.abort(new Error('stop'));
    await clock.drive(Promise.all([a, b]), () => true);
    expect(times).toEqual([5000, 5000]);
    expect(await aborted).toMatchObject({ message: 'stop' });
  });

  it('slows down when the server reports fewer remaining than we think', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 100, steadyPerMinute: 1000 }, clock);
    const t0 = clock.now();
    await limiter.acquire();
    limiter.observeHeaders({ limit: '1000', remaining: '2', reset: '30' });
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 4 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    // The reset is whole seconds rounded up, so the window may end as late as that (and a margin).
    expect(times).toEqual([0, 0, 30_050, 30_050]);
  });

  it('once the headers say the window is spent, waits for its reset, then spends the new one at once', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    await limiter.acquire();
    limiter.observeHeaders({ limit: '10, 100;w=1, 10;w=60', remaining: '3', reset: '20' });
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 100, steadyPerMinute: 10 });
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 15 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    // 3 left in this window; the next window's 10 as it opens (not as our own grants age out); then the one after.
    expect(times).toEqual([0, 0, 0, ...Array(10).fill(20_050), 80_050, 80_050]);
    expect(limiter.budget()).toMatchObject({ steadyRemaining: 8, source: 'headers' });
  });

  it('a remaining count from a response counted earlier never raises what we think is left', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 100, steadyPerMinute: 100 }, clock);
    limiter.observeHeaders({ limit: '100', remaining: '40', reset: '30' }, 2);
    expect(limiter.budget().steadyRemaining).toBe(38);
    limiter.observeHeaders({ limit: '100', remaining: '60', reset: '30' });
    expect(limiter.budget().steadyRemaining).toBe(38);
    expect(limiter.budget().msToSteadyReset).toBe(30_050);
  });

  it('without headers, learns the steady limit and its window from a 429 with a long Retry-After', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    for (let i = 0; i < 31; i++) await limiter.acquire();
    clock.advanceTo(clock.now() + 400);
    // The 31st was throttled: 30 were served in this minute, which ends in 25 s. The burst the
    // server never objected to is assumed to be a fifteenth of that.
    limiter.observeThrottle(25_000);
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 2, steadyPerMinute: 30 });
    expect(limiter.budget()).toMatchObject({ steadyRemaining: 0, source: 'learned' });
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 31 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    expect(times[0]).toBe(25_450);
    expect(maxInWindow(times, 1000)).toBe(2);
    // 30 in the window that opens at the reset, the 31st only in the next one.
    expect(times.filter((t) => t < 85_450)).toHaveLength(30);
    expect(times[30]).toBeGreaterThanOrEqual(85_450);
  });

  it('a 429 after fewer requests than any tier allows teaches nothing (another client spent the budget)', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    void limiter.acquire();
    limiter.observeThrottle(30_000);
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 350, steadyPerMinute: 3500 });
  });

  it('with headers, a 429 teaches no limit, short or long', async () => {
    const clock = new ManualClock();
    const told = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    told.observeHeaders({ limit: '3500, 350;w=1, 3500;w=60', remaining: '3000', reset: '40' });
    for (let i = 0; i < 30; i++) await told.acquire();
    told.observeThrottle(1000, clock.now());
    expect(told.getLimits()).toEqual({ burstPerSecond: 350, steadyPerMinute: 3500 });
    told.observeThrottle(20_000);
    expect(told.getLimits()).toEqual({ burstPerSecond: 350, steadyPerMinute: 3500 });
    expect(told.budget()).toMatchObject({ steadyRemaining: 0, msToSteadyReset: 20_050 });
  });

  it('without headers, short 429s cap the burst at what the server took, so the next seconds stay under it', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    // 14 sent at once into a server that takes 10 a second: 4 come back throttled, one by one.
    for (let i = 0; i < 14; i++) await limiter.acquire();
    clock.advanceTo(t0 + 400);
    limiter.observeThrottle(1000, t0);
    // What is known after the first: 13 served at most, and our second may reach into the server's
    // previous window, so one less.
    expect(limiter.getLimits().burstPerSecond).toBe(12);
    expect(limiter.budget().source).toBe('learned');
    for (let i = 0; i < 3; i++) limiter.observeThrottle(1000, t0);
    // The same episode (all sent before the cut): refined to 10 served, less one; not cut 4 times.
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 9, steadyPerMinute: 3500 });
    limiter.pause(1000);
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 40 }, () => limiter.acquire().then(() => times.push(clock.now()))),
    );
    await clock.drive(all, () => true);
    expect(maxInWindow(times, 1000)).toBe(9);
    expect((times[0] as number) - t0).toBe(1400);
  });

  it('a 429 of a request sent after the cut cuts again, never below half of what was sent in its second', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    for (let i = 0; i < 12; i++) await limiter.acquire();
    clock.advanceTo(t0 + 300);
    limiter.observeThrottle(1000, t0);
    expect(limiter.getLimits().burstPerSecond).toBe(10);
    // Another client on the account takes the burst: all 10 of our next second come back throttled.
    clock.advanceTo(t0 + 1500);
    const t1 = clock.now();
    for (let i = 0; i < 10; i++) await limiter.acquire();
    clock.advanceTo(t1 + 300);
    for (let i = 0; i < 10; i++) limiter.observeThrottle(1000, t1);
    expect(limiter.getLimits().burstPerSecond).toBe(5);
  });

  it('a one-off 429 does not cut the rate for the whole run: it recovers while it binds', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 20, steadyPerMinute: 100_000 }, clock);
    const t0 = clock.now();
    for (let i = 0; i < 20; i++) await limiter.acquire();
    clock.advanceTo(t0 + 200);
    limiter.observeThrottle(1000, t0);
    expect(limiter.getLimits().burstPerSecond).toBe(18);
    // Demand above the limit for a minute, and no other 429.
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 1150 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    // The most granted within the limiter's window (a second and its margin) from second s on.
    const rateAt = (s: number) =>
      maxInWindow(
        times.filter((t) => t >= s * 1000 && t < (s + 3) * 1000),
        1050,
      );
    expect(rateAt(2)).toBe(18);
    // Raised by one after 10 s at the cap, and again after the next 10.
    expect(rateAt(15)).toBe(19);
    // Back at the configured limit, and the cap is gone.
    expect(rateAt(40)).toBe(20);
    expect(limiter.getLimits().burstPerSecond).toBe(20);
  });

  it('headers, once they come, win over a burst learned from 429s', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    for (let i = 0; i < 12; i++) await limiter.acquire();
    limiter.observeThrottle(1000, clock.now());
    expect(limiter.getLimits().burstPerSecond).toBe(10);
    limiter.observeHeaders({ limit: '700, 75;w=1, 700;w=60', remaining: '600', reset: '30' });
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 75, steadyPerMinute: 700 });
    expect(limiter.budget().source).toBe('headers');
  });

  it('with a learned burst and the steady limit unknown, past 9 bursts a minute requests go one answer at a time', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    limiter.observeLatency(1000);
    for (let i = 0; i < 4; i++) await limiter.acquire();
    clock.advanceTo(t0 + 500);
    limiter.observeThrottle(1000, t0);
    expect(limiter.getLimits().burstPerSecond).toBe(2);
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 34 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    // 2 a second while fewer than 9 x 2 were served this minute (3 of the first 4 were), then one
    // per answer (1 s) instead of 2 at once: fast enough still to reach 20 x 2 well within the minute.
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.slice(0, 13).some((g) => g === 0)).toBe(true);
    expect(gaps.slice(14)).toEqual(Array.from({ length: 19 }, () => 1000));
    // A steady 429 tells the limit: no more caution, the burst again.
    limiter.observeThrottle(30_000);
    expect(limiter.getLimits().burstPerSecond).toBe(2);
    clock.advanceTo(clock.now() + 31_000);
    const after: number[] = [];
    const more = Promise.all(
      Array.from({ length: 4 }, () => limiter.acquire().then(() => after.push(clock.now()))),
    );
    await clock.drive(more, () => true);
    expect(after[1]).toBe(after[0]);
  });

  it('the careful pace near an unknown steady limit still reaches 20 bursts before the minute ends', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter('k', { burstPerSecond: 350, steadyPerMinute: 3500 }, clock);
    const t0 = clock.now();
    limiter.observeLatency(8000); // answers too slow for one at a time to get far in a minute
    for (let i = 0; i < 4; i++) await limiter.acquire();
    clock.advanceTo(t0 + 500);
    limiter.observeThrottle(1000, t0);
    const times: number[] = [];
    const all = Promise.all(
      Array.from({ length: 37 }, () => limiter.acquire().then(() => times.push(clock.now() - t0))),
    );
    await clock.drive(all, () => true);
    // 40 granted in all (20 bursts of 2) by 55 s after the first, not one per 8 s answer.
    expect(times.at(-1)).toBeLessThanOrEqual(55_000);
    const gaps = times.slice(15).map((t, i) => t - (times[i + 14] as number));
    expect(gaps.every((g) => g > 1000 && g < 8000)).toBe(true);
  });

  it('keeps the mean response time for planning', () => {
    const limiter = new RateLimiter('k', { burstPerSecond: 10, steadyPerMinute: 100 }, new ManualClock());
    expect(limiter.budget().latencyMs).toBeNull();
    limiter.observeLatency(500);
    limiter.observeLatency(1000);
    expect(limiter.budget().latencyMs).toBe(600);
  });

  it('adopts RateLimit-Limit in both documented shapes', () => {
    expect(parseRateLimitLimit('3500')).toEqual({ steadyPerMinute: 3500 });
    expect(parseRateLimitLimit('350, 350;w=1, 3500;w=60')).toEqual({
      burstPerSecond: 350,
      steadyPerMinute: 3500,
    });
    expect(parseRateLimitLimit('')).toBeNull();
    const limiter = new RateLimiter('k', { burstPerSecond: 75, steadyPerMinute: 750 }, new ManualClock());
    limiter.observeHeaders({ limit: '3, 3;w=1, 60;w=60' });
    expect(limiter.getLimits()).toEqual({ burstPerSecond: 3, steadyPerMinute: 60 });
  });

  it('the registry shares one limiter per base URL, key and bucket', () => {
    const registry = new RateLimiterRegistry(new ManualClock());
    const limits = { burstPerSecond: 1, steadyPerMinute: 1 };
    const a = registry.get('http://h:1', 'pk_a_123456', '/api/events', limits);
    expect(registry.get('http://h:1/', 'pk_a_123456', '/api/events', limits)).toBe(a);
    expect(registry.get('http://h:1', 'pk_b_123456', '/api/events', limits)).not.toBe(a);
    expect(registry.get('http://h:2', 'pk_a_123456', '/api/events', limits)).not.toBe(a);
    expect(registry.get('http://h:1', 'pk_a_123456', '/api/profiles', limits)).not.toBe(a);
    expect(a.key).not.toContain('pk_a_123456');
  });

  it('maps endpoints to buckets, with the predictive-analytics bucket for profiles', () => {
    expect(normalizeEndpoint('/api/events/')).toBe('/api/events');
    expect(normalizeEndpoint('/api/profiles/01H7/relationships/lists')).toBe(
      '/api/profiles/{id}/relationships/lists',
    );
    expect(bucketsFor('/api/events', new URLSearchParams())).toEqual([
      { bucket: '/api/events', limits: { burstPerSecond: 350, steadyPerMinute: 3500 } },
    ]);
    const profiles = bucketsFor(
      '/api/profiles',
      new URLSearchParams('additional-fields[profile]=subscriptions,predictive_analytics'),
    );
    expect(profiles.map((b) => b.bucket)).toEqual(['/api/profiles', '/api/profiles#predictive_analytics']);
  });
});

describe('rate limiting over HTTP', () => {
  it('burst 5/s and steady 20/min: the server never sees more, 40 requests', async () => {
    const clock = new ManualClock();
    const arrivals: number[] = [];
    const server = await bed.serve((_req, res) => {
      arrivals.push(clock.now());
      sendJson(res, 200, { data: [event('a')], links: { next: null } });
    });
    let inFlight = 0;
    const client = bed.client(server.baseUrl, {
      clock,
      rateLimits: () => ({ burstPerSecond: 5, steadyPerMinute: 20 }),
      onEvent: (e) => {
        if (e.type === 'request') inFlight++;
        if (e.type === 'response') inFlight--;
      },
    });
    const t0 = clock.now();
    await clock.drive(
      Promise.all(Array.from({ length: 40 }, () => client.get('/api/flows'))),
      () => inFlight === 0,
    );
    expect(arrivals).toHaveLength(40);
    expect(maxInWindow(arrivals, 1000)).toBeLessThanOrEqual(5);
    expect(maxInWindow(arrivals, 60_000)).toBeLessThanOrEqual(20);
    // and it uses what is allowed: 20 in the first minute, the rest right after.
    expect(arrivals.filter((t) => t - t0 < 60_000)).toHaveLength(20);
    expect(Math.max(...arrivals) - t0).toBeLessThan(66_000);
  });

  it('with generous limits, N requests really are in flight at once', async () => {
    const N = 12;
    let active = 0;
    let peak = 0;
    const held: (() => void)[] = [];
    const server = await bed.serve((_req, res) => {
      active++;
      peak = Math.max(peak, active);
      const answer = () => {
        active--;
        sendJson(res, 200, { data: [event('a')], links: { next: null } });
      };
      held.push(answer);
      if (held.length === N) for (const f of held.splice(0)) f();
    });
    const clock = new ManualClock();
    const client = bed.client(server.baseUrl, { clock });
    const guard = setTimeout(() => {
      for (const f of held.splice(0)) f();
    }, 3000);
    await Promise.all(Array.from({ length: N }, () => client.get('/api/events')));
    clearTimeout(guard);
    expect(peak).toBe(N);
  });

  it('maxConcurrency caps requests in flight', async () => {
    let active = 0;
    let peak = 0;
    const server = await bed.serve((_req, res) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        sendJson(res, 200, { data: [], links: { next: null } });
      }, 20);
    });
    const clock = new ManualClock();
    const client = bed.client(server.baseUrl, { clock, maxConcurrency: 3 });
    await Promise.all(Array.from({ length: 9 }, () => client.get('/api/events')));
    expect(peak).toBe(3);
  });

  it('without RateLimit headers, 429s teach the burst: none after the first second', async () => {
    const sim = await startSimulator({
      seed: 3,
      now: Date.UTC(2026, 0, 1),
      start: Date.UTC(2025, 11, 1),
      events: 200,
      profiles: 10,
      apiKeys: [KEY],
      rateLimits: 'real',
      rateLimitOverrides: { events: { burst: 10, steady: 1000 } },
      rateLimitWindows: 'first-request',
      rateLimitHeaders: false,
      latencyMs: 60,
    });
    try {
      const client = bed.client(sim.baseUrl, { clock: systemClock, maxConcurrency: 14 });
      await Promise.all(Array.from({ length: 28 }, () => client.get('/api/events', { 'page[size]': '1' })));
      const log = sim.requestLog().filter((e) => e.endpoint === 'events');
      const t0 = Math.min(...log.map((e) => e.startedAt));
      const throttled = log.filter((e) => e.status === 429);
      // 14 at once into a burst of 10, and more as answers come back until the first 429 does: the
      // server's first second (its windows start at the first request) throttles those; from the
      // next on, the client keeps under the burst it learned.
      expect(throttled.length).toBeGreaterThan(0);
      expect(throttled.every((e) => e.startedAt - t0 < 1000)).toBe(true);
      const later = log.filter((e) => e.startedAt - t0 >= 1000).map((e) => e.startedAt);
      expect(maxInWindow(later, 1000)).toBeLessThanOrEqual(10);
      expect(log.filter((e) => e.status === 200)).toHaveLength(28);
    } finally {
      await sim.close();
    }
  });

  it('a 429 pauses the whole bucket, shared by two clients of the same account', async () => {
    const clock = new ManualClock();
    const arrivals: { n: number; t: number; who: string }[] = [];
    const server = await bed.serve((req, res) => {
      arrivals.push({ n: req.n, t: clock.now(), who: String(req.headers['user-agent']) });
      if (req.n === 1)
        sendJson(res, 429, apiError(429, 'throttled', 'Request was throttled.'), { 'retry-after': '10' });
      else sendJson(res, 200, { data: [], links: { next: null } });
    });
    const registry = new RateLimiterRegistry(clock);
    let inFlight = 0;
    const make = (userAgent: string) =>
      bed.client(server.baseUrl, {
        clock,
        limiter: registry,
        userAgent,
        onEvent: (e) => {
          if (e.type === 'request') inFlight++;
          if (e.type === 'response') inFlight--;
        },
      });
    const a = make('a');
    const b = make('b');
    const t0 = clock.now();
    const first = a.get('/api/events');
    // b starts after a's 429 came back
    const second = (async () => {
      while (arrivals.length === 0 || inFlight > 0) await new Promise((r) => setTimeout(r, 2));
      return b.get('/api/events');
    })();
    await clock.drive(Promise.all([first, second]), () => inFlight === 0);
    const later = arrivals.filter((x) => x.n > 1);
    expect(later).toHaveLength(2);
    for (const x of later) expect(x.t - t0).toBeGreaterThanOrEqual(10_000);
    expect(a.stats().throttled).toBe(1);
  });
});
