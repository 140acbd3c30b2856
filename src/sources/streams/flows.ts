import { RANGE_OPERATORS, type StreamSpec, updatedAndCreated } from '../stream.js';
import { archivedPartitions } from './archived.js';

/** Flows, archived and not. */
export const flows: StreamSpec = {
  name: 'flows',
  endpoint: '/api/flows',
  resourceType: 'flow',
  windowFields: updatedAndCreated(['equals', ...RANGE_OPERATORS]),
  pageSize: { max: 50, since: '2023-02-22' },
  partitions: () => archivedPartitions('flows'),
};
