import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/**
 * Sign-up forms: `updated_at` / `created_at` with all four comparisons and ascending sort, so an exact
 * incremental window (the connector names them `updated` / `created`, like campaigns).
 */
export const forms: StreamSpec = {
  name: 'forms',
  endpoint: '/api/forms',
  resourceType: 'form',
  windowFields: {
    updated: windowField('updated_at', RANGE_OPERATORS),
    created: windowField('created_at', RANGE_OPERATORS),
  },
  pageSize: { max: 100, since: '2025-10-15' },
};
