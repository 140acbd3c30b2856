import type { StreamSpec } from '../stream.js';

/** Coupons: no filter and no sort at all, a full read every run (mode `snapshot`). */
export const coupons: StreamSpec = {
  name: 'coupons',
  endpoint: '/api/coupons',
  resourceType: 'coupon',
  windowFields: {},
  pageSize: { max: 100, since: '2026-07-15' },
};
