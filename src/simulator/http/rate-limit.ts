import { type EndpointName, newestRateLimit } from '../../klaviyo/endpoints/index.js';
import { type RateTier, tierForBurst } from '../../klaviyo/rate-tiers.js';

export interface Limits {
  /** requests per 1-second window */
  burst: number;
  /** requests per 60-second window */
  steady: number;
}

export type TierName = RateTier;

export interface RateLimitOptions {
  /** `real` (spec values), `off`, or `scaled:F` (multiply every limit by F, at least 1). Default `real`. */
  mode?: string;
  /** Per endpoint (`events`) or per tier (`XL`) limits, taking precedence over `mode`'s values. */
  overrides?: Partial<Record<EndpointName | TierName, Limits>>;
  /**
   * `clock` (default): windows start on whole seconds and minutes of the wall clock. `first-request`:
   * each key's windows start with its first request (benchmarks: several keys, each its own phase).
   */
  windows?: 'clock' | 'first-request';
  /** Keys no limit applies to (benchmarks warm the page cache with one). */
  unlimitedKeys?: readonly string[];
}

/** Extra bucket for `additional-fields[profile]=predictive_analytics` (10/s, 150/m). */
const PREDICTIVE_LIMITS: Limits = { burst: 10, steady: 150 };

export function parseRateLimitMode(mode: string): { off: boolean; scale: number } {
  if (mode === 'off') return { off: true, scale: 1 };
  if (mode === 'real') return { off: false, scale: 1 };
  const m = /^scaled:(\d+(?:\.\d+)?)$/.exec(mode);
  if (m && Number(m[1]) > 0) return { off: false, scale: Number(m[1]) };
  throw new Error(`invalid rate limit mode '${mode}' (expected real, off or scaled:F)`);
}

interface Window {
  start: number;
  count: number;
}

export type RateDecision =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; retryAfterSeconds: number };

/** Fixed-window counters per (key, bucket): a 1 s burst window and a 60 s steady window. */
export class RateLimiter {
  private readonly off: boolean;
  private readonly scale: number;
  private readonly windows = new Map<string, { burst: Window; steady: Window; epoch: number }>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number,
  ) {
    const parsed = parseRateLimitMode(options.mode ?? 'real');
    this.off = parsed.off;
    this.scale = parsed.scale;
  }

  limitsFor(endpoint: EndpointName, bucket: 'main' | 'predictive' = 'main'): Limits | null {
    const spec = bucket === 'predictive' ? PREDICTIVE_LIMITS : newestRateLimit(endpoint);
    const override =
      bucket === 'main'
        ? (this.options.overrides?.[endpoint] ?? this.options.overrides?.[tierForBurst(spec.burst)])
        : undefined;
    if (override) return override;
    if (this.off) return null;
    return {
      burst: Math.max(1, Math.floor(spec.burst * this.scale)),
      steady: Math.max(1, Math.floor(spec.steady * this.scale)),
    };
  }

  /** Checks every bucket, and only when all have room consumes one request from each. */
  take(apiKey: string, endpoint: EndpointName, buckets: ('main' | 'predictive')[]): RateDecision {
    const t = this.now();
    const checks: { w: { burst: Window; steady: Window }; limits: Limits }[] = [];
    let retry = 0;
    if (this.options.unlimitedKeys?.includes(apiKey)) return { ok: true, headers: {} };
    for (const bucket of buckets) {
      const limits = this.limitsFor(endpoint, bucket);
      if (!limits) continue;
      const key = `${apiKey}\u0000${endpoint}\u0000${bucket}`;
      let w = this.windows.get(key);
      if (!w) {
        const epoch = this.options.windows === 'first-request' ? t : 0;
        w = { burst: { start: 0, count: 0 }, steady: { start: 0, count: 0 }, epoch };
        this.windows.set(key, w);
      }
      const burstStart = Math.floor((t - w.epoch) / 1000) * 1000 + w.epoch;
      const steadyStart = Math.floor((t - w.epoch) / 60_000) * 60_000 + w.epoch;
      if (w.burst.start !== burstStart) w.burst = { start: burstStart, count: 0 };
      if (w.steady.start !== steadyStart) w.steady = { start: steadyStart, count: 0 };
      if (w.steady.count >= limits.steady)
        retry = Math.max(retry, Math.ceil((steadyStart + 60_000 - t) / 1000));
      else if (w.burst.count >= limits.burst)
        retry = Math.max(retry, Math.ceil((burstStart + 1000 - t) / 1000));
      checks.push({ w, limits });
    }
    if (retry > 0) return { ok: false, retryAfterSeconds: retry };
    let headers: Record<string, string> = {};
    checks.forEach(({ w, limits }, k) => {
      w.burst.count++;
      w.steady.count++;
      if (k === 0) {
        headers = {
          // The steady limit first (what the docs describe), then both windows as a recorded response shows.
          'RateLimit-Limit': `${limits.steady}, ${limits.burst};w=1, ${limits.steady};w=60`,
          'RateLimit-Remaining': String(Math.max(0, limits.steady - w.steady.count)),
          'RateLimit-Reset': String(Math.max(0, Math.ceil((w.steady.start + 60_000 - t) / 1000))),
        };
      }
    });
    return { ok: true, headers };
  }
}
