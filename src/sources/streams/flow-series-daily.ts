import { configError } from '../../util/errors.js';
import type { StreamSpec } from '../stream.js';

/**
 * What every flow (or campaign) message did per day; rates are left to the warehouse (sums of these).
 * Campaign values reports take the same statistics.
 */
export const STATISTICS = [
  'recipients',
  'delivered',
  'bounced',
  'opens',
  'opens_unique',
  'clicks',
  'clicks_unique',
  'conversions',
  'conversion_uniques',
  'conversion_value',
  'unsubscribe_uniques',
  'spam_complaints',
] as const;

interface SeriesDocument {
  data?: {
    attributes?: {
      date_times?: string[];
      results?: { groupings?: Record<string, string>; statistics?: Record<string, number[]> }[];
    };
  };
}

/**
 * `POST /api/flow-series-reports`, daily, of the whole account: one row per flow message, channel and
 * day (`id` = `<flow_message_id>:<send_channel>:<date>`) with `flow_id` and the statistics as columns.
 * Needs `conversion_metric_id` in the load config (the metric conversions count, e.g. Placed Order).
 * At most 60 days a request; a `lookback` re-reads the days Klaviyo still revises (`mode: merge`).
 */
export const flowSeriesDaily: StreamSpec = {
  name: 'flow_series_daily',
  endpoint: '/api/flow-series-reports',
  resourceType: 'flow-series-report',
  windowFields: { date: { apiField: 'date', operators: [], sortableSince: null } },
  pageSize: null,
  since: '2025-10-15',
  report: {
    maxDays: 60,
    requires: ['conversion_metric_id'],
    body: (startMs, endMs, _parent, params) => {
      if (!params.conversionMetricId) {
        throw configError('data_source flow_series_daily needs in.conversion_metric_id', {
          code: 'REPORT_CONVERSION_METRIC',
          key: 'in.conversion_metric_id',
          fix: 'add conversion_metric_id: <metric id> (e.g. the Placed Order metric) under in: of its load config',
        });
      }
      return {
        data: {
          type: 'flow-series-report',
          attributes: {
            statistics: STATISTICS,
            timeframe: { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() },
            interval: 'daily',
            conversion_metric_id: params.conversionMetricId,
            group_by: ['flow_id', 'flow_message_id', 'send_channel'],
          },
        },
      };
    },
    rows: (document) => {
      const attributes = (document as SeriesDocument).data?.attributes;
      const dates = attributes?.date_times ?? [];
      return (attributes?.results ?? []).flatMap(({ groupings = {}, statistics = {} }) =>
        dates.map((date, i) => {
          const row: Record<string, string | number | null> = {
            id: `${groupings.flow_message_id}:${groupings.send_channel}:${date.slice(0, 10)}`,
            date,
            flow_id: groupings.flow_id ?? null,
            flow_message_id: groupings.flow_message_id ?? null,
            send_channel: groupings.send_channel ?? null,
          };
          for (const name of STATISTICS) row[name] = statistics[name]?.[i] ?? null;
          return row;
        }),
      );
    },
  },
};
