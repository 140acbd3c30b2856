import type { StreamSpec } from '../stream.js';

/** Tag groups: no time filter, a full read every run (mode `snapshot`); 25 a page. */
export const tagGroups: StreamSpec = {
  name: 'tag_groups',
  endpoint: '/api/tag-groups',
  resourceType: 'tag-group',
  windowFields: {},
  pageSize: { max: 25, since: '2026-07-15' },
};
