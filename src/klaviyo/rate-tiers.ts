/**
 * Klaviyo's rate-limit tiers and which tier each endpoint we call is in, from the endpoint catalog
 * (docs/klaviyo-api/). The server's `RateLimit-*` headers refine these at run time.
 */
import { CATALOG, ENDPOINT_NAMES, newestRateLimit } from './endpoints/index.js';

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

/** Tier for endpoints the catalog does not know; the server's headers refine it. */
export const DEFAULT_TIER: RateTier = 'M';

/** The tier whose burst a documented limit has (tiers differ in burst; steady follows). */
export function tierForBurst(burstPerSecond: number): RateTier {
  if (burstPerSecond >= 350) return 'XL';
  if (burstPerSecond >= 75) return 'L';
  if (burstPerSecond >= 10) return 'M';
  if (burstPerSecond >= 3) return 'S';
  return 'XS';
}

/** Each endpoint's tier at the newest revision, from the limits the OpenAPI documents give it. */
const ENDPOINT_TIERS: ReadonlyMap<string, RateTier> = new Map(
  ENDPOINT_NAMES.map((name): [string, RateTier] => [
    CATALOG[name].path.replace(/\/+$/, ''),
    tierForBurst(newestRateLimit(name).burst),
  ]),
);

/**
 * Each endpoint's limits as its newest document states them, for endpoints below their tier (the
 * reports: 1/s like XS, but 2/m where XS has 15/m).
 */
const BELOW_TIER: ReadonlyMap<string, TierLimits> = new Map(
  ENDPOINT_NAMES.flatMap((name): [string, TierLimits][] => {
    const { burst, steady } = newestRateLimit(name);
    const tier = RATE_TIERS[tierForBurst(burst)];
    return steady < tier.steadyPerMinute || burst < tier.burstPerSecond
      ? [[CATALOG[name].path.replace(/\/+$/, ''), { burstPerSecond: burst, steadyPerMinute: steady }]]
      : [];
  }),
);

/** The limits a client starts an endpoint at: its tier's, or its own where they are tighter. */
export function limitsOf(endpoint: string): TierLimits {
  return { ...(BELOW_TIER.get(endpoint) ?? RATE_TIERS[tierOf(endpoint)]) };
}

/** The tier of an endpoint path without trailing slash (`/api/events`). */
export function tierOf(endpoint: string): RateTier {
  return ENDPOINT_TIERS.get(endpoint) ?? DEFAULT_TIER;
}
