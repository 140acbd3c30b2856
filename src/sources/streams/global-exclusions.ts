import { datetime, greaterThan } from '../../klaviyo/filter.js';
import type { StreamSpec } from '../stream.js';

const SUPPRESSED_AT = 'subscriptions.email.marketing.suppression.timestamp';

/**
 * Global exclusions: the profiles whose email marketing is suppressed (v1's `/global-exclusions` is
 * gone; from 2023-10-15 `GET /api/profiles` filters on the suppression's time). Every run reads all of
 * them: a profile whose suppression was lifted no longer comes back, and mode `snapshot` marks it in
 * `_deleted_at`. `subscriptions` holds the suppression's reason and time.
 */
export const globalExclusions: StreamSpec = {
  name: 'global_exclusions',
  endpoint: '/api/profiles',
  resourceType: 'profile',
  windowFields: {},
  pageSize: { max: 100, since: '2023-02-22' },
  additionalFields: { names: ['subscriptions'], since: '2023-10-15' },
  since: '2023-10-15',
  // Any suppression has a time after the epoch: this selects exactly the suppressed profiles.
  partitions: () => [{ label: 'global_exclusions', terms: [greaterThan(SUPPRESSED_AT, datetime(0))] }],
};
