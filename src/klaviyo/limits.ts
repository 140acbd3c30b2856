/**
 * Which rate-limit buckets a request consumes: the endpoint's own bucket, sized by
 * its tier (or its documented limits where tighter: the reports), plus the smaller bucket of an expensive query parameter (profiles with
 * `additional-fields[profile]=predictive_analytics`: 10/s, 150/m). The server's `RateLimit-*`
 * headers correct these starting values at run time.
 */
import type { RateLimits } from './rate-limiter.js';
import { limitsOf } from './rate-tiers.js';

export interface BucketSpec {
  bucket: string;
  limits: RateLimits;
}

/**
 * `/api/events/` → `/api/events`; `/api/profiles/01H…/relationships/lists` →
 * `/api/profiles/{id}/relationships/lists` (all single-resource calls share a bucket).
 */
export function normalizeEndpoint(pathname: string): string {
  const segments = pathname.replace(/\/+$/, '').split('/');
  const apiAt = segments.indexOf('api');
  const idAt = apiAt >= 0 ? apiAt + 2 : -1;
  if (idAt > 0 && segments.length > idAt) segments[idAt] = '{id}';
  const path = segments.join('/');
  return path === '' ? '/' : path;
}

export function bucketsFor(endpoint: string, search: URLSearchParams): BucketSpec[] {
  const buckets: BucketSpec[] = [{ bucket: endpoint, limits: limitsOf(endpoint) }];
  if (endpoint === '/api/profiles') {
    const extra = search.get('additional-fields[profile]') ?? '';
    if (extra.split(',').includes('predictive_analytics')) {
      buckets.push({
        bucket: '/api/profiles#predictive_analytics',
        limits: { burstPerSecond: 10, steadyPerMinute: 150 },
      });
    }
  }
  return buckets;
}
