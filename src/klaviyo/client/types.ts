/**
 * The Klaviyo client's public shapes: its options, the events it reports, the pages it yields, its
 * counters, and the client itself.
 */
import type { Clock, Random } from '../../util/clock.js';
import type { JsonApiDocument, Resource } from '../json-api.js';
import type { QueryParams } from '../query.js';
import type { RateBudget, RateLimiterRegistry, RateLimits } from '../rate-limiter.js';
import type { BackoffOptions } from '../retry-policy.js';

export type KlaviyoClientEvent =
  | {
      type: 'request';
      method: string;
      url: string;
      endpoint: string;
      attempt: number;
      /** Clock time the request was sent. */
      at: number;
      /** Time spent waiting for the rate limiter (and the concurrency cap) before sending. */
      queuedMs: number;
    }
  | {
      type: 'response';
      method: string;
      url: string;
      endpoint: string;
      attempt: number;
      status: number;
      bytes: number;
      durationMs: number;
    }
  | {
      type: 'retry';
      method: string;
      url: string;
      endpoint: string;
      attempt: number;
      delayMs: number;
      reason: string;
    }
  | { type: 'throttle'; method: string; url: string; endpoint: string; delayMs: number; reason: string };

export interface KlaviyoClientOptions {
  apiKey: string;
  /** The `revision` header, e.g. `2026-07-15`. */
  revision: string;
  /** Where the key is configured (`env KLAVIYO_API_KEY` or a file path), named by a 401 message. */
  keySource?: string | undefined;
  /** Where the revision is configured (`env KLAVIYO_REVISION`, `<file> klaviyo_revision_time`); null = default. */
  revisionSource?: string | null | undefined;
  /** Default: env `KLAVIYO_BASE_URL`, else `https://a.klaviyo.com`. */
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
  random?: Random | undefined;
  /** Per request, for the headers and for each pause in the body. Default 60 s. */
  timeoutMs?: number | undefined;
  /** Retries after errors (5xx, timeouts, dropped connections, bad bodies). Default 8. */
  maxRetries?: number | undefined;
  /** Retries after 429s, counted apart (throttling is expected when sharing an account). Default 30. */
  maxThrottleRetries?: number | undefined;
  /** Requests of this client in flight at once (default: unlimited, only the rate limits apply). */
  maxConcurrency?: number | undefined;
  /** Open connections to the API (default: maxConcurrency, else 64). */
  connections?: number | undefined;
  /** Shared rate limiters. Default: the process-wide registry (or a private one with a custom clock). */
  limiter?: RateLimiterRegistry | undefined;
  /** Override the starting limits per bucket (e.g. `/api/events`). */
  rateLimits?: ((bucket: string) => RateLimits | undefined) | undefined;
  backoff?: Partial<BackoffOptions> | undefined;
  /** Observability: request/response/retry/throttle events, URLs already redacted. */
  onEvent?: ((event: KlaviyoClientEvent) => void) | undefined;
  userAgent?: string | undefined;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

export interface PaginateOptions extends RequestOptions {
  /** Safety cap: more pages than this is an error. */
  maxPages?: number | undefined;
  /**
   * Object and array attribute values of the resources come as `RawJson` (the API's JSON text, checked
   * but not parsed), for a caller that stores them as JSON columns without reading inside them.
   */
  rawJsonAttributes?: boolean | undefined;
}

export interface Page {
  data: Resource[];
  included: Resource[];
  /** The URL this page came from (redacted). */
  url: string;
  /** 1-based. */
  pageNumber: number;
  /** `links.next`, resolved to an absolute URL (redacted), or null on the last page. */
  nextUrl: string | null;
  /** Clock time (epoch ms) when the page arrived. */
  receivedAt: number;
}

export interface EndpointStats {
  requests: number;
  retries: number;
  throttled: number;
  bytes: number;
}

export interface ClientStats extends EndpointStats {
  byEndpoint: Record<string, EndpointStats>;
}

export type QueryInput = QueryParams | Readonly<Record<string, string>> | string | undefined;

export interface KlaviyoClient {
  readonly baseUrl: string;
  readonly revision: string;
  get(pathOrUrl: string, query?: QueryInput, options?: RequestOptions): Promise<JsonApiDocument>;
  post(
    path: string,
    body: unknown,
    options?: RequestOptions & { query?: QueryInput },
  ): Promise<JsonApiDocument>;
  paginate(
    path: string,
    query?: QueryInput,
    options?: PaginateOptions,
  ): AsyncGenerator<Page, void, undefined>;
  /** The absolute URL (redacted) a GET would go to, e.g. for --dry-run. */
  describeRequest(path: string, query?: QueryInput): string;
  /** Where the rate-limit budget of a GET's main bucket stands (limits, window, latency). */
  budget(path: string, query?: QueryInput): RateBudget;
  stats(): ClientStats;
  /** Closes the connection pool; pending requests finish first. */
  close(): Promise<void>;
}
