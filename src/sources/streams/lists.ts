import { type StreamSpec, updatedAndCreated } from '../stream.js';

/** Lists: `created`/`updated` filter with greater-than only, and sort only since 2024-05-15. */
export const lists: StreamSpec = {
  name: 'lists',
  endpoint: '/api/lists',
  resourceType: 'list',
  windowFields: updatedAndCreated(['greater-than'], '2024-05-15'),
  pageSize: { max: 10, since: '2026-04-15' },
};
