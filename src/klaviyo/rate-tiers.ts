/**
 * Klaviyo's rate-limit tiers and which tier each collection endpoint we read is in (revision
 * 2026-07-15, docs/klaviyo-api/). The server's `RateLimit-*` headers refine these at run time.
 */

export type RateTier = 'XS' | 'S' | 'M' | 'L' | 'XL';

export interface TierLimits {
  burstPerSecond: number;
  steadyPerMinute: number;
}

export const RATE_TIERS: Readonly<Record<RateTier, TierLimits>> = {
  XS: { burstPerSecond: 1, steadyPerMinute: 15 },
  S: { burstPerSecond: 3, steadyPerMinute: 60 },
  M: { burstPerSecond: 10, steadyPerMinute: 150 },
  L: { burstPerSecond: 75, steadyPerMinute: 750 },
  XL: { burstPerSecond: 350, steadyPerMinute: 3500 },
};

const ENDPOINT_TIERS: ReadonlyMap<string, RateTier> = new Map<string, RateTier>([
  ['/api/events', 'XL'],
  ['/api/profiles', 'L'],
  ['/api/campaigns', 'M'],
  ['/api/lists', 'L'],
  ['/api/templates', 'L'],
  ['/api/metrics', 'M'],
  ['/api/segments', 'L'],
  ['/api/flows', 'S'],
  ['/api/metric-aggregates', 'S'],
]);

/** Tier for endpoints we have no entry for; the server's headers refine it. */
export const DEFAULT_TIER: RateTier = 'M';

/** The tier of an endpoint path without trailing slash (`/api/events`). */
export function tierOf(endpoint: string): RateTier {
  return ENDPOINT_TIERS.get(endpoint) ?? DEFAULT_TIER;
}
