import { type StreamSpec, windowField } from '../stream.js';

/** Lists: `created`/`updated` filter with greater-than only, and sort only since 2024-05-15. */
export const lists: StreamSpec = {
  name: 'lists',
  endpoint: '/api/lists',
  resourceType: 'list',
  windowFields: {
    updated: windowField('updated', ['greater-than'], '2024-05-15'),
    created: windowField('created', ['greater-than'], '2024-05-15'),
  },
  pageSize: { max: 10, since: '2026-04-15' },
};
