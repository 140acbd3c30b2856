/**
 * One attempt at a request: wait for a turn (the client's concurrency cap, then each rate-limit
 * bucket the request consumes), send it, report it (events, counters), let the limiter learn from
 * the answer's `RateLimit-*` headers, and classify the answer.
 */
import type { Clock } from '../../util/clock.js';
import { type CredentialContext, safeUrl } from '../http-errors.js';
import type { RateLimiter } from '../rate-limiter.js';
import {
  type AttemptOutcome,
  classifyResponse,
  classifyTransportError,
  isSuccessStatus,
} from './classify-response.js';
import type { Semaphore } from './semaphore.js';
import type { Telemetry } from './telemetry.js';
import type { Transport, TransportResponse } from './transport.js';

/** A request as every attempt at it sends it. */
export interface PreparedRequest {
  method: 'GET' | 'POST';
  url: URL;
  payload: string | undefined;
  signal: AbortSignal | undefined;
  /** The normalized path (`/api/events`), for events and counters. */
  endpoint: string;
  /** One per rate-limit bucket the request consumes. */
  limiters: RateLimiter[];
  hadCursor: boolean;
  /** Parse object and array attributes of the page's resources as `RawJson` (see json-bytes.ts). */
  rawJsonAttributes: boolean;
}

/** `attemptNo` counts from 1. An abort (of `request.signal`) is thrown; every other failure is an outcome. */
export type Attempt = (request: PreparedRequest, attemptNo: number) => Promise<AttemptOutcome>;

export interface AttemptDeps {
  transport: Transport;
  telemetry: Telemetry;
  clock: Clock;
  /** The client's own cap on requests in flight, if it has one. */
  cap: Semaphore | null;
  timeoutMs: number;
  credentials: CredentialContext;
}

export function createAttempt({
  transport,
  telemetry,
  clock,
  cap,
  timeoutMs,
  credentials,
}: AttemptDeps): Attempt {
  /** This client's requests sent and not yet classified. */
  let inFlight = 0;

  return async (request, attemptNo) => {
    const { method, url, endpoint, limiters, signal } = request;
    const display = safeUrl(url.href);
    const queuedAt = clock.now();
    if (cap) await cap.acquire(signal);
    try {
      for (const limiter of limiters) await limiter.acquire(signal);
      const started = clock.now();
      telemetry.emit({
        type: 'request',
        method,
        url: display,
        endpoint,
        attempt: attemptNo,
        at: started,
        queuedMs: started - queuedAt,
      });
      telemetry.count(endpoint, 'requests');
      inFlight++;
      let status = 0;
      try {
        const response = await transport.request(method, url, request.payload, signal);
        status = response.status;
        const body = await response.readBody();
        telemetry.count(endpoint, 'bytes', body.wireBytes);
        telemetry.emit({
          type: 'response',
          method,
          url: display,
          endpoint,
          attempt: attemptNo,
          status,
          bytes: body.wireBytes,
          durationMs: clock.now() - started,
        });
        if (body.undecodable === null && status !== 429) {
          // Every answer but a 429 describes the steady window; the server's remaining count does
          // not yet include our other requests in flight.
          observeRateLimits(limiters, response, inFlight - 1);
          if (isSuccessStatus(status))
            for (const limiter of limiters) limiter.observeLatency(clock.now() - started);
        }
        try {
          const outcome = classifyResponse(
            {
              method,
              url,
              hadCursor: request.hadCursor,
              rawJsonAttributes: request.rawJsonAttributes,
              status,
              header: response.header,
              body: body.bytes,
              undecodable: body.undecodable,
            },
            { credentials, now: () => clock.now() },
          );
          // A limiter learning from a 429 counts what it granted before this request.
          return outcome.kind === 'retryable'
            ? { kind: 'retryable', failure: { ...outcome.failure, sentAt: started } }
            : outcome;
        } finally {
          // What classifying keeps (the parsed document, messages) no longer refers to the bytes.
          body.release();
        }
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        return classifyTransportError(error, status, timeoutMs);
      } finally {
        inFlight--;
      }
    } finally {
      cap?.release();
    }
  };
}

/**
 * The headers describe one bucket; a request that consumes two (profiles with predictive
 * analytics) cannot tell which, so neither learns from them.
 */
function observeRateLimits(
  limiters: RateLimiter[],
  response: TransportResponse,
  othersInFlight: number,
): void {
  if (limiters.length !== 1) return;
  limiters[0]?.observeHeaders(
    {
      limit: response.header('ratelimit-limit'),
      remaining: response.header('ratelimit-remaining'),
      reset: response.header('ratelimit-reset'),
    },
    othersInFlight,
  );
}
