/**
 * Client-side rate limiting that matches Klaviyo's: per account and endpoint, two
 * fixed windows, burst (1 s) and steady (1 min). A 429 means we were too fast; the goal is to
 * use the whole budget and (almost) never see one.
 *
 * Each limiter keeps a log of the times it granted requests and allows a new one when fewer than
 * `burst` were granted in the last second and fewer than `steady` in the last minute. That holds
 * for *every* window, so it also holds for whatever window boundaries the server uses, and still
 * lets a fresh bucket spend its whole burst at once. Requests run concurrently: the limiter
 * decides when a request may *start*, not how many are in flight.
 *
 * It adapts to the server: `RateLimit-Limit` (steady, or `N;w=1` / `N;w=60` entries) replaces
 * the configured limits; a `RateLimit-Remaining` lower than our own estimate (another process
 * shares the account) caps what we send until `RateLimit-Reset`; a 429 pauses the whole bucket.
 *
 * Limiters live in a registry keyed by (base URL, API key fingerprint, bucket) so every client in
 * the process that talks to the same account and endpoint shares one. All waiting uses the Clock.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../util/clock.js';

export interface RateLimits {
  burstPerSecond: number;
  steadyPerMinute: number;
}

export interface RateLimiterOptions {
  /** Extra time added to each window so network jitter cannot squeeze N+1 requests into one. */
  burstMarginMs?: number;
  steadyMarginMs?: number;
}

export interface RateLimiterSnapshot {
  key: string;
  limits: RateLimits;
  /** Requests granted in the current steady / burst windows. */
  grantedLastMinute: number;
  grantedLastSecond: number;
  waiting: number;
  pausedUntil: number | null;
  serverBudget: { remaining: number; until: number } | null;
  throttles: number;
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

const BURST_WINDOW_MS = 1000;
const STEADY_WINDOW_MS = 60_000;

export class RateLimiter {
  readonly key: string;
  private limits: RateLimits;
  private readonly clock: Clock;
  private readonly burstWindow: number;
  private readonly steadyWindow: number;
  /** Grant times, ascending; entries before `head` are outside the steady window. */
  private log: number[] = [];
  private head = 0;
  private waiters: Waiter[] = [];
  private waiterHead = 0;
  private pausedUntil = 0;
  private budget: { remaining: number; until: number } | null = null;
  private timer: { at: number; abort: AbortController } | null = null;
  private throttles = 0;

  constructor(key: string, limits: RateLimits, clock: Clock, options: RateLimiterOptions = {}) {
    this.key = key;
    this.limits = sanitize(limits);
    this.clock = clock;
    this.burstWindow = BURST_WINDOW_MS + (options.burstMarginMs ?? 50);
    this.steadyWindow = STEADY_WINDOW_MS + (options.steadyMarginMs ?? 500);
  }

  /** Resolves when a request may start. FIFO. Rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.clock.now();
    if (this.waiterHead === this.waiters.length && this.nextGrantAt(now) <= now) {
      this.grant(now);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, done: false };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.done) return;
          waiter.done = true;
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Stop the whole bucket for `ms` (a 429): every waiting and new request waits. */
  pause(ms: number): void {
    this.throttles++;
    const until = this.clock.now() + Math.max(0, ms);
    if (until > this.pausedUntil) this.pausedUntil = until;
    this.pump();
  }

  /** Learn from a successful response's `RateLimit-*` headers. `inFlight`: other requests still running. */
  observeHeaders(headers: RateLimitHeaders, inFlight = 0): void {
    const now = this.clock.now();
    const reported = parseRateLimitLimit(headers.limit);
    if (reported) {
      const next = sanitize({
        burstPerSecond: reported.burstPerSecond ?? this.limits.burstPerSecond,
        steadyPerMinute: reported.steadyPerMinute ?? this.limits.steadyPerMinute,
      });
      const raised =
        next.burstPerSecond > this.limits.burstPerSecond ||
        next.steadyPerMinute > this.limits.steadyPerMinute;
      this.limits = next;
      if (raised) this.pump();
    }
    const remaining = toInt(headers.remaining);
    const reset = toInt(headers.reset);
    if (remaining === null) return;
    this.prune(now);
    const ourEstimate = this.limits.steadyPerMinute - (this.log.length - this.head);
    if (remaining >= ourEstimate) return;
    const until = now + Math.max(1, reset ?? 60) * 1000;
    const left = Math.max(0, remaining - inFlight);
    if (this.budget && this.budget.until > now && until <= this.budget.until + 1000) {
      this.budget.remaining = Math.min(this.budget.remaining, left);
    } else {
      this.budget = { remaining: left, until };
    }
  }

  setLimits(limits: RateLimits): void {
    this.limits = sanitize(limits);
    this.pump();
  }

  getLimits(): RateLimits {
    return { ...this.limits };
  }

