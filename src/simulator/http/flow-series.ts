/**
 * POST /api/flow-series-reports: per flow message (grouped by flow_id, flow_message_id, send_channel)
 * the asked-for statistics per interval. The body is checked as the 2026-07-15 document states:
 * type, statistics from its enum, a timeframe (a key or start/end; at most a year, daily at most 60
 * days, hourly at most 7), an interval, a conversion_metric_id of an existing metric, group_by with
 * flow_id and flow_message_id. The company timezone is UTC; a custom timeframe's end is exclusive.
 * Hourly intervals and `filter` are not simulated (400 saying so).
 */
import { randomUUID } from 'node:crypto';
import type { ChildData } from '../data/children.js';
import type { FlowSeriesData } from '../data/flow-series.js';
import type { MetricsCollection } from '../data/small.js';
import { formatKlaviyoTime } from '../data/time-format.js';
import { badReportBody, reportAttributes } from './report-body.js';

const DAY = 86_400_000;
const INTERVALS = ['daily', 'hourly', 'monthly', 'weekly'] as const;
const GROUP_BY = ['flow_id', 'flow_message_id', 'send_channel'] as const;
const MAX_DAYS: Record<string, number> = { daily: 60, hourly: 7, weekly: 366, monthly: 52 * 7 };
const KEYS: Record<string, (today: number) => [number, number]> = {
  today: (t) => [t, t + DAY],
  yesterday: (t) => [t - DAY, t],
  last_7_days: (t) => [t - 7 * DAY, t],
  last_30_days: (t) => [t - 30 * DAY, t],
  last_90_days: (t) => [t - 90 * DAY, t],
  last_365_days: (t) => [t - 365 * DAY, t],
};

function bucketStarts(from: number, to: number, interval: string): number[] {
  const starts: number[] = [];
  for (let b = Math.floor(from / DAY) * DAY; b < to; ) {
    starts.push(b);
    const d = new Date(b);
    b =
      interval === 'monthly'
        ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
        : b + (interval === 'weekly' ? 7 : 1) * DAY;
  }
  return starts;
}

export function handleFlowSeries(
  body: unknown,
  data: { children: ChildData; flowSeries: FlowSeriesData; metrics: MetricsCollection; now: number },
  baseUrl: string,
): Record<string, unknown> {
  const a = reportAttributes(body, 'flow-series-report');
  const statistics = a.statistics as string[];
  const interval = a.interval;
  if (typeof interval !== 'string' || !(INTERVALS as readonly string[]).includes(interval))
    throw badReportBody('/data/attributes/interval', `'${String(interval)}' is not a valid interval.`);
  if (interval === 'hourly')
    throw badReportBody('/data/attributes/interval', 'hourly series are not simulated.');
  if (typeof a.conversion_metric_id !== 'string')
    throw badReportBody('/data/attributes/conversion_metric_id', "'conversion_metric_id' is required.");
  const metricIds = data.metrics.records.map((m) => m.id);
  if (!metricIds.includes(a.conversion_metric_id))
    throw badReportBody(
      '/data/attributes/conversion_metric_id',
      `Metric '${a.conversion_metric_id}' does not exist.`,
    );
  if (a.filter !== undefined) throw badReportBody('/data/attributes/filter', 'filter is not simulated.');
  const groupBy = (a.group_by ?? [...GROUP_BY]) as unknown[];
  if (
    !Array.isArray(groupBy) ||
    !groupBy.every((g) => (GROUP_BY as readonly unknown[]).includes(g)) ||
    !groupBy.includes('flow_id') ||
    !groupBy.includes('flow_message_id')
  )
    throw badReportBody('/data/attributes/group_by', "'group_by' must include flow_id and flow_message_id.");

  const timeframe = a.timeframe as { key?: unknown; start?: unknown; end?: unknown } | undefined;
  let from: number;
  let to: number;
  const today = Math.floor(data.now / DAY) * DAY;
  if (typeof timeframe?.key === 'string') {
    const range = KEYS[timeframe.key];
    if (!range)
      throw badReportBody(
        '/data/attributes/timeframe/key',
        `'${timeframe.key}' is not a supported timeframe key.`,
      );
    [from, to] = range(today);
  } else if (typeof timeframe?.start === 'string' && typeof timeframe.end === 'string') {
    from = Date.parse(timeframe.start);
    to = Date.parse(timeframe.end);
    if (Number.isNaN(from) || Number.isNaN(to) || to <= from)
      throw badReportBody('/data/attributes/timeframe', 'The timeframe needs a start before its end.');
  } else {
    throw badReportBody('/data/attributes/timeframe', "'timeframe' needs a key or a start and an end.");
  }
  if (to - from > (MAX_DAYS[interval] as number) * DAY)
    throw badReportBody(
      '/data/attributes/timeframe',
      `A ${interval} series may span at most ${MAX_DAYS[interval]} days.`,
    );

  const starts = bucketStarts(from, to, interval);
  const messages = data.children.flowMessages();
  const results = messages.map((message, index) => {
    const groupings: Record<string, string> = {};
    if (groupBy.includes('flow_id')) groupings.flow_id = data.children.flowOf(message);
    groupings.flow_message_id = message.id;
    if (groupBy.includes('send_channel')) groupings.send_channel = message.channel;
    const values: Record<string, number[]> = {};
    for (const statistic of statistics) {
      values[statistic] = starts.map((start, k) => {
        const end = Math.min(to, starts[k + 1] ?? to);
        let sum = 0;
        for (let day = start; day < end; day += DAY)
          sum += data.flowSeries.value(index, message.created, day, statistic);
        return Math.round(sum * 1000) / 1000;
      });
    }
    return { groupings, statistics: values };
  });
  const self = `${baseUrl}/api/flow-series-reports`;
  return {
    data: {
      type: 'flow-series-report',
      id: randomUUID(),
      attributes: { results, date_times: starts.map((s) => formatKlaviyoTime(s)) },
    },
    links: { self },
  };
}
