import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';

/** Images: windowed on `updated_at` (the only time the API filters on), sorted ascending. */
export const images: StreamSpec = {
  name: 'images',
  endpoint: '/api/images',
  resourceType: 'image',
  windowFields: { updated: windowField('updated_at', RANGE_OPERATORS) },
  pageSize: { max: 100, since: '2025-10-15' },
};
