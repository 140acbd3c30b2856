import { equals } from '../../klaviyo/filter.js';
import { revisionAtLeast } from '../../klaviyo/revisions.js';
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
  // The channel filter exists (and is required) from 2023-07-15; before, one query reads every channel.
  partitions: (revision) =>
    revisionAtLeast(revision, '2023-07-15')
      ? CHANNELS.flatMap((channel): Partition[] =>
          archivedPartitions(`campaigns ${channel}`, [equals('messages.channel', channel)]),
        )
      : archivedPartitions('campaigns'),
};
