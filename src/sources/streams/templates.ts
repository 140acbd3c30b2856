import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/** Email templates (`data_source: templates`). */
export const templates: StreamSpec = {
  name: 'templates',
  endpoint: '/api/templates',
  resourceType: 'template',
  windowFields: {
    updated: windowField('updated', ['equals', ...RANGE_OPERATORS]),
    created: windowField('created', ['equals', ...RANGE_OPERATORS]),
  },
  pageSize: { max: 10, since: '2026-04-15' },
};
