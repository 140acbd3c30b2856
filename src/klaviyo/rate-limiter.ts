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
 * the configured limits, and `RateLimit-Remaining` / `RateLimit-Reset` place the server's fixed
 * steady window: once its budget is spent, nothing is sent until it resets (no 429 while the headers
 * say the window is spent), and when it resets the whole new budget may go at once. Without the
 * headers the limits are learned from the first 429s: a `Retry-After` longer than the burst window
 * means the steady window is spent (what we sent in it is the steady limit, its end is now known,
 * and the burst is taken as a fifteenth of it, as Klaviyo's tiers have it); a short one only pauses.
 * Any 429 pauses the whole bucket. Response times are kept too, for planning (see `budget()`).
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
  /** The server's steady window, when its phase is known (headers or a learned 429). */
  serverWindow: { remaining: number; resetAt: number } | null;
  throttles: number;
  /** Where the limits come from. */
  source: LimitSource;
}

/** Configured from the endpoint's tier, reported by `RateLimit-*` headers, or learned from 429s. */
export type LimitSource = 'configured' | 'headers' | 'learned';

/** What a planner needs to know to decide how many requests to keep going (see request-plan.ts). */
export interface RateBudget {
  limits: RateLimits;
  /** Requests the current steady window still allows, by our best estimate. */
  steadyRemaining: number;
  /** Until the steady window gives its budget back (ms): the server's reset, or when our oldest grant ages out. */
  msToSteadyReset: number;
  /** Mean response time of recent requests (ms), null before the first answer. */
  latencyMs: number | null;
  source: LimitSource;
  /** Requests granted since the last 429 (or ever): how far unknown limits have been probed. */
  grantedSinceThrottle: number;
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
/** Sent this long after the server's steady window resets, so a request cannot arrive just before. */
const RESET_MARGIN_MS = 50;
/** The smallest steady limit of Klaviyo's tiers (XS); a 429 after fewer served was someone else's. */
const MIN_STEADY = 15;
/** Steady limit ÷ burst limit assumed when a 429 taught the steady limit but not the burst. */
const BURST_SHARE_OF_STEADY = 15;
/** Weight of the newest response time in the running mean. */
const LATENCY_WEIGHT = 0.2;

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
  /**
   * The server's fixed steady window once its phase is known: requests it still allows (our
   * estimate, lowered by every header) and when it resets (the earliest upper bound seen).
   */
  private window: { remaining: number; resetAt: number } | null = null;
  private timer: { at: number; abort: AbortController } | null = null;
  private throttles = 0;
  /** When 429s arrived, ascending: requests that were granted but did not count as served. */
  private throttleLog: number[] = [];
  private source: LimitSource = 'configured';
  private latency: number | null = null;
  private grantedSinceThrottle = 0;

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

