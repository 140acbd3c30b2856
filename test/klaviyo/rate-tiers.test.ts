import { describe, expect, it } from 'vitest';
import { bucketsFor } from '../../src/klaviyo/limits.js';
import { DEFAULT_TIER, tierOf } from '../../src/klaviyo/rate-tiers.js';

describe('rate tiers from the endpoint catalog', () => {
  it('puts each endpoint in the tier Klaviyo documents for it', () => {
    expect({
      events: tierOf('/api/events'),
      profiles: tierOf('/api/profiles'),
      campaigns: tierOf('/api/campaigns'),
      lists: tierOf('/api/lists'),
      templates: tierOf('/api/templates'),
      metrics: tierOf('/api/metrics'),
      segments: tierOf('/api/segments'),
      flows: tierOf('/api/flows'),
      aggregates: tierOf('/api/metric-aggregates'),
      tags: tierOf('/api/tags'),
      tagGroups: tierOf('/api/tag-groups'),
      coupons: tierOf('/api/coupons'),
      forms: tierOf('/api/forms'),
      images: tierOf('/api/images'),
      catalogItems: tierOf('/api/catalog-items'),
      catalogVariants: tierOf('/api/catalog-variants'),
      catalogCategories: tierOf('/api/catalog-categories'),
      pushTokens: tierOf('/api/push-tokens'),
      couponCodes: tierOf('/api/coupon-codes'),
      campaignValues: tierOf('/api/campaign-values-reports'),
    }).toEqual({
      events: 'XL',
      profiles: 'L',
      campaigns: 'M',
      lists: 'L',
      templates: 'L',
      metrics: 'M',
      segments: 'L',
      flows: 'S',
      aggregates: 'S',
      tags: 'S',
      tagGroups: 'S',
      coupons: 'L',
      forms: 'S',
      images: 'M',
      catalogItems: 'XL',
      catalogVariants: 'XL',
      catalogCategories: 'XL',
      pushTokens: 'M',
      couponCodes: 'XL',
      campaignValues: 'XS',
    });
    expect(tierOf('/api/accounts')).toBe(DEFAULT_TIER);
  });

  it('sizes the request buckets by tier, profiles with predictive analytics in a second bucket', () => {
    expect(bucketsFor('/api/events', new URLSearchParams())).toEqual([
      { bucket: '/api/events', limits: { burstPerSecond: 350, steadyPerMinute: 3500 } },
    ]);
    const search = new URLSearchParams({
      'additional-fields[profile]': 'subscriptions,predictive_analytics',
    });
    expect(bucketsFor('/api/profiles', search).map((b) => b.limits)).toEqual([
      { burstPerSecond: 75, steadyPerMinute: 750 },
      { burstPerSecond: 10, steadyPerMinute: 150 },
    ]);
    // Reports document limits tighter than their tier's steady (1/s, 2/m): they start at those.
    for (const report of ['/api/campaign-values-reports', '/api/flow-series-reports'])
      expect(bucketsFor(report, new URLSearchParams())).toEqual([
        { bucket: report, limits: { burstPerSecond: 1, steadyPerMinute: 2 } },
      ]);
  });
});
