/**
 * A request's attempts until one succeeds, one fails for good, or a retry budget is spent. Errors
 * (5xx, timeouts, dropped connections, bad bodies) and throttles (429) have budgets of their own:
 * throttling is expected when other processes share the account. After an error this request
 * waits (backoff, or the server's Retry-After); after a throttle the whole rate-limit bucket is
 * paused instead, and the next attempt waits for it in the limiter like every other request.
 */
import type { Clock, Random } from '../../util/clock.js';
import { type IngestError, ingestionError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { safeUrl } from '../http-errors.js';
import type { JsonApiDocument } from '../json-api.js';
import {
  type BackoffOptions,
  retryDelay,
  ruleFor,
  UNREACHABLE_BACKOFF,
  UNREACHABLE_RETRIES,
} from '../retry-policy.js';
import type { Attempt, PreparedRequest } from './attempt.js';
import type { RetryableFailure } from './classify-response.js';
import type { Telemetry } from './telemetry.js';
import { sanitizedCause } from './transport.js';

export interface RetryOptions {
  clock: Clock;
  random: Random;
  telemetry: Telemetry;
  backoff: BackoffOptions;
  /** Retries after errors. */
  maxRetries: number;
  /** Retries after 429s. */
  maxThrottleRetries: number;
}

export function createRetryLoop(
  attempt: Attempt,
  options: RetryOptions,
): (request: PreparedRequest) => Promise<JsonApiDocument> {
  const { clock, random, telemetry, backoff, maxRetries, maxThrottleRetries } = options;
  return async (request) => {
    const { method, url, endpoint, limiters, signal } = request;
    const attempts: string[] = [];
    let errors = 0;
    let throttles = 0;
    let unreachable = 0;
    const firstAttemptAt = clock.now();
    for (let attemptNo = 1; ; attemptNo++) {
      signal?.throwIfAborted();
      const outcome = await attempt(request, attemptNo);
      if (outcome.kind === 'success') return outcome.doc;
      if (outcome.kind === 'fatal') throw outcome.error;
      const { failure } = outcome;
      attempts.push(`attempt ${attemptNo}: ${failure.summary}`);
      const isThrottle = ruleFor(failure.cause).throttle === true;
      // Nothing answers at all: a few quick attempts, then one short error (not minutes of backoff).
      if (failure.cause.kind === 'unreachable') {
        unreachable++;
        if (unreachable > UNREACHABLE_RETRIES) {
          throw unreachableError(request, failure, attemptNo, clock.now() - firstAttemptAt);
        }
      } else if (isThrottle) throttles++;
      else errors++;
      if ((isThrottle && throttles > maxThrottleRetries) || (!isThrottle && errors > maxRetries)) {
        throw exhaustedError(request, attempts, { errors, throttles }, failure);
      }
      const delayMs =
        failure.cause.kind === 'unreachable'
          ? retryDelay(unreachable, random, null, UNREACHABLE_BACKOFF)
          : retryDelay(isThrottle ? throttles : errors, random, failure.hintMs, backoff);
      telemetry.count(endpoint, 'retries');
      const display = safeUrl(url.href);
      if (isThrottle) {
        telemetry.count(endpoint, 'throttled');
        telemetry.emit({
          type: 'throttle',
          method,
          url: display,
          endpoint,
          delayMs,
          reason: failure.summary,
        });
        // The whole bucket waits, not just this request; the next acquire() honours it. Without
        // RateLimit headers the limiter learns the limit that was hit from this 429 (a request that
        // consumes two buckets cannot tell which one it hit).
        for (const limiter of limiters) {
          if (limiters.length === 1) limiter.observeThrottle(failure.hintMs, failure.sentAt);
          limiter.pause(delayMs);
        }
      }
      telemetry.emit({
        type: 'retry',
        method,
        url: display,
        endpoint,
        attempt: attemptNo,
        delayMs,
        reason: failure.summary,
      });
      if (!isThrottle) await clock.sleep(delayMs, signal);
    }
  };
}

/**
 * The API could not be reached at all (code KLAVIYO_UNREACHABLE). Short on purpose: every request of
 * a run fails the same way, and the run stops on the first one (see workflow/run-stop.ts).
 */
function unreachableError(
  { url }: PreparedRequest,
  last: RetryableFailure,
  attempts: number,
  elapsedMs: number,
): IngestError {
  const code = last.cause.kind === 'unreachable' ? last.cause.code : 'unknown';
  return ingestionError(
    redact(
      `cannot reach the Klaviyo API at ${url.origin} (${code}; ${attempts} attempts over ${(elapsedMs / 1000).toFixed(1)} s)`,
    ),
    {
      code: 'KLAVIYO_UNREACHABLE',
      fix: `check KLAVIYO_BASE_URL (unset it for https://a.klaviyo.com), DNS and the network or proxy, then rerun; the load resumes from the last committed window`,
      ...(last.raw === undefined ? {} : { cause: sanitizedCause(last.raw) }),
    },
  );
}

/** Every attempt's summary (the first two and the last nine when there are many), and what to do. */
function exhaustedError(
  { method, url }: PreparedRequest,
  attempts: string[],
  { errors, throttles }: { errors: number; throttles: number },
  last: RetryableFailure,
): IngestError {
  const shown = attempts.length > 12 ? [...attempts.slice(0, 2), '…', ...attempts.slice(-9)] : attempts;
  return ingestionError(
    redact(
      `Klaviyo API ${method} ${safeUrl(url.href)} still failing after ${attempts.length} attempts (${errors} errors, ${throttles} throttled): ${shown.join('; ')}. Last cause: ${last.summary}.`,
    ),
    {
      code: 'KLAVIYO_RETRIES_EXHAUSTED',
      fix:
        last.cause.kind === 'connection'
          ? 'check the network and KLAVIYO_BASE_URL, then rerun'
          : 'rerun later; the load resumes from the last committed window',
      ...(last.raw === undefined ? {} : { cause: sanitizedCause(last.raw) }),
    },
  );
}
