import { RANGE_OPERATORS, type StreamSpec, updatedAndCreated } from '../stream.js';

/** Email templates (`data_source: templates`). */
export const templates: StreamSpec = {
  name: 'templates',
  endpoint: '/api/templates',
  resourceType: 'template',
  windowFields: updatedAndCreated(['equals', ...RANGE_OPERATORS]),
  pageSize: { max: 10, since: '2026-04-15' },
};
