import type { StreamSpec } from '../stream.js';

/**
 * Tags: filtered on `name` only, so there is no window: a full read every run (mode `snapshot` marks
 * tags deleted since the last run). `page[size]` exists from 2026-07-15; before, 50 a page.
 */
export const tags: StreamSpec = {
  name: 'tags',
  endpoint: '/api/tags',
  resourceType: 'tag',
  windowFields: {},
  pageSize: { max: 50, since: '2026-07-15' },
};
