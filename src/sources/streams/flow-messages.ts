import { RANGE_OPERATORS, type StreamSpec, updatedAndCreated } from '../stream.js';
import { flowActions } from './flow-actions.js';

/** The messages of each flow action (the actions of every flow are read first), on `updated` or `created`. */
export const flowMessages: StreamSpec = {
  name: 'flow_messages',
  endpoint: '/api/flow-actions/{id}/flow-messages',
  resourceType: 'flow-message',
  windowFields: updatedAndCreated(['equals', ...RANGE_OPERATORS]),
  pageSize: { max: 50, since: '2023-02-22' },
  parent: { stream: flowActions, column: 'flow_action_id' },
};
