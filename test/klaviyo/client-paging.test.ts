import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../../src/klaviyo/query.js';
import type { AccountFetcher } from '../../src/workflow/types.js';
import { event, sendJson } from '../support/http-server.js';
import { klaviyoTestbed, testClient } from '../support/klaviyo-client.js';

const KEY = 'pk_paging_0123456789abcdef';
const bed = klaviyoTestbed({ apiKey: KEY });

describe('paginate', () => {
  it('follows links.next across 3 pages without re-appending the original params', async () => {
    const query = buildQuery({ filter: 'greater-or-equal(datetime,2024-01-01T00:00:00Z)', sort: 'datetime' });
    const server = await bed.serve((req, res) => {
      const url = new URL(req.url, 'http://x');
      const cursor = url.searchParams.get('page[cursor]');
      const page = cursor === null ? 1 : Number(cursor.slice(1));
      const next = page < 3 ? `${server.baseUrl}/api/events?${query}&page%5Bcursor%5D=c${page + 1}` : null;
      sendJson(res, 200, { data: [event(`e${page}a`), event(`e${page}b`)], links: { self: req.url, next } });
    });
    const client = bed.client(server.baseUrl);
    const pages = [];
    for await (const page of client.paginate('/api/events', {
      filter: 'greater-or-equal(datetime,2024-01-01T00:00:00Z)',
      sort: 'datetime',
    })) {
      pages.push(page);
    }
    expect(pages.map((p) => p.pageNumber)).toEqual([1, 2, 3]);
    expect(pages.flatMap((p) => p.data.map((r) => r.id))).toEqual(['e1a', 'e1b', 'e2a', 'e2b', 'e3a', 'e3b']);
    expect(pages[2]?.nextUrl).toBeNull();
    expect(server.requests.map((r) => r.url)).toEqual([
      `/api/events?${query}`,
      `/api/events?${query}&page%5Bcursor%5D=c2`,
      `/api/events?${query}&page%5Bcursor%5D=c3`,
    ]);
    for (const r of server.requests) {
      expect(new URL(r.url, 'http://x').searchParams.getAll('filter')).toHaveLength(1);
      expect(r.headers.authorization).toBe(`Klaviyo-API-Key ${KEY}`);
      expect(r.headers.revision).toBe('2026-07-15');
      expect(r.headers.accept).toBe('application/vnd.api+json');
    }
    expect(client.stats()).toMatchObject({ requests: 3, retries: 0, throttled: 0 });
    expect(client.stats().byEndpoint['/api/events']?.requests).toBe(3);
  });

  it('accepts a relative next link', async () => {
    const server = await bed.serve((req, res) => {
      const second = req.url.includes('page%5Bcursor%5D=2');
      sendJson(res, 200, {
        data: [event(second ? 'b' : 'a')],
        links: { next: second ? null : '/api/events?page%5Bcursor%5D=2' },
      });
    });
    const client = bed.client(server.baseUrl);
    const ids: string[] = [];
    for await (const page of client.paginate('/api/events', { sort: 'datetime' }))
      ids.push(...page.data.map((r) => r.id));
    expect(ids).toEqual(['a', 'b']);
    expect(server.requests[1]?.url).toBe('/api/events?page%5Bcursor%5D=2');
  });

  it('sends a next link on another host to our base URL, never elsewhere with the key', async () => {
    const server = await bed.serve((req, res) => {
      const second = req.url.includes('cursor');
      sendJson(res, 200, {
        data: [event(second ? 'b' : 'a')],
        links: { next: second ? null : 'https://a.klaviyo.com/api/events?page%5Bcursor%5D=2' },
      });
    });
    const client = bed.client(server.baseUrl);
    const pages = [];
    for await (const page of client.paginate('/api/events')) pages.push(page);
    expect(pages[0]?.nextUrl).toBe(`${server.baseUrl}/api/events?page%5Bcursor%5D=2`);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/events', '/api/events?page%5Bcursor%5D=2']);
  });

  it('decodes a gzip body', async () => {
    const server = await bed.serve((req, res) => {
      expect(req.headers['accept-encoding']).toContain('gzip');
      const body = gzipSync(JSON.stringify({ data: [event('z')], links: { next: null } }));
      res.writeHead(200, {
        'content-type': 'application/vnd.api+json',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      res.end(body);
    });
    const client = bed.client(server.baseUrl);
    const doc = await client.get('/api/events');
    // The client leaves out resource links (URLs nothing follows; see json-bytes.ts).
    const { links: _links, ...withoutLinks } = event('z');
    expect(doc.data).toEqual([withoutLinks]);
  });

  it("counts an identity body's bytes in the stats", async () => {
    const page = { data: [event('a')], links: { next: null } };
    const server = await bed.serve((_req, res) => sendJson(res, 200, page));
    const client = bed.client(server.baseUrl);
    await client.get('/api/events');
    expect(client.stats().bytes).toBe(Buffer.byteLength(JSON.stringify(page)));
  });

  it('stops when the signal aborts', async () => {
    const server = await bed.serve(() => undefined); // never answers
    const client = bed.client(server.baseUrl);
    const ac = new AbortController();
    const pending = client.get('/api/events', undefined, { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('cancelled by user')), 20);
    expect(await pending).toMatchObject({ message: 'cancelled by user' });
    expect(client.stats().retries).toBe(0);
  });

  it('detects a next link that points back at the same page', async () => {
    const server = await bed.serve((_req, res) => {
      sendJson(res, 200, {
        data: [event('a')],
        links: { next: `${server.baseUrl}/api/events?page%5Bcursor%5D=same` },
      });
    });
    const client = bed.client(server.baseUrl);
    const run = async () => {
      for await (const _ of client.paginate('/api/events')) {
        // consume
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'KLAVIYO_PAGINATION_LOOP' });
    expect(server.requests).toHaveLength(2);
  });

  it('streams: the next page is only requested when the consumer asks for it', async () => {
    const server = await bed.serve((req, res) => {
      const n = Number(new URL(req.url, 'http://x').searchParams.get('page[cursor]') ?? '1');
      sendJson(res, 200, {
        data: [event(`e${n}`)],
        links: { next: `/api/events?page%5Bcursor%5D=${n + 1}` },
      });
    });
    const client = bed.client(server.baseUrl);
    const iterator = client.paginate('/api/events');
    await iterator.next();
    await iterator.next();
    await iterator.return(undefined);
    expect(server.requests).toHaveLength(2);
  });

  it('rejects a body that is not JSON:API and names the URL', async () => {
    const server = await bed.serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body>Welcome</body></html>');
    });
    const client = bed.client(server.baseUrl);
    await expect(client.get('/api/events', { sort: 'datetime' })).rejects.toThrow(
      new RegExp(
        `GET ${server.baseUrl}/api/events\\?sort=datetime answered 200 with text/html instead of JSON:API`,
      ),
    );
    server.requests.length = 0;
  });

  it('rejects JSON that is not a JSON:API document', async () => {
    const server = await bed.serve((_req, res) => sendJson(res, 200, { items: [1, 2] }));
    const client = bed.client(server.baseUrl);
    await expect(client.get('/api/events')).rejects.toMatchObject({ code: 'KLAVIYO_NOT_JSON_API' });
    expect(server.requests).toHaveLength(1);
  });

  it('posts a JSON body and returns a single-resource document', async () => {
    const server = await bed.serve((req, res) => {
      sendJson(res, 200, {
        data: { type: 'metric-aggregate', id: 'x', attributes: { echo: JSON.parse(req.body) } },
      });
    });
    const client = bed.client(server.baseUrl);
    const doc = await client.post('/api/metric-aggregates', { data: { type: 'metric-aggregate' } });
    expect(doc.data).toMatchObject({
      type: 'metric-aggregate',
      attributes: { echo: { data: { type: 'metric-aggregate' } } },
    });
    expect(server.requests[0]?.method).toBe('POST');
    expect(server.requests[0]?.headers['content-type']).toBe('application/vnd.api+json');
  });
});

describe('fits the workflow', () => {
  it('is an AccountFetcher and describes requests without sending them', () => {
    const c: AccountFetcher = testClient('http://127.0.0.1:1/', { apiKey: KEY });
    expect(c.revision).toBe('2026-07-15');
    expect(
      c.describeRequest('/api/profiles', { filter: 'greater-than(updated,2024-01-01T00:00:00+00:00)' }),
    ).toBe('http://127.0.0.1:1/api/profiles?filter=greater-than(updated,2024-01-01T00:00:00%2B00:00)');
  });
});
