/**
 * The Klaviyo HTTP client: auth and revision headers, JSON:API parsing, `links.next` paging one
 * page at a time, shared rate limiting, retries with backoff, and errors a person can act on.
 * Built on an undici `Pool` (keep-alive, many requests in flight). The API key is registered as a
 * secret: no message, event or page URL that leaves this module contains it.
 */
import { Pool } from 'undici';
import { systemClock } from '../util/clock.js';
import { type IngestError, ingestionError } from '../util/errors.js';
import { redact, registerSecret } from '../util/redact.js';
import { Semaphore } from './client/semaphore.js';
import { createTelemetry } from './client/telemetry.js';
import type {
  ClientStats,
  EndpointStats,
  KlaviyoClient,
  KlaviyoClientEvent,
  KlaviyoClientOptions,
  Page,
  PaginateOptions,
  QueryInput,
  RequestOptions,
} from './client/types.js';
import { apiUrls, DEFAULT_BASE_URL, withQuery } from './client/urls.js';
import { type HttpFailure, httpFailureError, safeUrl, statusLabel, truncate } from './http-errors.js';
import { firstApiError, type JsonApiDocument, parseJsonApiDocument } from './json-api.js';
import { bucketsFor } from './limits.js';
import { type RateLimiter, RateLimiterRegistry } from './rate-limiter.js';
import { BodyDecodeError, readResponseText } from './response-body.js';
import {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  type FailureCause,
  parseExpectedAvailable,
  parseRetryAfter,
  retryDelay,
  ruleFor,
  TIMEOUT_CODES,
} from './retry-policy.js';

export type {
  ClientStats,
  EndpointStats,
  KlaviyoClient,
  KlaviyoClientEvent,
  KlaviyoClientOptions,
  Page,
  PaginateOptions,
  QueryInput,
  RequestOptions,
};
export { DEFAULT_BASE_URL };

let processRegistry: RateLimiterRegistry | undefined;

/** The registry every client without an explicit one shares (system clock). */
export function sharedRateLimiterRegistry(): RateLimiterRegistry {
  processRegistry ??= new RateLimiterRegistry(systemClock);
  return processRegistry;
}

interface AttemptOutcome {
  ok: boolean;
  doc?: JsonApiDocument;
  /** Retryable failure description. */
  cause?: FailureCause;
  summary?: string;
  hintMs?: number | null;
  /** A final error (no retry). */
  error?: IngestError;
  raw?: unknown;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (error as { cause?: unknown }).cause;
  return cause === error ? undefined : errorCode(cause);
}

