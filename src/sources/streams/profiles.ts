import { type StreamSpec, updatedAndCreated } from '../stream.js';

/** Profiles: the API filters `updated`/`created` with greater-than and less-than only. */
export const profiles: StreamSpec = {
  name: 'profiles',
  endpoint: '/api/profiles',
  resourceType: 'profile',
  windowFields: updatedAndCreated(['greater-than', 'less-than']),
  pageSize: { max: 100, since: '2023-02-22' },
  // subscriptions (consent, from 2023-10-15) cost nothing extra; predictive_analytics only on request
  // (it lowers the limit to 10/s).
  additionalFields: { names: ['subscriptions'], since: '2023-10-15' },
};
