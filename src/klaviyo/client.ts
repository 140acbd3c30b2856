/**
 * The Klaviyo HTTP client: auth and revision headers, JSON:API parsing, `links.next` paging one
 * page at a time, shared rate limiting, retries with backoff, and errors a person can act on.
 * Built on an undici `Pool` (keep-alive, many requests in flight). The API key is registered as a
 * secret: no message, event or page URL that leaves this module contains it.
 */
import { systemClock } from '../util/clock.js';
import { ingestionError } from '../util/errors.js';
import { redact, registerSecret } from '../util/redact.js';
import { createAttempt, type PreparedRequest } from './client/attempt.js';
import type { RetryableFailure } from './client/classify-response.js';
import { Semaphore } from './client/semaphore.js';
import { createTelemetry } from './client/telemetry.js';
import { createTransport, sanitizedCause } from './client/transport.js';
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
import { safeUrl } from './http-errors.js';
import type { JsonApiDocument } from './json-api.js';
import { bucketsFor } from './limits.js';
import { type RateLimiter, RateLimiterRegistry } from './rate-limiter.js';
import { type BackoffOptions, DEFAULT_BACKOFF, retryDelay, ruleFor } from './retry-policy.js';

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
  const transport = createTransport({
    origin: base.origin,
    apiKey,
    revision: options.revision,
    userAgent: options.userAgent ?? 'klaviyo-ingest/0.1.0',
    timeoutMs,
    connections: options.connections ?? options.maxConcurrency ?? 64,
  });
  const telemetry = createTelemetry(options.onEvent);
  const attempt = createAttempt({
    transport,
    telemetry,
    clock,
    cap: options.maxConcurrency ? new Semaphore(Math.max(1, options.maxConcurrency)) : null,
    timeoutMs,
    credentials: {
      keySource: options.keySource,
      revision: options.revision,
      revisionSource: options.revisionSource,
    },
  });
  const count = telemetry.count;
  const emit = telemetry.emit;
  const resolveUrl = urls.resolve;
  const endpointOf = urls.endpointOf;

  const limitersFor = (url: URL, endpoint: string): RateLimiter[] =>
    bucketsFor(endpoint, url.searchParams).map(({ bucket, limits }) =>
      registry.get(base.href, apiKey, bucket, options.rateLimits?.(bucket) ?? limits),
    );

  async function send(
    method: 'GET' | 'POST',
    url: URL,
    payload: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<JsonApiDocument> {
    const endpoint = endpointOf(url);
    const limiters = limitersFor(url, endpoint);
    const request: PreparedRequest = {
      method,
      url,
      payload,
      signal,
      endpoint,
      limiters,
      hadCursor: url.searchParams.has('page[cursor]'),
    };
    const attempts: string[] = [];
    let errors = 0;
    let throttles = 0;
    let last: RetryableFailure | undefined;
    for (let attemptNo = 1; ; attemptNo++) {
      signal?.throwIfAborted();
      const result = await attempt(request, attemptNo);
      if (result.kind === 'success') return result.doc;
      if (result.kind === 'fatal') throw result.error;
      const outcome = result.failure;
      last = outcome;
      const rule = ruleFor(outcome.cause);
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
    close: () => transport.close(),
  };
}
