import { dailyCountBody } from '../../klaviyo/daily-counts.js';
import type { StreamSpec } from '../stream.js';
import { metrics } from './metrics.js';

interface AggregateDocument {
  data?: { attributes?: { dates?: string[]; data?: { measurements?: { count?: number[] } }[] } };
}

/**
 * How many times each metric happened per UTC day (`POST /api/metric-aggregates`, count by day), one
 * row per metric and day: `id` = `<metric_id>:<date>`, `date`, `metric_id`, `count`. Window on `date`;
 * a `lookback` re-reads recent days, which Klaviyo still revises (load with `mode: merge`).
 */
export const metricAggregatesDaily: StreamSpec = {
  name: 'metric_aggregates_daily',
  endpoint: '/api/metric-aggregates',
  resourceType: 'metric-aggregate',
  windowFields: { date: { apiField: 'date', operators: [], sortableSince: null } },
  pageSize: null,
  parent: { stream: metrics, column: 'metric_id' },
  report: {
    maxDays: 365,
    // The same request as `verify`'s count per day: one body, built once (klaviyo/daily-counts.ts).
    body: (startMs, endMs, metricId) => dailyCountBody(String(metricId), { fromMs: startMs, toMs: endMs }),
    rows: (document, metricId) => {
      const attributes = (document as AggregateDocument).data?.attributes;
      const counts = attributes?.data?.[0]?.measurements?.count ?? [];
      return (attributes?.dates ?? []).map((date, i) => ({
        id: `${metricId}:${date.slice(0, 10)}`,
        date,
        metric_id: metricId ?? null,
        count: counts[i] ?? 0,
      }));
    },
  },
};
