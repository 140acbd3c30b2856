import type { StreamSpec } from '../stream.js';
import { coupons } from './coupons.js';

/**
 * The codes of each coupon: `GET /api/coupon-codes` with the filter the API requires,
 * `equals(coupon.id,'…')`. It filters on `expires_at` only (when a code stops being valid, not when
 * it changed: a code handed out or used keeps its `expires_at`) and cannot sort, so each coupon's codes
 * are read whole every run (mode `snapshot`): a code no longer returned gets `_deleted_at`, and so do the
 * codes of a coupon no longer listed. A code's id is `<coupon id>-<unique code>`.
 */
export const couponCodes: StreamSpec = {
  name: 'coupon_codes',
  endpoint: '/api/coupon-codes',
  resourceType: 'coupon-code',
  windowFields: {},
  pageSize: { max: 100, since: '2026-07-15' },
  parent: { stream: coupons, column: 'coupon_id', filterField: 'coupon.id' },
  // Coupons are served from 2025-10-15 on.
  since: '2025-10-15',
};
