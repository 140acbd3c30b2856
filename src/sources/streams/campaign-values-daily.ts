import type { StreamSpec } from '../stream.js';
import { requireConversionMetric, STATISTICS } from './flow-series-daily.js';

const DAY = 86_400_000;

interface ValuesDocument {
  data?: {
    attributes?: {
      results?: { groupings?: Record<string, string>; statistics?: Record<string, number> }[];
    };
  };
}

/** A day's date as Klaviyo writes report dates (`2025-10-01T00:00:00+00:00`). */
function dayDate(ms: number): string {
  return `${new Date(Math.floor(ms / DAY) * DAY).toISOString().slice(0, 19)}+00:00`;
}

/**
 * `POST /api/campaign-values-reports` of the whole account, one request per UTC day: the report has no
 * interval (it sums a timeframe), so each day is asked for on its own, a timeframe from the day's
 * midnight to its last second (Klaviyo's report timeframes include both ends: to the next midnight
 * would count that instant twice). One row per campaign message, channel and day
 * (`id` = `<campaign_message_id>:<send_channel>:<date>`) with `campaign_id` and the statistics as
 * columns. Needs `conversion_metric_id` in the load config. The endpoint allows 1/s, 2/m and 225 a day,
 * so a run costs one request per day of its window: a `lookback` of 2d is 3 requests a run, a backfill of
 * 30 days 15 minutes. The last day of a window read in part is replaced by the next run (`mode: merge`).
 */
export const campaignValuesDaily: StreamSpec = {
  name: 'campaign_values_daily',
  endpoint: '/api/campaign-values-reports',
  resourceType: 'campaign-values-report',
  windowFields: { date: { apiField: 'date', operators: [], sortableSince: null } },
  pageSize: null,
  since: '2025-10-15',
  report: {
    maxDays: 1,
    requires: ['conversion_metric_id'],
    body: (startMs, endMs, _parent, params) => {
      const conversionMetricId = requireConversionMetric('campaign_values_daily', params);
      const last = Math.max(startMs, endMs - 1000);
      return {
        data: {
          type: 'campaign-values-report',
          attributes: {
            statistics: STATISTICS,
            timeframe: { start: new Date(startMs).toISOString(), end: new Date(last).toISOString() },
            conversion_metric_id: conversionMetricId,
            group_by: ['campaign_id', 'campaign_message_id', 'send_channel'],
          },
        },
      };
    },
    rows: (document, _parent, range) => {
      const date = dayDate(range.startMs);
      const results = (document as ValuesDocument).data?.attributes?.results ?? [];
      return results.map(({ groupings = {}, statistics = {} }) => {
        const row: Record<string, string | number | null> = {
          id: `${groupings.campaign_message_id}:${groupings.send_channel}:${date.slice(0, 10)}`,
          date,
          campaign_id: groupings.campaign_id ?? null,
          campaign_message_id: groupings.campaign_message_id ?? null,
          send_channel: groupings.send_channel ?? null,
        };
        for (const name of STATISTICS) row[name] = statistics[name] ?? null;
        return row;
      });
    },
  },
};
