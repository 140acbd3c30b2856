import { randomUUID } from 'node:crypto';
import type { EventsCollection } from '../data/events.js';
import type { MetricsCollection } from '../data/small.js';
import { formatKlaviyoTime } from '../data/time-format.js';
import { parseFilter } from '../query/filter-parser.js';
import { ApiError, invalidParam } from './errors.js';

const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
type Interval = (typeof INTERVALS)[number];
const MEASUREMENTS = new Set(['count', 'sum_value', 'unique']);

function bad(pointer: string, detail: string): ApiError {
  return new ApiError(400, 'invalid', 'Invalid input.', detail, { pointer });
}

/** Zones the spec names as not supported ("a few notable exceptions"). */
const UNSUPPORTED_ZONES = new Set(['Factory', 'Europe/Kyiv', 'Pacific/Kanton']);
let knownZones: Set<string> | null = null;

function isSupportedZone(zone: string): boolean {
  knownZones ??= new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);
  return knownZones.has(zone) && !UNSUPPORTED_ZONES.has(zone);
}

/** Wall-clock time of a zone as if it were UTC, and back: buckets are cut on the zone's calendar. */
interface ZoneClock {
  toLocal(ms: number): number;
  toUtc(localMs: number): number;
}

function zoneClock(zone: string): ZoneClock {
  if (zone === 'UTC') return { toLocal: (ms) => ms, toUtc: (ms) => ms };
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offset = (ms: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(ms))
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    const wall = Date.UTC(
      p.year ?? 1970,
      (p.month ?? 1) - 1,
      p.day ?? 1,
      p.hour ?? 0,
      p.minute ?? 0,
      p.second ?? 0,
    );
    return wall - Math.floor(ms / 1000) * 1000;
  };
  return {
    toLocal: (ms) => ms + offset(ms),
    toUtc: (local) => {
      const guess = local - offset(local);
      return local - offset(guess);
    },
  };
}

/** Start of the bucket holding a wall-clock time (weeks start on Monday). */
function bucketStart(local: number, interval: Interval): number {
  const d = new Date(local);
  switch (interval) {
    case 'hour':
      return Math.floor(local / 3_600_000) * 3_600_000;
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'week': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
    }
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

function nextBucket(local: number, interval: Interval): number {
  const d = new Date(local);
  switch (interval) {
    case 'hour':
      return local + 3_600_000;
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    case 'week':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 7);
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
}

/**
 * POST /api/metric-aggregates: count / sum_value / unique per interval for one metric over a
 * `greater-or-equal(datetime,…)` + `less-than(datetime,…)` range of at most a year, in buckets of
 * the body's `timezone` (default UTC; `dates` are the buckets' starts as UTC instants). Every event
 * counts, listed or held back (Klaviyo counts events before its list returns them). `by` dimensions
 * are accepted but not split (one row with empty dimensions).
 */
export function handleMetricAggregates(
  body: unknown,
  events: EventsCollection,
  metrics: MetricsCollection,
  baseUrl: string,
): Record<string, unknown> {
  const data = (body as { data?: { type?: unknown; attributes?: Record<string, unknown> } } | null)?.data;
  if (data?.type !== 'metric-aggregate' || !data.attributes) {
    throw bad('/data', "Request body must be a 'metric-aggregate' resource object.");
  }
  const a = data.attributes;
  const metricId = a.metric_id;
  if (typeof metricId !== 'string') throw bad('/data/attributes/metric_id', "'metric_id' is required.");
  const measurements = a.measurements;
  if (
    !Array.isArray(measurements) ||
    measurements.length === 0 ||
    !measurements.every((m) => MEASUREMENTS.has(m))
  ) {
    throw bad(
      '/data/attributes/measurements',
      "'measurements' must be a non-empty list of count, sum_value, unique.",
    );
  }
  // `interval` is optional (default day) and nullable since 2023-07-15.
  const interval = (a.interval ?? 'day') as Interval;
  if (!INTERVALS.includes(interval))
    throw bad('/data/attributes/interval', `'${String(a.interval)}' is not a valid interval.`);
  const filters = a.filter;
  if (!Array.isArray(filters) || !filters.every((f) => typeof f === 'string')) {
    throw bad(
      '/data/attributes/filter',
      "'filter' must be a list of filter strings and must include a time range.",
    );
  }
  let from: number | null = null;
  let to: number | null = null;
  for (const text of filters as string[]) {
    let conds: ReturnType<typeof parseFilter>;
    try {
      conds = parseFilter(text);
    } catch {
      throw bad('/data/attributes/filter', 'Invalid filter provided. Verify your parentheses match.');
    }
    for (const c of conds) {
      if (c.field !== 'datetime') continue;
      if (c.value?.kind !== 'datetime') throw bad('/data/attributes/filter', 'Invalid filter provided.');
      if (c.op === 'greater-or-equal') from = c.value.ms;
      else if (c.op === 'less-than') to = c.value.ms;
    }
  }
  if (from === null || to === null || to <= from) {
    throw bad(
      '/data/attributes/filter',
      'Must include a time range: greater-or-equal(datetime,…) and less-than(datetime,…).',
    );
  }
  if (to - from > 366 * 86_400_000)
    throw bad('/data/attributes/filter', 'The time range may span a maximum of one year.');
  const zone = a.timezone ?? 'UTC';
  if (typeof zone !== 'string' || !isSupportedZone(zone)) {
    throw bad('/data/attributes/timezone', `'${String(zone)}' is not a supported timezone.`);
  }
  let metricIndex = -1;
  for (let i = 0; i < metrics.size(); i++) if (metrics.id(i) === metricId) metricIndex = i;
  if (metricIndex < 0) throw invalidParam('metric_id', `Metric '${metricId}' does not exist.`);

  const clock = zoneClock(zone);
  const starts: number[] = [];
  for (
    let local = bucketStart(clock.toLocal(from), interval);
    clock.toUtc(local) < to;
    local = nextBucket(local, interval)
  ) {
    starts.push(clock.toUtc(local));
  }
  const count = new Array<number>(starts.length).fill(0);
  const sum = new Array<number>(starts.length).fill(0);
  const uniques = starts.map(() => new Set<number>());
  let k = 0;
  for (let i = events.times.upperBound(from - 1); i < events.size(); i++) {
    const t = events.times.get(i);
    if (t < from) continue;
    if (t >= to) break;
    if (events.metric.get(i) !== metricIndex) continue;
    while (k + 1 < starts.length && (starts[k + 1] as number) <= t) k++;
    count[k] = (count[k] as number) + 1;
    sum[k] = (sum[k] as number) + events.value(i);
    uniques[k]?.add(events.profile.get(i));
  }
  const m: Record<string, number[]> = {};
  for (const name of measurements as string[]) {
    if (name === 'count') m.count = count;
    if (name === 'sum_value') m.sum_value = sum.map((v) => Math.round(v * 100) / 100);
    if (name === 'unique') m.unique = uniques.map((s) => s.size);
  }
  const self = `${baseUrl}/api/metric-aggregates`;
  return {
    data: {
      type: 'metric-aggregate',
      id: randomUUID(),
      attributes: {
        dates: starts.map((s) => formatKlaviyoTime(s)),
        data: [{ dimensions: [], measurements: m }],
      },
      links: { self },
    },
    links: { self },
  };
}
