/**
 * What to do after a failed attempt, as a table (status or transport error → action), and how
 * long to wait. Retry: 429, 5xx gateway/availability statuses, timeouts, dropped connections,
 * truncated or unparseable 2xx bodies. Fail fast: client errors, which no retry can fix.
 * Waits: exponential backoff with full jitter; `Retry-After` (or the 429 body's "Expected
 * available in N seconds") wins.
 */
import type { Random } from '../util/clock.js';

export type FailureCause =
  | { kind: 'status'; status: number }
  | { kind: 'timeout' }
  | { kind: 'connection'; code: string }
  /** No connection could be made at all (refused, no DNS answer, no route): the API is unreachable. */
  | { kind: 'unreachable'; code: string }
  | { kind: 'bad-body'; reason: string };

export interface RetryRule {
  retry: boolean;
  /** Error code when this is the final outcome. */
  code: string;
  /** A 429: pause the whole rate-limit bucket, not just this request. */
  throttle?: boolean;
}

export const STATUS_RULES: Readonly<Record<number, RetryRule>> = {
  400: { retry: false, code: 'KLAVIYO_BAD_REQUEST' },
  401: { retry: false, code: 'KLAVIYO_AUTH' },
  403: { retry: false, code: 'KLAVIYO_FORBIDDEN' },
  404: { retry: false, code: 'KLAVIYO_NOT_FOUND' },
  405: { retry: false, code: 'KLAVIYO_METHOD_NOT_ALLOWED' },
  409: { retry: false, code: 'KLAVIYO_CONFLICT' },
  410: { retry: false, code: 'KLAVIYO_GONE' },
  415: { retry: false, code: 'KLAVIYO_UNSUPPORTED_MEDIA_TYPE' },
  429: { retry: true, code: 'KLAVIYO_RATE_LIMITED', throttle: true },
  500: { retry: true, code: 'KLAVIYO_SERVER_ERROR' },
  502: { retry: true, code: 'KLAVIYO_SERVER_ERROR' },
  503: { retry: true, code: 'KLAVIYO_SERVER_ERROR' },
  504: { retry: true, code: 'KLAVIYO_SERVER_ERROR' },
  524: { retry: true, code: 'KLAVIYO_SERVER_ERROR' },
};

/** Transport errors (Node / undici codes) that a new attempt can fix. */
export const RETRYABLE_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'Z_BUF_ERROR',
  'Z_DATA_ERROR',
]);

/**
 * Transport errors before any byte was exchanged: nothing listens at the base URL, its name does not
 * resolve, or there is no route. A few quick attempts tell a blip from a wrong KLAVIYO_BASE_URL or a
 * network that is down; the long backoff of other errors would only hide the cause for minutes.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Attempts after the first while the API is unreachable, and their backoff: a few seconds in all. */
export const UNREACHABLE_RETRIES = 3;
export const UNREACHABLE_BACKOFF: BackoffOptions = { baseMs: 300, capMs: 1_500, retryAfterCapMs: 0 };

export const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function ruleFor(cause: FailureCause): RetryRule {
  switch (cause.kind) {
    case 'status': {
      const known = STATUS_RULES[cause.status];
      if (known) return known;
      if (cause.status >= 500) return { retry: true, code: 'KLAVIYO_SERVER_ERROR' };
      return { retry: false, code: 'KLAVIYO_HTTP_ERROR' };
    }
    case 'timeout':
      return { retry: true, code: 'KLAVIYO_TIMEOUT' };
    case 'connection':
      return RETRYABLE_CONNECTION_CODES.has(cause.code)
        ? { retry: true, code: 'KLAVIYO_CONNECTION' }
        : { retry: false, code: 'KLAVIYO_CONNECTION' };
    case 'unreachable':
      return { retry: true, code: 'KLAVIYO_UNREACHABLE' };
    case 'bad-body':
      return { retry: true, code: 'KLAVIYO_BAD_BODY' };
  }
}

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Upper bound for a server-given wait (Retry-After). */
  retryAfterCapMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000, retryAfterCapMs: 120_000 };

/** Full jitter: uniform in [0, min(cap, base·2^(attempt-1))]; `attempt` counts from 1. */
export function backoffDelay(
  attempt: number,
  random: Random,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as seconds or an HTTP date, in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** "Request was throttled. Expected available in 7 seconds." → 7000 ms. */
export function parseExpectedAvailable(detail: string | undefined): number | null {
  if (!detail) return null;
  const m = /expected available in (\d+(?:\.\d+)?) second/i.exec(detail);
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

/**
 * How long to wait before the next attempt. A server hint (Retry-After, or for a 429 the body's
 * "Expected available in N seconds") wins, capped; a hint of 0 still waits a little (with jitter),
 * since immediate retries after a 429 are always throttled again. Otherwise: backoff.
 */
export function retryDelay(
  attempt: number,
  random: Random,
  hintMs: number | null,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  if (hintMs !== null) {
    const jitter = Math.floor(random() * 250);
    return Math.min(options.retryAfterCapMs, hintMs) + (hintMs === 0 ? 250 + jitter : jitter);
  }
  return backoffDelay(attempt, random, options);
}
