import type { StreamSpec } from '../stream.js';

/** Metrics: no filter, no sort, a fixed page of 200; a full load every run. */
export const metrics: StreamSpec = {
  name: 'metrics',
  endpoint: '/api/metrics',
  resourceType: 'metric',
  windowFields: {},
  pageSize: null,
};
