/**
 * `verify`'s comparison of one events table with Klaviyo's own counts: per metric and per UTC day,
 * the table's rows against `POST /api/metric-aggregates`' `count`.
 */
import { dailyCounts, yearPieces } from '../klaviyo/daily-counts.js';
import type { JsonApiDocument } from '../klaviyo/json-api.js';
import { countRowsPerDay, DAY_MS } from '../warehouse/day-counts.js';
import type { Destination } from '../warehouse/destination.js';

/** A metric of the account, from GET /api/metrics. */
export interface MetricInfo {
  id: string;
  name: string;
}

/** One metric on one UTC day where the table and Klaviyo disagree. */
export interface DayDifference {
  metricId: string;
  /** The metric's name, or `(not in the metrics list)` for a metric id only the table has. */
  metric: string;
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  ours: number;
  /** Klaviyo's count; null when Klaviyo's metrics list does not have the metric. */
  klaviyo: number | null;
}

export interface Comparison {
  /** UTC days in the range (a partial first or last day counts). */
  days: number;
  /** Days on which every metric matched. */
  daysMatching: number;
  differences: DayDifference[];
  /** metric-aggregates requests made. */
  requests: number;
}

export interface CompareInput {
  destination: Destination;
  client: { post(path: string, body: unknown): Promise<JsonApiDocument> };
  schema: string;
  table: string;
  timeColumn: string;
  metrics: readonly MetricInfo[];
  fromMs: number;
  toMs: number;
  /** metric-aggregates requests in flight (the client's limiter paces them). */
  parallel?: number;
}

export const dayText = (dayMs: number) => new Date(dayMs).toISOString().slice(0, 10);

/** UTC midnights of the days [fromMs, toMs) touches. */
export function daysOf(fromMs: number, toMs: number): number[] {
  const days: number[] = [];
  for (let d = Math.floor(fromMs / DAY_MS) * DAY_MS; d < toMs; d += DAY_MS) days.push(d);
  return days;
}

/**
 * Counts the table's rows per (metric, day) in [fromMs, toMs), asks Klaviyo for each listed metric's
 * daily counts over the same range, and returns every (metric, day) that differs.
 */
export async function compareTable(input: CompareInput): Promise<Comparison> {
  const { fromMs, toMs } = input;
  const ours = new Map<string, Map<number, number>>();
  for (const row of await countRowsPerDay(input.destination, {
    schema: input.schema,
    table: input.table,
    timeColumn: input.timeColumn,
    groupColumn: 'metric_id',
    fromMs,
    toMs,
  })) {
    const key = row.group ?? '';
    const perDay = ours.get(key) ?? new Map<number, number>();
    perDay.set(row.dayMs, (perDay.get(row.dayMs) ?? 0) + row.count);
    ours.set(key, perDay);
  }

  const theirs = new Map<string, Map<number, number>>();
  const queue = [...input.metrics];
  const worker = async () => {
    for (let metric = queue.shift(); metric; metric = queue.shift()) {
      theirs.set(metric.id, await dailyCounts(input.client, metric.id, fromMs, toMs));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.parallel ?? 2) }, worker));

  const days = daysOf(fromMs, toMs);
  const names = new Map(input.metrics.map((m) => [m.id, m.name]));
  const differing = new Set<number>();
  const differences: DayDifference[] = [];
  const metricIds = [...input.metrics.map((m) => m.id), ...[...ours.keys()].filter((id) => !names.has(id))];
  for (const metricId of metricIds) {
    const our = ours.get(metricId);
    const their = theirs.get(metricId);
    for (const day of days) {
      const n = our?.get(day) ?? 0;
      const k = their ? (their.get(day) ?? 0) : null;
      if (n === k || (k === null && n === 0)) continue;
      differing.add(day);
      differences.push({
        metricId,
        metric: names.get(metricId) ?? '(not in the metrics list)',
        day: dayText(day),
        ours: n,
        klaviyo: k,
      });
    }
  }
  differences.sort((a, b) => a.day.localeCompare(b.day) || a.metric.localeCompare(b.metric));
  return {
    days: days.length,
    daysMatching: days.length - differing.size,
    differences,
    requests: input.metrics.length * yearPieces(fromMs, toMs).length,
  };
}
