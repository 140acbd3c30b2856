import { RANGE_OPERATORS, type StreamSpec, updatedAndCreated } from '../stream.js';
import { flows } from './flows.js';

/** The actions of each flow (archived flows too), windowed on `updated` or `created`. */
export const flowActions: StreamSpec = {
  name: 'flow_actions',
  endpoint: '/api/flows/{id}/flow-actions',
  resourceType: 'flow-action',
  windowFields: updatedAndCreated(['equals', ...RANGE_OPERATORS]),
  pageSize: { max: 50, since: '2023-02-22' },
  parent: { stream: flows, column: 'flow_id' },
};
