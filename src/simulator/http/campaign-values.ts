/**
 * POST /api/campaign-values-reports: per campaign message (grouped by campaign_id, campaign_message_id
 * and, by default, send_channel) the asked-for statistics over the whole timeframe: the API has no
 * interval here, only totals. The body is checked as the 2026-07-15 document states: type, statistics
 * from its enum, a timeframe (a key or start/end, at most a year), a conversion_metric_id of an
 * existing metric, group_by with campaign_id and campaign_message_id. The company timezone is UTC, and
 * a custom timeframe's end is inclusive (both ends are, as Klaviyo's reports are): a timeframe covers
 * every UTC day from its start's to its end's. Other group-bys and `filter` are not simulated (400
 * saying so).
 */
import { randomUUID } from 'node:crypto';
import type { FlowSeriesData } from '../data/flow-series.js';
import type { CampaignRecord, MetricsCollection } from '../data/small.js';
import { badReportBody, reportAttributes } from './report-body.js';

const DAY = 86_400_000;
const REQUIRED_GROUP_BY = ['campaign_id', 'campaign_message_id'] as const;
const SIMULATED_GROUP_BY = [...REQUIRED_GROUP_BY, 'send_channel'] as const;
const DOCUMENTED_GROUP_BY = [
  ...SIMULATED_GROUP_BY,
  'campaign_message_name',
  'group',
  'group_name',
  'tag_id',
  'tag_name',
  'text_message_format',
  'variation',
  'variation_name',
];
/** The send_channel values the report gives (a campaign's `mobile_push` is `push-notification`). */
const SEND_CHANNEL: Record<string, string> = { email: 'email', sms: 'sms', mobile_push: 'push-notification' };
/** Whole days of the keys (today's day start `t`): [first day, last day], both inclusive. */
const KEYS: Record<string, (t: number) => [number, number]> = {
  today: (t) => [t, t],
  yesterday: (t) => [t - DAY, t - DAY],
  last_7_days: (t) => [t - 7 * DAY, t - DAY],
  last_30_days: (t) => [t - 30 * DAY, t - DAY],
  last_90_days: (t) => [t - 90 * DAY, t - DAY],
  last_365_days: (t) => [t - 365 * DAY, t - DAY],
};

/** A campaign's number for the value model: from its id, so deleting another campaign changes nothing. */
export function campaignKey(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % 100_000;
}

export function handleCampaignValues(
  body: unknown,
  data: {
    campaigns: readonly CampaignRecord[];
    values: FlowSeriesData;
    metrics: MetricsCollection;
    now: number;
  },
  baseUrl: string,
): Record<string, unknown> {
  const a = reportAttributes(body, 'campaign-values-report');
  const statistics = a.statistics as string[];
  if (typeof a.conversion_metric_id !== 'string')
    throw badReportBody('/data/attributes/conversion_metric_id', "'conversion_metric_id' is required.");
  if (!data.metrics.records.some((m) => m.id === a.conversion_metric_id))
    throw badReportBody(
      '/data/attributes/conversion_metric_id',
      `Metric '${a.conversion_metric_id}' does not exist.`,
    );
  if (a.filter !== undefined && a.filter !== null)
    throw badReportBody('/data/attributes/filter', 'filter is not simulated.');
  const groupBy = (a.group_by ?? [...SIMULATED_GROUP_BY]) as unknown[];
  if (
    !Array.isArray(groupBy) ||
    !groupBy.every((g) => DOCUMENTED_GROUP_BY.includes(g as string)) ||
    !REQUIRED_GROUP_BY.every((g) => groupBy.includes(g))
  )
    throw badReportBody(
      '/data/attributes/group_by',
      "'group_by' must include campaign_id and campaign_message_id, and only allowed attributes.",
    );
  if (!groupBy.every((g) => (SIMULATED_GROUP_BY as readonly unknown[]).includes(g)))
    throw badReportBody(
      '/data/attributes/group_by',
      'only campaign_id, campaign_message_id and send_channel are simulated.',
    );

  const timeframe = a.timeframe as { key?: unknown; start?: unknown; end?: unknown } | undefined;
  const today = Math.floor(data.now / DAY) * DAY;
  let first: number;
  let last: number;
  if (typeof timeframe?.key === 'string') {
    const range = KEYS[timeframe.key];
    if (!range)
      throw badReportBody(
        '/data/attributes/timeframe/key',
        `'${timeframe.key}' is not a supported timeframe key.`,
      );
    [first, last] = range(today);
  } else if (typeof timeframe?.start === 'string' && typeof timeframe.end === 'string') {
    const from = Date.parse(timeframe.start);
    const to = Date.parse(timeframe.end);
    if (Number.isNaN(from) || Number.isNaN(to) || to < from)
      throw badReportBody('/data/attributes/timeframe', 'The timeframe needs a start at or before its end.');
    if (to - from > 365 * DAY)
      throw badReportBody('/data/attributes/timeframe', 'The timeframe may span at most one year.');
    first = Math.floor(from / DAY) * DAY;
    last = Math.floor(to / DAY) * DAY;
  } else {
    throw badReportBody('/data/attributes/timeframe', "'timeframe' needs a key or a start and an end.");
  }

  // Campaigns sent by the timeframe's last day, with what they did over its days.
  const sent = data.campaigns.filter((c) => c.sendTime !== null && c.sendTime < last + DAY);
  const results = sent.map((campaign) => {
    const groupings: Record<string, string> = {
      campaign_id: campaign.id,
      campaign_message_id: campaign.messageId,
    };
    if (groupBy.includes('send_channel')) groupings.send_channel = SEND_CHANNEL[campaign.channel] as string;
    const values: Record<string, number> = {};
    for (const statistic of statistics) {
      let sum = 0;
      for (let day = first; day <= last; day += DAY)
        sum += data.values.value(campaignKey(campaign.id), campaign.sendTime as number, day, statistic);
      values[statistic] = Math.round(sum * 1000) / 1000;
    }
    return { groupings, statistics: values };
  });
  return {
    data: {
      type: 'campaign-values-report',
      id: randomUUID(),
      attributes: { results },
      relationships: {
        campaigns: { data: sent.map((campaign) => ({ type: 'campaign', id: campaign.id })) },
      },
    },
    links: { self: `${baseUrl}/api/campaign-values-reports` },
  };
}