  snapshot(): RateLimiterSnapshot {
    const now = this.clock.now();
    this.prune(now);
    let lastSecond = 0;
    for (let i = this.log.length - 1; i >= this.head && (this.log[i] as number) > now - BURST_WINDOW_MS; i--)
      lastSecond++;
    return {
      key: this.key,
      limits: { ...this.limits },
      grantedLastMinute: this.log.length - this.head,
      grantedLastSecond: lastSecond,
      waiting: this.waiters.length - this.waiterHead,
      pausedUntil: this.pausedUntil > now ? this.pausedUntil : null,
      serverBudget: this.budget && this.budget.until > now ? { ...this.budget } : null,
      throttles: this.throttles,
    };
  }

  /** The earliest time a request may be granted (<= now means now). */
  private nextGrantAt(now: number): number {
    this.prune(now);
    let at = Math.max(now, this.pausedUntil);
    const count = this.log.length - this.head;
    const { burstPerSecond: burst, steadyPerMinute: steady } = this.limits;
    if (count >= burst) at = Math.max(at, (this.log[this.log.length - burst] as number) + this.burstWindow);
    if (count >= steady)
      at = Math.max(at, (this.log[this.log.length - steady] as number) + this.steadyWindow);
    if (this.budget) {
      if (this.budget.until <= now) this.budget = null;
      else if (this.budget.remaining <= 0) at = Math.max(at, this.budget.until);
    }
    return at;
  }

  private grant(now: number): void {
    this.log.push(now);
    if (this.budget && this.budget.until > now) this.budget.remaining--;
  }

  private prune(now: number): void {
    const cutoff = now - this.steadyWindow;
    while (this.head < this.log.length && (this.log[this.head] as number) <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
  }

  private pump(): void {
    const now = this.clock.now();
    while (this.waiterHead < this.waiters.length) {
      const waiter = this.waiters[this.waiterHead] as Waiter;
      if (waiter.done) {
        this.dequeue();
        continue;
      }
      const at = this.nextGrantAt(now);
      if (at > now) {
        this.arm(at, now);
        return;
      }
      this.dequeue();
      waiter.done = true;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.grant(now);
      waiter.resolve();
    }
  }

  private dequeue(): void {
    this.waiterHead++;
    if (this.waiterHead > 1024 && this.waiterHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waiterHead);
      this.waiterHead = 0;
    }
    if (this.waiterHead === this.waiters.length) {
      this.waiters = [];
      this.waiterHead = 0;
    }
  }

  private arm(at: number, now: number): void {
    if (this.timer && this.timer.at <= at) return; // an earlier wake-up re-pumps anyway
    this.timer?.abort.abort();
    const abort = new AbortController();
    const timer = { at, abort };
    this.timer = timer;
    this.clock.sleep(at - now, abort.signal).then(
      () => {
        if (this.timer === timer) this.timer = null;
        this.pump();
      },
      () => {
        if (this.timer === timer) this.timer = null;
      },
    );
  }
}

export interface RateLimitHeaders {
  limit?: string | undefined;
  remaining?: string | undefined;
  reset?: string | undefined;
}

function toInt(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^\s*(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * `RateLimit-Limit` is documented as the steady limit (`3500`); recorded responses also show the
 * structured form `350, 350;w=1, 3500;w=60`. Only windows we can place are used.
 */
export function parseRateLimitLimit(
  text: string | undefined,
): { burstPerSecond?: number; steadyPerMinute?: number } | null {
  if (!text) return null;
  const out: { burstPerSecond?: number; steadyPerMinute?: number } = {};
  let windowed = false;
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)\s*;\s*w\s*=\s*(\d+)/.exec(item);
    if (!m) continue;
    windowed = true;
    const n = Number(m[1]);
    const w = Number(m[2]);
    if (w === 1) out.burstPerSecond = n;
    else if (w === 60) out.steadyPerMinute = n;
  }
  if (!windowed) {
    const n = toInt(text);
    if (n === null) return null;
    out.steadyPerMinute = n;
  }
  return out.burstPerSecond === undefined && out.steadyPerMinute === undefined ? null : out;
}

function sanitize(limits: RateLimits): RateLimits {
  return {
    burstPerSecond: Math.max(1, Math.floor(limits.burstPerSecond)),
    steadyPerMinute: Math.max(1, Math.floor(limits.steadyPerMinute)),
  };
}

/** A short, non-reversible tag for an API key, so limiter keys never hold the key itself. */
function keyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

/** Shares limiters between every client (sources, accounts) in a process. */
export class RateLimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();
  readonly clock: Clock;
  private readonly options: RateLimiterOptions;

  constructor(clock: Clock, options: RateLimiterOptions = {}) {
    this.clock = clock;
    this.options = options;
  }

  /**
   * The limiter for (base URL origin, API key, bucket); created with `limits` the first time.
   * `bucket` is the normalised endpoint path (e.g. `/api/events`) or a derived name for the
   * smaller query-parameter buckets (e.g. `/api/profiles#predictive_analytics`).
   */
  get(baseUrl: string, apiKey: string, bucket: string, limits: RateLimits): RateLimiter {
    const key = `${originOf(baseUrl)}|${keyFingerprint(apiKey)}|${bucket}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter(key, limits, this.clock, this.options);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  snapshot(): RateLimiterSnapshot[] {
    return [...this.limiters.values()].map((l) => l.snapshot());
  }
}

function originOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}
