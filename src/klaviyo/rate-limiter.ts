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
 * and, unless a burst 429 taught it, the burst is taken as a fifteenth of it, as Klaviyo's tiers
 * have it). A short one means the burst window was full: the requests the server took in the second
 * before the throttled one, less one, became the burst cap (`learnBurst`): at most one cut per
 * episode, never below half of what we had sent, raised again by one after 10 s at the cap without a
 * 429 (`raiseBurst`). Until a steady 429 tells the steady limit, a learned burst also says where it
 * may be: past 9 bursts in a minute (the fewest of any tier), requests go about one answer apart, but
 * fast enough to reach 20 bursts (the most) before the minute ends (`cautiousIntervalMs`), so running
 * into the unknown limit throttles one or two requests, not all those in flight. Any 429 pauses the
 * whole bucket. Response times are kept too, for planning (see `budget()`).
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
/**
 * A learned burst cap is raised by one (a tenth, for large caps) once it has bound this long without
 * a burst 429: a one-off 429 (another client's burst on the account) does not cut our rate for the
 * whole run, and a cap that is right costs about one throttled request per this long at the cap.
 */
const BURST_RAISE_MS = 10_000;
/**
 * Klaviyo's tiers allow at least this many bursts per minute (L: 700/min = 9.3 x 75/s; XS-M 15-20,
 * XL 10). Past it, with the steady limit still unknown, requests go one answer at a time.
 */
