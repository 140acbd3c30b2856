/** Every stream we read. Adding one: a file beside this one, and its line here. */
import type { StreamSpec } from '../stream.js';
import { campaignMessages } from './campaign-messages.js';
import { campaignValuesDaily } from './campaign-values-daily.js';
import { campaigns } from './campaigns.js';
import { catalogCategories, catalogItems, catalogVariants } from './catalog.js';
import { couponCodes } from './coupon-codes.js';
import { coupons } from './coupons.js';
import { events } from './events.js';
import { flowActions } from './flow-actions.js';
import { flowMessages } from './flow-messages.js';
import { flowSeriesDaily } from './flow-series-daily.js';
import { flows } from './flows.js';
import { forms } from './forms.js';
import { globalExclusions } from './global-exclusions.js';
import { images } from './images.js';
import { listMemberships } from './list-memberships.js';
import { lists } from './lists.js';
import { metricAggregatesDaily } from './metric-aggregates-daily.js';
import { metrics } from './metrics.js';
import { profiles } from './profiles.js';
import { pushTokens } from './push-tokens.js';
import { segmentMemberships } from './segment-memberships.js';
import { segments } from './segments.js';
import { tagGroups } from './tag-groups.js';
import { tags } from './tags.js';
import { templates } from './templates.js';

export const STREAMS: readonly StreamSpec[] = [
  events,
  profiles,
  campaigns,
  lists,
  templates,
  metrics,
  segments,
  flows,
  tags,
  tagGroups,
  coupons,
  forms,
  images,
  catalogItems,
  catalogVariants,
  catalogCategories,
  pushTokens,
  globalExclusions,
  // Child collections, read per parent.
  listMemberships,
  segmentMemberships,
  flowActions,
  flowMessages,
  campaignMessages,
  couponCodes,
  // Reports (POST), per parent.
  metricAggregatesDaily,
  flowSeriesDaily,
  campaignValuesDaily,
];
