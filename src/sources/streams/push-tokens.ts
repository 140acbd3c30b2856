import type { StreamSpec } from '../stream.js';

/**
 * Push tokens: filtered on ids, status and platform only, a full read every run (mode `snapshot`).
 * Each row carries its `profile_id` (a to-one relationship).
 */
export const pushTokens: StreamSpec = {
  name: 'push_tokens',
  endpoint: '/api/push-tokens',
  resourceType: 'push-token',
  windowFields: {},
  pageSize: { max: 100, since: '2025-10-15' },
};