/** An undici / Node error reduced to what is safe to keep (no request object, no headers). */
function sanitizedCause(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  const out = new Error(redact(code ? `${message} (${code})` : message));
  out.name = error instanceof Error ? error.name : 'Error';
  return out;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function createKlaviyoClient(options: KlaviyoClientOptions): KlaviyoClient {
  const apiKey = options.apiKey;
  if (!apiKey) {
    throw ingestionError(
      'No Klaviyo API key: set KLAVIYO_API_KEY or klaviyo_api_token in credentials_ingestion.json.',
      { code: 'KLAVIYO_AUTH' },
    );
  }
  registerSecret(apiKey);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const urls = apiUrls(options.baseUrl || process.env.KLAVIYO_BASE_URL || DEFAULT_BASE_URL);
  const base = urls.base;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 8;
  const maxThrottleRetries = options.maxThrottleRetries ?? 30;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const registry =
    options.limiter ?? (options.clock ? new RateLimiterRegistry(clock) : sharedRateLimiterRegistry());
  const semaphore = options.maxConcurrency ? new Semaphore(Math.max(1, options.maxConcurrency)) : null;
  const pool = new Pool(base.origin, {
    connections: options.connections ?? options.maxConcurrency ?? 64,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers: Record<string, string> = {
    authorization: `Klaviyo-API-Key ${apiKey}`,
    revision: options.revision,
    accept: 'application/vnd.api+json',
    'accept-encoding': 'gzip, deflate, br',
    'user-agent': options.userAgent ?? 'klaviyo-ingest/0.1.0',
  };
  const telemetry = createTelemetry(options.onEvent);
  const emit = telemetry.emit;
  const count = telemetry.count;
  const resolveUrl = urls.resolve;
  const endpointOf = urls.endpointOf;
  let inFlight = 0;

  const limitersFor = (url: URL, endpoint: string): RateLimiter[] =>
    bucketsFor(endpoint, url.searchParams).map(({ bucket, limits }) =>
      registry.get(base.href, apiKey, bucket, options.rateLimits?.(bucket) ?? limits),
    );

  async function attempt(
    method: 'GET' | 'POST',
    url: URL,
    payload: string | undefined,
    endpoint: string,
    attemptNo: number,
    limiters: RateLimiter[],
    signal: AbortSignal | undefined,
    hadCursor: boolean,
  ): Promise<AttemptOutcome> {
    const display = safeUrl(url.href);
    const queuedAt = clock.now();
    if (semaphore) await semaphore.acquire(signal);
    try {
      for (const limiter of limiters) await limiter.acquire(signal);
      const started = clock.now();
      emit({
        type: 'request',
        method,
        url: display,
        endpoint,
        attempt: attemptNo,
        at: started,
        queuedMs: started - queuedAt,
      });
      count(endpoint, 'requests');
      inFlight++;
      let status = 0;
      let bytes = 0;
      try {
        const res = await pool.request({
          method,
          path: `${url.pathname}${url.search}`,
          headers:
            payload === undefined ? headers : { ...headers, 'content-type': 'application/vnd.api+json' },
          ...(payload === undefined ? {} : { body: payload }),
          ...(signal ? { signal } : {}),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = res.statusCode;
        const resHeaders = res.headers as Record<string, string | string[] | undefined>;
        let text: string;
        let undecodable: BodyDecodeError | null = null;
        try {
          ({ text, wireBytes: bytes } = await readResponseText(
            res.body,
            header(resHeaders, 'content-encoding'),
          ));
        } catch (error) {
          if (!(error instanceof BodyDecodeError)) throw error;
          ({ wireBytes: bytes } = error);
          text = '';
          undecodable = error;
        }
        count(endpoint, 'bytes', bytes);
        emit({
          type: 'response',
          method,
          url: display,
          endpoint,
          attempt: attemptNo,
          status,
          bytes,
          durationMs: clock.now() - started,
        });
        const contentType = header(resHeaders, 'content-type');
        if (undecodable) {
          return {
            ok: false,
            cause: { kind: 'bad-body', reason: 'undecodable compressed body' },
            summary: `${statusLabel(status)} with a body that does not decompress (${errorCode(undecodable.cause) ?? 'error'})`,
            hintMs: null,
            raw: undecodable.cause,
          };
        }
        if (status >= 200 && status < 300) {
          if (limiters.length === 1) {
            limiters[0]?.observeHeaders(
              {
                limit: header(resHeaders, 'ratelimit-limit'),
                remaining: header(resHeaders, 'ratelimit-remaining'),
                reset: header(resHeaders, 'ratelimit-reset'),
              },
              inFlight - 1,
            );
          }
          return parseSuccess(method, url, status, text, contentType);
        }
        return failure(method, url, status, text, resHeaders, hadCursor);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const code = errorCode(error) ?? 'UNKNOWN';
        const isTimeout = TIMEOUT_CODES.has(code);
        const cause: FailureCause = isTimeout ? { kind: 'timeout' } : { kind: 'connection', code };
        const what = isTimeout
          ? `timed out after ${timeoutMs} ms (${code})`
          : `connection failed${status ? ` after ${statusLabel(status)}` : ''}: ${truncate(redact(error instanceof Error ? error.message : String(error)), 160)} (${code})`;
        return { ok: false, cause, summary: what, hintMs: null, raw: error };
      } finally {
        inFlight--;
      }
    } finally {
      semaphore?.release();
    }
  }

  function parseSuccess(
    method: string,
    url: URL,
    status: number,
    text: string,
    contentType: string | undefined,
  ): AttemptOutcome {
    const looksHtml = /^\s*</.test(text) || (contentType ?? '').toLowerCase().includes('text/html');
    if (looksHtml) {
      return {
        ok: false,
        error: ingestionError(
          redact(
            `Klaviyo API ${method} ${safeUrl(url.href)} answered ${statusLabel(status)} with ${
              contentType ?? 'no content type'
            } instead of JSON:API (starts with "${truncate(text, 120)}"). Is KLAVIYO_BASE_URL pointing at the Klaviyo API?`,
          ),
          {
            code: 'KLAVIYO_NOT_JSON_API',
            fix: 'point KLAVIYO_BASE_URL at https://a.klaviyo.com (or the simulator)',
          },
        ),
      };
    }
    if (status === 204 || text.trim() === '') {
      if (status === 204) return { ok: true, doc: { data: null } };
      return {
        ok: false,
        cause: { kind: 'bad-body', reason: 'empty body' },
        summary: `${statusLabel(status)} with an empty body`,
        hintMs: null,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return {
        ok: false,
        cause: { kind: 'bad-body', reason: 'truncated or invalid JSON' },
        summary: `${statusLabel(status)} with a truncated or invalid JSON body (${text.length} characters)`,
        hintMs: null,
        raw: error,
      };
    }
    const parsed = parseJsonApiDocument(body);
    if (!parsed.ok) {
      return {
        ok: false,
        error: ingestionError(
          redact(
            `Klaviyo API ${method} ${safeUrl(url.href)} answered ${statusLabel(status)} with JSON that is not a JSON:API document (${parsed.problem}).`,
          ),
          { code: 'KLAVIYO_NOT_JSON_API', fix: 'check KLAVIYO_BASE_URL and the endpoint path' },
        ),
      };
    }
    return { ok: true, doc: parsed.doc };
  }

  function failure(
    method: string,
    url: URL,
    status: number,
    text: string,
    resHeaders: Record<string, string | string[] | undefined>,
    hadCursor: boolean,
  ): AttemptOutcome {
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const apiError = firstApiError(body);
    const info: HttpFailure = {
      method,
      url: url.href,
      status,
      apiError,
      contentType: header(resHeaders, 'content-type'),
      bodySnippet: apiError ? undefined : text.slice(0, 500) || undefined,
      cfMitigated: header(resHeaders, 'cf-mitigated'),
      hadCursor,
    };
    const cause: FailureCause = { kind: 'status', status };
    const rule = ruleFor(cause);
    if (!rule.retry) {
      return {
        ok: false,
        error: httpFailureError(info, rule.code, undefined, {
          keySource: options.keySource,
          revision: options.revision,
          revisionSource: options.revisionSource,
        }),
      };
    }
    let hintMs = parseRetryAfter(header(resHeaders, 'retry-after'), clock.now());
    if (hintMs === null && status === 429) hintMs = parseExpectedAvailable(apiError?.detail);
    const detail = apiError?.detail ? `: "${truncate(apiError.detail, 160)}"` : '';
    return { ok: false, cause, summary: `${statusLabel(status)}${detail}`, hintMs };
  }

  async function send(
    method: 'GET' | 'POST',
    url: URL,
    payload: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JsonApiDocument> {
    const endpoint = endpointOf(url);
    const limiters = limitersFor(url, endpoint);
    const hadCursor = url.searchParams.has('page[cursor]');
    const attempts: string[] = [];
    let errors = 0;
    let throttles = 0;
    let last: AttemptOutcome | undefined;
    for (let attemptNo = 1; ; attemptNo++) {
      signal?.throwIfAborted();
      const outcome = await attempt(method, url, payload, endpoint, attemptNo, limiters, signal, hadCursor);
      if (outcome.ok && outcome.doc) return outcome.doc;
      if (outcome.error) throw outcome.error;
      last = outcome;
      const cause = outcome.cause as FailureCause;
      const rule = ruleFor(cause);
      attempts.push(`attempt ${attemptNo}: ${outcome.summary ?? rule.code}`);
      const isThrottle = rule.throttle === true;
      if (isThrottle) throttles++;
      else errors++;
      if ((isThrottle && throttles > maxThrottleRetries) || (!isThrottle && errors > maxRetries)) break;
      const delayMs = retryDelay(isThrottle ? throttles : errors, random, outcome.hintMs ?? null, backoff);
      count(endpoint, 'retries');
      const display = safeUrl(url.href);
      if (isThrottle) {
        count(endpoint, 'throttled');
        emit({ type: 'throttle', method, url: display, endpoint, delayMs, reason: outcome.summary ?? '429' });
        // The whole bucket waits, not just this request; the next acquire() honours it.
        for (const limiter of limiters) limiter.pause(delayMs);
      }
      emit({
        type: 'retry',
        method,
        url: display,
        endpoint,
        attempt: attemptNo,
        delayMs,
        reason: outcome.summary ?? rule.code,
      });
      if (!isThrottle) await clock.sleep(delayMs, signal);
    }
    const shown = attempts.length > 12 ? [...attempts.slice(0, 2), '…', ...attempts.slice(-9)] : attempts;
    throw ingestionError(
      redact(
        `Klaviyo API ${method} ${safeUrl(url.href)} still failing after ${attempts.length} attempts (${errors} errors, ${throttles} throttled): ${shown.join('; ')}. Last cause: ${last?.summary ?? 'unknown'}.`,
      ),
      {
        code: 'KLAVIYO_RETRIES_EXHAUSTED',
        fix:
          last?.cause?.kind === 'connection'
            ? 'check the network and KLAVIYO_BASE_URL, then rerun'
            : 'rerun later; the load resumes from the last committed window',
        ...(last?.raw === undefined ? {} : { cause: sanitizedCause(last.raw) }),
      },
    );
  }

  const sameUrl = (a: string, b: string | null) => b !== null && a === b;

  async function* paginate(
    path: string,
    query?: QueryInput,
    paginateOptions: PaginateOptions = {},
  ): AsyncGenerator<Page, void, undefined> {
    const { signal, maxPages } = paginateOptions;
    let url: URL | null = resolveUrl(withQuery(path, query));
    let previous: string | null = null;
    let pageNumber = 0;
    while (url) {
      const doc = await send('GET', url, undefined, signal);
      pageNumber++;
      const nextLink = doc.links?.next;
      const next: URL | null =
        typeof nextLink === 'string' && nextLink !== '' ? resolveUrl(nextLink, url.href) : null;
      if (next && (sameUrl(next.href, url.href) || sameUrl(next.href, previous))) {
        throw ingestionError(
          redact(
            `Klaviyo API pagination loop: page ${pageNumber} of ${safeUrl(url.href)} links to a page already read (${safeUrl(next.href)}).`,
          ),
          { code: 'KLAVIYO_PAGINATION_LOOP', fix: 'rerun; if it persists, report the endpoint and filter' },
        );
      }
      const data = doc.data === null ? [] : Array.isArray(doc.data) ? doc.data : [doc.data];
      yield {
        data,
        included: doc.included ?? [],
        url: safeUrl(url.href),
        pageNumber,
        nextUrl: next ? safeUrl(next.href) : null,
        receivedAt: clock.now(),
      };
      if (next && maxPages !== undefined && pageNumber >= maxPages) {
        throw ingestionError(
          redact(`Klaviyo API pagination of ${safeUrl(path)} passed the limit of ${maxPages} pages.`),
          { code: 'KLAVIYO_PAGINATION_LIMIT' },
        );
      }
      previous = url.href;
      url = next;
    }
  }

  return {
    baseUrl: base.href.replace(/\/+$/, ''),
    revision: options.revision,
    get: (pathOrUrl, query, requestOptions) =>
      send('GET', resolveUrl(withQuery(pathOrUrl, query)), undefined, requestOptions?.signal),
    post: (path, body, requestOptions) =>
      send(
        'POST',
        resolveUrl(withQuery(path, requestOptions?.query)),
        typeof body === 'string' ? body : JSON.stringify(body),
        requestOptions?.signal,
      ),
    paginate,
    describeRequest: (path, query) => safeUrl(resolveUrl(withQuery(path, query)).href),
    stats: telemetry.stats,
    close: () => pool.close(),
  };
}
