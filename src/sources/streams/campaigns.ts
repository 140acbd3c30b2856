import { equals } from '../../klaviyo/filter.js';
import { type Partition, RANGE_OPERATORS, type StreamSpec, windowField } from '../stream.js';
import { archivedPartitions } from './archived.js';

const CHANNELS = ['email', 'sms', 'mobile_push'] as const;

/**
 * Campaigns: every request needs a channel filter, and archived campaigns come only when asked for,
 * so a full read is six queries. The connector names the fields `created`/`updated`; the API and the
 * table say `created_at`/`updated_at`.
 */
export const campaigns: StreamSpec = {
  name: 'campaigns',
  endpoint: '/api/campaigns',
  resourceType: 'campaign',
  windowFields: {
    updated: windowField('updated_at', RANGE_OPERATORS),
    created: windowField('created_at', RANGE_OPERATORS),
    scheduled: windowField('scheduled_at', RANGE_OPERATORS),
  },
  pageSize: { max: 100, since: '2026-04-15' },
  partitions: CHANNELS.flatMap((channel): Partition[] =>
    archivedPartitions(`campaigns ${channel}`, [equals('messages.channel', channel)]),
  ),
};
