/**
 * The Klaviyo HTTP client: auth and revision headers, JSON:API parsing, `links.next` paging one
 * page at a time, shared rate limiting, retries with backoff, and errors a person can act on.
 * The API key is registered as a secret: no message, event or page URL that leaves this module
 * contains it.
 *
 * This file wires the parts in ./client/ together:
 * - urls.ts: the base URL, paths and `links.next` resolved against it, the endpoint of a URL;
 * - transport.ts: the undici `Pool` (keep-alive, many requests in flight), sending one request;
 * - classify-response.ts: an answer (or a transport error) as success | retryable | fatal;
 * - attempt.ts: one attempt: wait for the concurrency cap (semaphore.ts) and the rate limiters,
 *   send, report (telemetry.ts), classify;
 * - retry-loop.ts: attempts until success, a fatal failure or a spent retry budget;
 * - paginate.ts: a listing page by page.
 */
import { systemClock } from '../util/clock.js';
import { ingestionError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { createAttempt } from './client/attempt.js';
import { type PageSource, paginate } from './client/paginate.js';
import { createRetryLoop } from './client/retry-loop.js';
import { Semaphore } from './client/semaphore.js';
import { createTelemetry } from './client/telemetry.js';
import { createTransport } from './client/transport.js';
import type { KlaviyoClient, KlaviyoClientOptions } from './client/types.js';
import { apiUrls, DEFAULT_BASE_URL, withQuery } from './client/urls.js';
import { safeUrl } from './http-errors.js';
import type { JsonApiDocument } from './json-api.js';
import { bucketsFor } from './limits.js';
import { type RateLimiter, RateLimiterRegistry } from './rate-limiter.js';
import { DEFAULT_BACKOFF } from './retry-policy.js';

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
} from './client/types.js';
export { DEFAULT_BASE_URL } from './client/urls.js';

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
  const timeoutMs = options.timeoutMs ?? 60_000;
  const registry =
    options.limiter ?? (options.clock ? new RateLimiterRegistry(clock) : sharedRateLimiterRegistry());
  const transport = createTransport({
    origin: urls.base.origin,
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
  const sendWithRetries = createRetryLoop(attempt, {
    clock,
    random,
    telemetry,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    maxRetries: options.maxRetries ?? 8,
    maxThrottleRetries: options.maxThrottleRetries ?? 30,
  });

  /** Shared per (base URL, key, bucket): every client on this account and endpoint waits in the same limiter. */
  const limitersFor = (url: URL, endpoint: string): RateLimiter[] =>
    bucketsFor(endpoint, url.searchParams).map(({ bucket, limits }) =>
      registry.get(urls.base.href, apiKey, bucket, options.rateLimits?.(bucket) ?? limits),
    );

  const send = async (
    method: 'GET' | 'POST',
    url: URL,
    payload: string | undefined,
    signal: AbortSignal | undefined,
    rawJsonAttributes = false,
  ): Promise<JsonApiDocument> => {
    const endpoint = urls.endpointOf(url);
    return sendWithRetries({
      method,
      url,
      payload,
      signal,
      endpoint,
      limiters: limitersFor(url, endpoint),
      hadCursor: url.searchParams.has('page[cursor]'),
      rawJsonAttributes,
    });
  };

  const pages: PageSource = {
    resolve: urls.resolve,
    get: (url, signal, rawJsonAttributes) => send('GET', url, undefined, signal, rawJsonAttributes),
    now: () => clock.now(),
  };

  return {
    baseUrl: urls.base.href.replace(/\/+$/, ''),
    revision: options.revision,
    get: (pathOrUrl, query, requestOptions) =>
      send('GET', urls.resolve(withQuery(pathOrUrl, query)), undefined, requestOptions?.signal),
    post: (path, body, requestOptions) =>
      send(
        'POST',
        urls.resolve(withQuery(path, requestOptions?.query)),
        typeof body === 'string' ? body : JSON.stringify(body),
        requestOptions?.signal,
      ),
    paginate: (path, query, paginateOptions = {}) => paginate(pages, path, query, paginateOptions),
    describeRequest: (path, query) => safeUrl(urls.resolve(withQuery(path, query)).href),
    budget: (path, query) => {
      const url = urls.resolve(withQuery(path, query));
      return (limitersFor(url, urls.endpointOf(url))[0] as RateLimiter).budget();
    },
    stats: telemetry.stats,
    close: () => transport.close(),
  };
}
