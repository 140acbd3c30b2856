import { RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';
import { archivedPartitions } from './archived.js';

/** Flows, archived and not. */
export const flows: StreamSpec = {
  name: 'flows',
  endpoint: '/api/flows',
  resourceType: 'flow',
  windowFields: {
    updated: windowField('updated', ['equals', ...RANGE_OPERATORS]),
    created: windowField('created', ['equals', ...RANGE_OPERATORS]),
  },
  pageSize: { max: 50, since: '2023-02-22' },
  partitions: () => archivedPartitions('flows'),
};
