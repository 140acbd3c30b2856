import { beforeEach, describe, expect, it } from 'vitest';
import type { KlaviyoClientEvent } from '../../src/klaviyo/client.js';
import type { IngestError } from '../../src/util/errors.js';
import { rejection } from '../support/errors.js';
import { apiError, event, sendJson, startServer } from '../support/http-server.js';
import { klaviyoTestbed } from '../support/klaviyo-client.js';

const KEY = 'pk_errors_SECRET_0123456789abcdef';
const events: KlaviyoClientEvent[] = [];
const bed = klaviyoTestbed({ apiKey: KEY, onEvent: (e) => events.push(e) });

async function failure(promise: Promise<unknown>): Promise<IngestError> {
  const e = await rejection(promise);
  // The key never leaves the client: not in the message, the rendering, the cause or any event.
  const everything = [e.message, e.render(), String(e.cause ?? ''), JSON.stringify(events)].join('\n');
  expect(everything).not.toContain(KEY);
  expect(everything).not.toContain('SECRET_0123456789');
  return e;
}

describe('errors that are not retried', () => {
  beforeEach(() => {
    events.length = 0;
  });

  it('400 fails fast with method, URL, status, detail and parameter; exactly 1 request', async () => {
    const server = await bed.serve((_req, res) =>
      sendJson(
        res,
        400,
        apiError(400, 'invalid', "'any' is not an allowed operator for 'metric_id'.", 'filter'),
      ),
    );
    const client = bed.client(server.baseUrl);
    const e = await failure(client.get('/api/events', { filter: "any(metric_id,['a'])" }));
    expect(e.code).toBe('KLAVIYO_BAD_REQUEST');
    expect(e.kind).toBe('ingestion');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain(`GET ${server.baseUrl}/api/events?filter=any(metric_id,[%27a%27])`);
    expect(e.message).toContain('400 Bad Request');
    expect(e.message).toContain(`"'any' is not an allowed operator for 'metric_id'."`);
    expect(e.message).toContain('(parameter: filter)');
    expect(server.requests).toHaveLength(1);
    expect(client.stats().retries).toBe(0);
  });

  it('401 explains the private key and where it comes from', async () => {
    const server = await bed.serve((_req, res) =>
      sendJson(res, 401, apiError(401, 'authentication_failed', 'Missing or invalid authorization')),
    );
    const e = await failure(bed.client(server.baseUrl).get('/api/events'));
    expect(e.code).toBe('KLAVIYO_AUTH');
    expect(e.message).toContain('401 Unauthorized');
    expect(e.message).toContain('Missing or invalid authorization');
    expect(e.message).toMatch(/private API key \(it starts with pk_\)/);
    expect(e.message).toContain('KLAVIYO_API_KEY');
    expect(e.message).toContain('credentials_ingestion.json');
    expect(server.requests).toHaveLength(1);
  });

  it('403 names the missing scope', async () => {
    const server = await bed.serve((_req, res) =>
      sendJson(
        res,
        403,
        apiError(403, 'permission_denied', 'You do not have permission to perform this action.'),
      ),
    );
    const e = await failure(bed.client(server.baseUrl).get('/api/events'));
    expect(e.code).toBe('KLAVIYO_FORBIDDEN');
    expect(e.message).toContain('403 Forbidden');
    expect(e.message).toContain('events:read');
    expect(e.message).toMatch(/scope/);
    expect(server.requests).toHaveLength(1);
  });

  it('an HTML 403 is reported as a Cloudflare/WAF block', async () => {
    const server = await bed.serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/html; charset=UTF-8', 'cf-mitigated': 'challenge' });
      res.end('<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>');
    });
    const e = await failure(bed.client(server.baseUrl).get('/api/events'));
    expect(e.code).toBe('KLAVIYO_FORBIDDEN');
    expect(e.message).toMatch(/Cloudflare\/WAF block/);
    expect(e.message).toContain('cf-mitigated: challenge');
    expect(e.message).toContain('Just a moment...');
  });

  it('an invalid page cursor has its own code', async () => {
    const server = await bed.serve((req, res) => {
      if (req.n === 1)
        sendJson(res, 200, { data: [event('a')], links: { next: '/api/events?page%5Bcursor%5D=old' } });
      else sendJson(res, 400, apiError(400, 'invalid', 'Invalid cursor provided.', 'page[cursor]'));
    });
    const c = bed.client(server.baseUrl);
    const run = async () => {
      for await (const _ of c.paginate('/api/events')) {
        // consume
      }
    };
    const e = await failure(run());
    expect(e.code).toBe('KLAVIYO_CURSOR_EXPIRED');
    expect(e.message).toContain('Invalid cursor provided.');
    expect(server.requests).toHaveLength(2);
  });

  it('404, 405, 409, 410, 415 are not retried', async () => {
    const statuses = [404, 405, 409, 410, 415];
    const server = await bed.serve((req, res) => {
      const status = statuses[req.n - 1] ?? 500;
      sendJson(res, status, apiError(status, 'x', `status ${status}`));
    });
    const c = bed.client(server.baseUrl);
    const codes: string[] = [];
    for (const _ of statuses) codes.push((await failure(c.get('/api/events'))).code);
    expect(codes).toEqual([
      'KLAVIYO_NOT_FOUND',
      'KLAVIYO_METHOD_NOT_ALLOWED',
      'KLAVIYO_CONFLICT',
      'KLAVIYO_GONE',
      'KLAVIYO_UNSUPPORTED_MEDIA_TYPE',
    ]);
    expect(server.requests).toHaveLength(5);
  });

  it('never puts the key in a message, even when the server echoes it', async () => {
    const server = await bed.serve((req, res) =>
      sendJson(
        res,
        400,
        apiError(400, 'invalid', `bad header ${String(req.headers.authorization)} and ${KEY}`, 'filter'),
      ),
    );
    const e = await failure(bed.client(server.baseUrl).get(`/api/events?echo=${KEY}`));
    expect(e.message).toContain('***');
  });

  it('a connection refused: a few quick attempts (not minutes of backoff), one short error, key absent', async () => {
    const dead = await startServer(() => undefined);
    const url = dead.baseUrl;
    await dead.close();
    // The refused budget is its own: a generous error budget does not stretch it.
    const client = bed.client(url, { maxRetries: 8 });
    const started = Date.now();
    const e = await failure(client.get('/api/events'));
    expect(e.code).toBe('KLAVIYO_UNREACHABLE');
    expect(e.message).toMatch(
      new RegExp(
        `^cannot reach the Klaviyo API at ${url.replace(/\/$/, '')} \\(ECONNREFUSED; 4 attempts over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(e.fix).toMatch(/check KLAVIYO_BASE_URL/);
    expect(client.stats().requests).toBe(4);
    expect(events.filter((ev) => ev.type === 'retry')).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
