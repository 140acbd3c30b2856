import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/simulator/index.js';
import { call, NOW, scan, small } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await small();
});
afterAll(() => sim.close());

const ms = (iso: string) => Date.parse(iso);

describe('paging and filters', () => {
  test('events: a full scan over a datetime window returns every record once, in order', async () => {
    const from = ms('2025-12-10T00:00:00Z');
    const to = ms('2026-01-05T00:00:00Z');
    const { records, pages } = await scan(sim, '/api/events', {
      filter: `greater-or-equal(datetime,2025-12-10T00:00:00Z),less-than(datetime,2026-01-05T00:00:00+00:00)`,
      sort: 'datetime',
      'page[size]': '37',
    });
    expect(pages).toBeGreaterThan(3);
    const ids = records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(sim.count('events', { field: 'datetime', gte: from, lt: to }));
    const times = records.map((r) => Date.parse(r.attributes.datetime));
    for (let k = 1; k < times.length; k++) {
      expect(times[k]).toBeGreaterThanOrEqual(times[k - 1] as number);
      if (times[k] === times[k - 1]) expect(ids[k]! > ids[k - 1]!).toBe(true);
    }
  });

  test('events: descending sort, all datetime formats, exactly-once while records are added', async () => {
    const first = await call(sim, '/api/events', {
      filter: 'greater-than(datetime,2025-12-20 00:00:00.000000)',
      sort: '-datetime',
      'page[size]': '50',
    });
    expect(first.status).toBe(200);
    const seen = first.body.data.map((r: { id: string }) => r.id);
    sim.advanceTime(3_600_000);
    sim.addRecords({ events: 25 });
    let next: string | null = first.body.links.next;
    while (next) {
      const u = new URL(next);
      expect(u.searchParams.get('sort')).toBe('-datetime');
      const r = await call(sim, u.pathname, Object.fromEntries(u.searchParams));
      seen.push(...r.body.data.map((x: { id: string }) => x.id));
      next = r.body.links.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(sim.count('events', { field: 'datetime', gt: ms('2025-12-20T00:00:00Z') }) - 25);
    for (const f of [
      '2025-12-20',
      '2025-12-20T00:00',
      '2025-12-20T00:00:00+0000',
      '2025-12-20T01:00:00+01:00',
      '2025-12-20T00:00:00.5Z',
    ]) {
      const r = await call(sim, '/api/events', { filter: `greater-or-equal(datetime,${f})` });
      expect(r.status, f).toBe(200);
    }
    const ts = await call(sim, '/api/events', {
      filter: `greater-or-equal(timestamp,${Math.floor(NOW / 1000) - 86400})`,
    });
    expect(ts.status).toBe(200);
  });

  test('profiles: greater-than(updated) + sort=updated scan; updated records move to the end', async () => {
    const q = { filter: 'greater-than(updated,2025-12-15T00:00:00Z)', sort: 'updated', 'page[size]': '100' };
    const before = await scan(sim, '/api/profiles', q);
    expect(before.records.length).toBe(
      sim.count('profiles', { field: 'updated', gt: ms('2025-12-15T00:00:00Z') }),
    );
    sim.updateRecords({ profiles: 5 });
    const after = await scan(sim, '/api/profiles', q);
    const last5 = after.records.slice(-5).map((r) => Date.parse(r.attributes.updated));
    expect(Math.min(...last5)).toBeGreaterThan(Date.parse(before.records.at(-1)!.attributes.updated) - 1);
    expect(after.records[0].attributes.subscriptions).toBeUndefined();
    const extra = await call(sim, '/api/profiles', { 'additional-fields[profile]': 'subscriptions' });
    expect(extra.body.data[0].attributes.subscriptions.email.marketing).toBeDefined();
    expect(extra.body.data[0].attributes.predictive_analytics).toBeUndefined();
  });

  test('links: next carries every original param plus an opaque base64 cursor; prev goes back', async () => {
    const r = await call(sim, '/api/profiles', {
      sort: '-created',
      'page[size]': '7',
      'fields[profile]': 'email,created',
    });
    const next = new URL(r.body.links.next);
    expect(next.searchParams.get('sort')).toBe('-created');
    expect(next.searchParams.get('page[size]')).toBe('7');
    expect(next.searchParams.get('fields[profile]')).toBe('email,created');
    expect(next.searchParams.get('page[cursor]')).toMatch(/^[A-Za-z0-9+/=]+$/);
    expect(Object.keys(r.body.data[0].attributes).sort()).toEqual(['created', 'email']);
    const page2 = await call(sim, next.pathname, Object.fromEntries(next.searchParams));
    const prev = new URL(page2.body.links.prev);
    const back = await call(sim, prev.pathname, Object.fromEntries(prev.searchParams));
    expect(back.body.data.map((x: { id: string }) => x.id)).toEqual(
      r.body.data.map((x: { id: string }) => x.id),
    );
  });

  test('include: events include metric and profile with deduplicated included[]', async () => {
    const r = await call(sim, '/api/events', { include: 'metric,profile', 'page[size]': '100' });
    const keys = r.body.included.map((x: { type: string; id: string }) => `${x.type}:${x.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.some((k: string) => k.startsWith('metric:'))).toBe(true);
    const props = r.body.data.map(
      (e: { attributes: { event_properties: object } }) => e.attributes.event_properties,
    );
    expect(props.some((p: Record<string, unknown>) => '$value' in p)).toBe(true);
  });

  test('campaigns: archived only with equals(archived,true); every channel', async () => {
    for (const ch of ['email', 'sms', 'mobile_push']) {
      const plain = await scan(sim, '/api/campaigns', { filter: `equals(messages.channel,'${ch}')` });
      expect(plain.records.every((c) => c.attributes.archived === false)).toBe(true);
      const archived = await scan(sim, '/api/campaigns', {
        filter: `and(equals(messages.channel,"${ch}"),equals(archived,true))`,
      });
      expect(archived.records.every((c) => c.attributes.archived === true)).toBe(true);
      const total = sim.data.ids('campaigns', (get) => get('messages.channel') === ch).length;
      expect(plain.records.length + archived.records.length).toBe(total);
    }
  });

  test('small collections page through with their page sizes', async () => {
    for (const [path, size] of [
      ['/api/lists', 10],
      ['/api/segments', 10],
      ['/api/templates', 10],
      ['/api/flows', 50],
      ['/api/metrics', 200],
    ] as const) {
      const first = await call(sim, path);
      const all = await scan(sim, path, {});
      expect(first.body.data.length).toBe(Math.min(size, all.records.length));
      expect(new Set(all.records.map((r) => r.id)).size).toBe(all.records.length);
    }
    const lists = await scan(sim, '/api/lists', {
      filter: 'greater-than(updated,2025-12-01T00:00:00Z)',
      sort: '-updated',
    });
    expect(lists.records.length).toBe(
      sim.count('lists', { field: 'updated', gt: ms('2025-12-01T00:00:00Z') }),
    );
  });

  test('revisions: events page[size] only from 2026-01-15; trailing slash accepted', async () => {
    const old = await call(sim, '/api/events/', { 'page[size]': '10' }, { revision: '2025-10-15' });
    expect(old.status).toBe(400);
    const oldDefault = await call(sim, '/api/events/', {}, { revision: '2025-10-15' });
    expect(oldDefault.body.data).toHaveLength(200);
    expect(new URL(oldDefault.body.links.next).pathname).toBe('/api/events');
    const big = await call(sim, '/api/events', { 'page[size]': '1000' });
    expect(big.body.data).toHaveLength(1000);
    const pre = await call(sim, '/api/events', { 'page[size]': '5' }, { revision: '2026-04-15.pre' });
    expect(pre.status).toBe(200);
  });
});

describe('errors', () => {
  const cases: [string, string, Record<string, string>, string, string][] = [
    [
      'bad operator',
      '/api/profiles',
      { filter: 'greater-or-equal(updated,2025-01-01T00:00:00Z)' },
      'filter',
      "'greater-or-equal' is not an allowed operator for 'updated'.",
    ],
    [
      'lists gt only',
      '/api/lists',
      { filter: 'less-than(updated,2025-01-01T00:00:00Z)' },
      'filter',
      "'less-than' is not an allowed operator for 'updated'.",
    ],
    [
      'bad field',
      '/api/events',
      { filter: "equals(email,'a@b.c')" },
      'filter',
      "'email' is not an allowed filter field for this resource.",
    ],
    [
      'metrics have no date filter',
      '/api/metrics',
      { filter: 'greater-than(updated,2025-01-01)' },
      'filter',
      "'updated' is not an allowed filter field for this resource.",
    ],
    [
      'quoted datetime',
      '/api/events',
      { filter: "greater-than(datetime,'2025-01-01T00:00:00Z')" },
      'filter',
      "Invalid filter provided. 'datetime' expects a datetime value.",
    ],
    [
      'unquoted string',
      '/api/events',
      { filter: 'equals(metric_id,abc)' },
      'filter',
      'Invalid filter provided. Verify your parentheses match.',
    ],
    [
      'unbalanced parentheses',
      '/api/events',
      { filter: 'and(greater-than(datetime,2025-01-01)' },
      'filter',
      'Invalid filter provided. Verify your parentheses match.',
    ],
    [
      'unencoded plus',
      '/api/events',
      { filter: 'greater-than(datetime,2025-01-01T00:00:00 00:00)' },
      'filter',
      'Invalid filter provided. Verify your parentheses match.',
    ],
    [
      'page size too big',
      '/api/profiles',
      { 'page[size]': '101' },
      'page[size]',
      'Page size must be an integer between 1 and 100.',
    ],
    [
      'bad include',
      '/api/events',
      { include: 'profiless' },
      'include',
      "'profiless' is not an allowed include parameter for this resource.",
    ],
    [
      'bad sort',
      '/api/profiles',
      { sort: 'datetime' },
      'sort',
      "'datetime' is not a valid sort parameter for this resource.",
    ],
    [
      'missing channel filter',
      '/api/campaigns',
      {},
      'filter',
      "A channel filter is required. Use equals(messages.channel,'email'), equals(messages.channel,'sms') or equals(messages.channel,'mobile_push').",
    ],
    ['bad cursor', '/api/events', { 'page[cursor]': 'bm9wZQ==' }, 'page[cursor]', 'Invalid cursor provided'],
  ];
  test.each(cases)('400 %s', async (_name, path, query, parameter, detail) => {
    const r = await call(sim, path, query);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/vnd.api+json');
    const [err] = r.body.errors;
    expect(err).toMatchObject({
      status: 400,
      code: 'invalid',
      title: 'Invalid input.',
      detail,
      source: { parameter },
      links: {},
      meta: {},
    });
    expect(typeof err.id).toBe('string');
  });

  test('401 without or with a wrong key; 400 without or with a malformed revision', async () => {
    for (const key of [null, 'pk_wrong']) {
      const r = await call(sim, '/api/events', {}, { key });
      expect(r.status).toBe(401);
      expect(r.body.errors[0]).toMatchObject({
        code: 'authentication_failed',
        detail: 'Missing or invalid authorization',
      });
    }
    for (const revision of [null, '2026-7-15', '2026-02-30', 'latest']) {
      const r = await call(sim, '/api/events', {}, { revision });
      expect(r.status).toBe(400);
      expect(r.body.errors[0].source.parameter).toBe('revision');
    }
  });

  test('403 for a key without the scope', async () => {
    const s = await small({
      apiKeys: ['pk_a_000000', 'pk_b_000000'],
      keyScopes: { pk_b_000000: ['profiles:read'] },
    });
    try {
      expect((await call(s, '/api/events', {}, { key: 'pk_a_000000' })).status).toBe(200);
      const r = await call(s, '/api/events', {}, { key: 'pk_b_000000' });
      expect(r.status).toBe(403);
      expect(r.body.errors[0].code).toBe('permission_denied');
      expect((await call(s, '/api/profiles', {}, { key: 'pk_b_000000' })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  test('429 with Retry-After and without RateLimit headers; RateLimit headers on success', async () => {
    let t = Date.UTC(2026, 0, 1, 0, 0, 0, 100);
    const s = await small({
      rateLimits: 'real',
      rateLimitOverrides: { flows: { burst: 2, steady: 3 } },
      wallClock: () => t,
    });
    try {
      const ok = await call(s, '/api/flows');
      expect(ok.headers.get('ratelimit-limit')).toBe('3, 2;w=1, 3;w=60');
      expect(ok.headers.get('ratelimit-remaining')).toBe('2');
      expect(ok.headers.get('ratelimit-reset')).toBe('60');
      await call(s, '/api/flows');
      const burst = await call(s, '/api/flows');
      expect(burst.status).toBe(429);
      expect(burst.headers.get('retry-after')).toBe('1');
      expect(burst.headers.get('ratelimit-limit')).toBeNull();
      expect(burst.body.errors[0]).toMatchObject({
        code: 'throttled',
        detail: 'Request was throttled. Expected available in 1 second.',
      });
      t += 1000;
      expect((await call(s, '/api/flows')).status).toBe(200);
      const steady = await call(s, '/api/flows');
      expect(steady.status).toBe(429);
      expect(steady.headers.get('retry-after')).toBe('59');
      const other = await call(s, '/api/events');
      expect(other.headers.get('ratelimit-limit')).toBe('3500, 350;w=1, 3500;w=60');
    } finally {
      await s.close();
    }
  });
});

describe('cached pages (benchmarks)', () => {
  test('serve the same records as an uncached simulator, for any page boundaries, and hit the cache', async () => {
    const cached = await small({ cachePages: true });
    const uncached = await small();
    try {
      const pages: Record<string, string>[] = [
        { filter: 'greater-or-equal(datetime,2025-12-10T00:00:00Z)', sort: 'datetime', 'page[size]': '40' },
        { filter: 'greater-or-equal(datetime,2025-12-10T00:00:07Z)', sort: 'datetime', 'page[size]': '25' },
        {
          filter: 'greater-than(updated,2025-12-01T00:00:00Z)',
          sort: 'updated',
          'additional-fields[profile]': 'subscriptions',
        },
      ];
      for (const query of pages) {
        const path = 'additional-fields[profile]' in query ? '/api/profiles' : '/api/events';
        const plain = await call(uncached, path, query);
        const first = await call(cached, path, query);
        const again = await call(cached, path, query);
        expect(first.body.data.length).toBeGreaterThan(0);
        // Links name each server's own port.
        const dataOf = (reply: { text: string }, base: string) =>
          JSON.parse(reply.text.replaceAll(base, 'BASE')).data;
        expect(dataOf(first, cached.baseUrl)).toEqual(dataOf(plain, uncached.baseUrl));
        expect(again.text).toBe(first.text);
      }
      expect(cached.pageCacheStats()).toMatchObject({ hits: 3, misses: 3 });
    } finally {
      await cached.close();
      await uncached.close();
    }
  });
});
