import type { StreamSpec } from '../stream.js';
import { campaigns } from './campaigns.js';

/**
 * The messages of each campaign (every channel, archived too): the endpoint has no filter, sort or page
 * size, so each run reads them all (load with `mode: merge` to keep one row per message).
 */
export const campaignMessages: StreamSpec = {
  name: 'campaign_messages',
  endpoint: '/api/campaigns/{id}/campaign-messages',
  resourceType: 'campaign-message',
  windowFields: {},
  pageSize: null,
  parent: { stream: campaigns, column: 'campaign_id' },
};