  /**
   * Learn from a response's `RateLimit-*` headers (any answer but a 429). `inFlight`: our other
   * requests still running, which the server may count after this one.
   */
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
      this.source = 'headers';
      if (raised) this.pump();
    }
    const remaining = toInt(headers.remaining);
    const reset = toInt(headers.reset);
    if (remaining === null) return;
    this.source = 'headers';
    // Reset is whole seconds rounded up, counted when the request arrived: now + reset is no earlier
    // than the window's end, and the smallest such bound is the closest.
    const resetAt = now + Math.max(1, reset ?? 60) * 1000 + RESET_MARGIN_MS;
    const left = Math.max(0, remaining - inFlight);
    this.rollWindow(now);
    const current = this.window;
    if (current === null || resetAt > current.resetAt + 1000) {
      // The first header, or one counted in the window after ours (it arrived after the reset).
      this.window = { remaining: left, resetAt };
    } else {
      current.resetAt = Math.min(current.resetAt, resetAt);
      current.remaining = Math.min(current.remaining, left);
    }
    this.pump();
  }

  /**
   * A 429 arrived; `retryAfterMs` is the server's wait, if it said. With headers, only the window's
   * phase is learned; without them, the limit that was hit as well (only ever lowered).
   */
  observeThrottle(retryAfterMs: number | null): void {
    const now = this.clock.now();
    this.throttleLog.push(now);
    this.grantedSinceThrottle = 0;
    this.prune(now);
    if (retryAfterMs !== null && retryAfterMs > BURST_WINDOW_MS) {
      // The steady window is spent until the server's reset.
      const resetAt = now + retryAfterMs + RESET_MARGIN_MS;
      if (this.source !== 'headers') {
        const served = this.countSince(resetAt - STEADY_WINDOW_MS - RESET_MARGIN_MS, now);
        // Fewer served than any tier allows: not our own pace that was throttled (a shared account).
        if (served >= MIN_STEADY && served < this.limits.steadyPerMinute) {
          // Klaviyo's tiers allow a burst of 1/10 (L, XL) to 1/20 (S) of the steady limit per second:
          // until a 429 says otherwise, assume the middle of that, not the configured tier's burst.
          const burst = Math.min(this.limits.burstPerSecond, Math.floor(served / BURST_SHARE_OF_STEADY));
          this.limits = sanitize({ burstPerSecond: burst, steadyPerMinute: served });
          this.source = 'learned';
        }
      }
      this.window = { remaining: 0, resetAt };
    }
    // A short wait teaches nothing: a storm of them (another client on the account, a struggling
    // server) would otherwise ratchet the burst down for good; the pause alone honours it.
  }

  /** A response took `ms` from send to answer. */
  observeLatency(ms: number): void {
    if (!(ms >= 0)) return;
    this.latency = this.latency === null ? ms : this.latency + LATENCY_WEIGHT * (ms - this.latency);
  }

  /** Where the budget stands now: what the limits allow from here, and how fast answers come. */
  budget(): RateBudget {
    const now = this.clock.now();
    this.prune(now);
    this.rollWindow(now);
    const granted = this.log.length - this.head;
    const sliding = {
      remaining: Math.max(0, this.limits.steadyPerMinute - granted),
      ms: granted === 0 ? this.steadyWindow : (this.log[this.head] as number) + this.steadyWindow - now,
    };
    const window = this.window;
    return {
      limits: { ...this.limits },
      steadyRemaining: window ? Math.max(0, window.remaining) : sliding.remaining,
      msToSteadyReset: Math.max(0, window ? window.resetAt - now : sliding.ms),
      latencyMs: this.latency,
      source: this.source,
      grantedSinceThrottle: this.grantedSinceThrottle,
    };
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
      serverWindow: this.window ? { ...this.window } : null,
      throttles: this.throttles,
      source: this.source,
    };
  }

  /** The earliest time a request may be granted (<= now means now). */
  private nextGrantAt(now: number): number {
    this.prune(now);
    let at = Math.max(now, this.pausedUntil);
    const count = this.log.length - this.head;
    const { burstPerSecond: burst, steadyPerMinute: steady } = this.limits;
    if (count >= burst) at = Math.max(at, (this.log[this.log.length - burst] as number) + this.burstWindow);
    this.rollWindow(now);
    if (this.window) {
      // The server's own window: its budget, and the whole of it again from its reset.
      if (this.window.remaining <= 0) at = Math.max(at, this.window.resetAt);
    } else if (count >= steady) {
      at = Math.max(at, (this.log[this.log.length - steady] as number) + this.steadyWindow);
    }
    return at;
  }

  private grant(now: number): void {
    this.log.push(now);
    this.grantedSinceThrottle++;
    if (this.window) this.window.remaining--;
  }

  /** Past the server's reset, its next window starts with the whole steady budget. */
  private rollWindow(now: number): void {
    const window = this.window;
    if (!window || now < window.resetAt) return;
    const windows = Math.floor((now - window.resetAt) / STEADY_WINDOW_MS) + 1;
    window.resetAt += windows * STEADY_WINDOW_MS;
    window.remaining = this.limits.steadyPerMinute;
  }

  /** Requests granted in [from, to] that were not answered with a 429. */
  private countSince(from: number, to: number): number {
    let granted = 0;
    for (let i = this.log.length - 1; i >= this.head && (this.log[i] as number) >= from; i--)
      if ((this.log[i] as number) <= to) granted++;
    let throttled = 0;
    for (let i = this.throttleLog.length - 1; i >= 0 && (this.throttleLog[i] as number) >= from; i--)
      throttled++;
    return Math.max(0, granted - throttled);
  }

  private prune(now: number): void {
    const cutoff = now - this.steadyWindow;
    while (this.head < this.log.length && (this.log[this.head] as number) <= cutoff) this.head++;
    while (this.throttleLog.length > 0 && (this.throttleLog[0] as number) <= cutoff) this.throttleLog.shift();
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
