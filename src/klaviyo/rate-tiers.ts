/**
 * Klaviyo's rate-limit tiers and which tier each endpoint we call is in, from the endpoint catalog
 * (docs/klaviyo-api/). The server's `RateLimit-*` headers refine these at run time.
 */
import { CATALOG } from './endpoints/index.js';

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

/** Tier for endpoints the catalog does not know or whose limits match no tier; headers refine it. */
export const DEFAULT_TIER: RateTier = 'M';

/** Each endpoint's tier at the newest revision, read off the limits the OpenAPI documents give it. */
const ENDPOINT_TIERS: ReadonlyMap<string, RateTier> = new Map(
  Object.values(CATALOG).map((spec): [string, RateTier] => {
    const limits = spec.revisions[spec.revisions.length - 1]?.rateLimit;
    const tier = (Object.keys(RATE_TIERS) as RateTier[]).find(
      (name) =>
        RATE_TIERS[name].burstPerSecond === limits?.burst &&
        RATE_TIERS[name].steadyPerMinute === limits?.steady,
    );
    return [spec.path.replace(/\/+$/, ''), tier ?? DEFAULT_TIER];
  }),
);

/** The tier of an endpoint path without trailing slash (`/api/events`). */
export function tierOf(endpoint: string): RateTier {
  return ENDPOINT_TIERS.get(endpoint) ?? DEFAULT_TIER;
}
