import { type StreamSpec, updatedAndCreated } from '../stream.js';

/** Segments: like lists, `created`/`updated` with greater-than only, sorted since 2024-05-15. */
export const segments: StreamSpec = {
  name: 'segments',
  endpoint: '/api/segments',
  resourceType: 'segment',
  windowFields: updatedAndCreated(['greater-than'], '2024-05-15'),
  pageSize: { max: 10, since: '2026-04-15' },
};