const STEADY_BURSTS_AT_LEAST = 9;
/** ...and at most this many (S: 60/min = 20 x 3/s). */
const STEADY_BURSTS_AT_MOST = 20;
/** The careful pace still reaches that many this long before the minute (from our oldest grant in it) ends. */
const CAUTIOUS_SPARE_MS = 5000;

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
  /** Mean deviation of response times from `latency`. */
  private latencyDeviation = 0;
  private grantedSinceThrottle = 0;
  /** Without headers: the burst learned from short 429s (null: none learned, or headers tell it). */
  private burstCap: number | null = null;
  /** When the burst cap was last cut: 429s of requests sent before then were sent under the old cap. */
  private burstCutAt = Number.NEGATIVE_INFINITY;
  /** The burst in force before that cut. */
  private burstBeforeCut = 0;
  /** The most requests the server took in our second before a burst 429. */
  private burstServedMost = 0;
  /** Since when our grants have filled the learned burst cap every second or so (null: not now). */
  private burstBindingSince: number | null = null;
  /** When a grant last filled it. */
  private burstFullAt = 0;
  /** Send times of the requests answered with a 429, ascending (within the steady window). */
  private throttledSends: number[] = [];
  /** Whether a 429 with a long Retry-After taught the steady limit (no headers). */
  private steadyLearned = false;

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
      if (this.burstCap !== null) {
        // What the server says beats what 429s suggested.
        this.burstCap = null;
        this.pump();
      }
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
   * A 429 arrived; `retryAfterMs` is the server's wait, if it said; `sentAt` when the throttled
   * request was sent (default: now). With headers, only the window's phase is learned; without
   * them, the limit that was hit as well.
   */
  observeThrottle(retryAfterMs: number | null, sentAt?: number): void {
    const now = this.clock.now();
    const sent = Math.min(now, sentAt ?? now);
    this.throttleLog.push(now);
    insertSorted(this.throttledSends, sent);
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
          const burst =
            this.burstCap === null
              ? Math.min(this.limits.burstPerSecond, Math.floor(served / BURST_SHARE_OF_STEADY))
              : this.limits.burstPerSecond;
          this.limits = sanitize({ burstPerSecond: burst, steadyPerMinute: served });
          this.source = 'learned';
          this.steadyLearned = true;
        }
      }
      this.window = { remaining: 0, resetAt };
    } else if (retryAfterMs !== null && this.source !== 'headers') {
      this.learnBurst(sent, now);
    }
  }

  /**
   * A 429 with a short `Retry-After` (the burst window was full) of a request sent at `sent`: the
   * server took what we sent in the second before it, less what it throttled, so the burst is at
   * most that. One cut per episode: a 429 of a request sent before the last cut (sent under the old
   * cap) only refines that cut with what more is now known to have been throttled. Never below half
   * of what we sent in that second, so a storm of 429s from another client on the account cannot
   * ratchet it down at once; `raiseBurst` recovers it.
   */
  private learnBurst(sent: number, now: number): void {
    const from = sent - BURST_WINDOW_MS;
    const granted = countBetween(this.log, this.head, from, sent);
    const throttled = countBetween(this.throttledSends, 0, from, sent);
    const served = Math.max(0, granted - throttled);
    const refining = sent < this.burstCutAt;
    const before = refining ? this.burstBeforeCut : this.effectiveBurst();
    // Our second before the throttled request may reach back into the server's previous window
    // (fixed, of unknown phase), so the burst may be lower than what it served in ours: one less.
    this.burstServedMost = Math.max(this.burstServedMost, Math.min(before, served));
    const cap = Math.max(1, Math.ceil(granted / 2), Math.min(before, served) - 1);
    if (cap >= this.effectiveBurst()) return;
    this.burstCap = cap;
    this.burstBindingSince = null;
    if (!refining) {
      this.burstBeforeCut = before;
      this.burstCutAt = now;
    }
    if (this.source === 'configured') this.source = 'learned';
  }

  /** A response took `ms` from send to answer. */
  observeLatency(ms: number): void {
    if (!(ms >= 0)) return;
    if (this.latency !== null)
      this.latencyDeviation += LATENCY_WEIGHT * (Math.abs(ms - this.latency) - this.latencyDeviation);
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
      limits: this.getLimits(),
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

  /** The limits the limiter keeps now: a learned burst cap lowers the burst. */
  getLimits(): RateLimits {
    return { burstPerSecond: this.effectiveBurst(), steadyPerMinute: this.limits.steadyPerMinute };
  }

  private effectiveBurst(): number {
    return this.burstCap === null
      ? this.limits.burstPerSecond
      : Math.min(this.limits.burstPerSecond, this.burstCap);
  }

  snapshot(): RateLimiterSnapshot {
    const now = this.clock.now();
    this.prune(now);
    const lastSecond = countBetween(this.log, this.head, now - BURST_WINDOW_MS, Number.POSITIVE_INFINITY);
    return {
      key: this.key,
      limits: this.getLimits(),
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
    const burst = this.effectiveBurst();
    const steady = this.limits.steadyPerMinute;
    if (count >= burst) at = Math.max(at, (this.log[this.log.length - burst] as number) + this.burstWindow);
    const cautious = count > 0 ? this.cautiousIntervalMs(now) : null;
    if (cautious !== null) at = Math.max(at, (this.log[this.log.length - 1] as number) + cautious);
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
    this.raiseBurst(now);
  }

  /**
   * Additive increase: a learned burst cap goes up again once it has bound for a while (our grants
   * filled it every second or so) without a burst 429.
   */
  private raiseBurst(now: number): void {
    const cap = this.burstCap;
    if (cap === null) return;
    const lastSecond = countBetween(this.log, this.head, now - this.burstWindow, Number.POSITIVE_INFINITY);
    if (lastSecond < cap) return;
    // While requests go one answer at a time, slower than the cap, that pace binds, not the cap.
    const cautious = this.cautiousIntervalMs(now);
    if (cautious !== null && cautious * cap > this.burstWindow) return;
    if (this.burstBindingSince === null || now - this.burstFullAt > 2 * this.burstWindow)
      this.burstBindingSince = now;
    this.burstFullAt = now;
    if (now - this.burstBindingSince < BURST_RAISE_MS) return;
    const raised = cap + Math.max(1, Math.floor(cap / 10));
    this.burstCap = raised >= this.limits.burstPerSecond ? null : raised;
    this.burstBindingSince = null;
  }

  /**
   * Without headers, after a burst 429 and before a steady one: past the fewest bursts any tier
   * allows per minute, requests go about one answer apart (one in flight), so the first steady 429
   * finds about one request on its way instead of a second's worth; but no slower than would still
   * reach the most any tier allows (20 bursts) a few seconds before the minute ends. The burst
   * counted is what the server took in a second when it first throttled us, not the cap: a storm of
   * 429s from another client lowers the cap but says nothing about our per-minute limit. Returns
   * the wait between requests (ms), or null when not near it.
   */
  private cautiousIntervalMs(now: number): number | null {
    const cap = this.burstCap;
    if (cap === null || this.steadyLearned || this.source === 'headers') return null;
    if (this.latency === null) return null; // no answer yet to pace by
    // Both logs hold the last steady window (pruned by nextGrantAt): granted and not throttled.
    this.prune(now);
    const served = this.log.length - this.head - this.throttleLog.length;
    const burst = Math.max(cap, this.burstServedMost - 1);
    if (served < STEADY_BURSTS_AT_LEAST * burst) return null;
    const oneInFlight = this.latency + this.latencyDeviation;
    const left = STEADY_BURSTS_AT_MOST * burst - served;
    // From the last grant, which the wait is counted from, so the same wait whenever it is asked.
    const last = this.log[this.log.length - 1] as number;
    const msLeft = (this.log[this.head] as number) + STEADY_WINDOW_MS - CAUTIOUS_SPARE_MS - last;
    return left > 0 && msLeft > 0 ? Math.min(oneInFlight, msLeft / left) : oneInFlight;
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
    while (this.throttledSends.length > 0 && (this.throttledSends[0] as number) <= cutoff)
      this.throttledSends.shift();
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

/** How many of the ascending `times`, from index `head` on, lie in (after, upTo]. */
function countBetween(times: readonly number[], head: number, after: number, upTo: number): number {
  let count = 0;
  for (let i = times.length - 1; i >= head && (times[i] as number) > after; i--)
    if ((times[i] as number) <= upTo) count++;
  return count;
}

function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && (times[i - 1] as number) > t) i--;
  times.splice(i, 0, t);
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
