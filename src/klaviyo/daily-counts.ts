/**
 * Klaviyo's own count of a metric's events per UTC day, from `POST /api/metric-aggregates`
 * (measurements `count`, interval `day`, timezone `UTC`). One query may span at most a year, so a
 * longer range is asked for in year-long pieces; each piece is one request of the endpoint's rate
 * tier (S: 3/s, 60/m), paced by the client's shared limiter.
 */
import { ingestionError } from '../util/errors.js';
import { parseTimestamp } from '../util/timestamps.js';
import { datetime, greaterOrEqual, lessThan } from './filter.js';
import type { JsonApiDocument } from './json-api.js';

export const METRIC_AGGREGATES_PATH = '/api/metric-aggregates';
const DAY_MS = 86_400_000;
/** The API's limit is "a maximum of one year": 365 days is within it in every year. */
export const MAX_AGGREGATE_SPAN_MS = 365 * DAY_MS;

export interface AggregatePoster {
  post(path: string, body: unknown): Promise<JsonApiDocument>;
}

export interface TimePiece {
  fromMs: number;
  toMs: number;
}

/**
 * [fromMs, toMs) in pieces of at most 365 days; every piece after the first starts at a UTC
 * midnight, so only the range's own first and last days are partial.
 */
export function yearPieces(fromMs: number, toMs: number): TimePiece[] {
  const pieces: TimePiece[] = [];
  const firstMidnight = Math.floor(fromMs / DAY_MS) * DAY_MS;
  for (let start = firstMidnight; start < toMs; start += MAX_AGGREGATE_SPAN_MS) {
    pieces.push({ fromMs: Math.max(fromMs, start), toMs: Math.min(toMs, start + MAX_AGGREGATE_SPAN_MS) });
  }
  return pieces;
}

/** The request body of one piece (exported for tests and for `--dry-run`-like displays). */
export function dailyCountBody(metricId: string, piece: TimePiece): unknown {
  return {
    data: {
      type: 'metric-aggregate',
      attributes: {
        metric_id: metricId,
        measurements: ['count'],
        interval: 'day',
        timezone: 'UTC',
        filter: [
          greaterOrEqual('datetime', datetime(piece.fromMs)),
          lessThan('datetime', datetime(piece.toMs)),
        ],
      },
    },
  };
}

function malformed(detail: string): Error {
  return ingestionError(`${METRIC_AGGREGATES_PATH} answered a document we cannot read: ${detail}`, {
    code: 'KLAVIYO_BAD_AGGREGATE',
    fix: 'check KLAVIYO_BASE_URL points at the Klaviyo API; report this if it does',
  });
}

/** Adds one response's counts into `into` (UTC midnight epoch ms -> count). */
function addCounts(doc: JsonApiDocument, into: Map<number, number>): void {
  const data = doc.data;
  if (data === null || Array.isArray(data)) throw malformed('`data` is not one resource');
  const dates = data.attributes.dates;
  const rows = data.attributes.data;
  if (!Array.isArray(dates) || !Array.isArray(rows)) throw malformed('no `dates` / `data` arrays');
  const days = dates.map((text) => {
    const ms = typeof text === 'string' ? parseTimestamp(text) : null;
    if (ms === null) throw malformed(`date ${JSON.stringify(text)} is not a timestamp`);
    return Math.floor(ms / DAY_MS) * DAY_MS;
  });
  // Without `by` there is one row; with several, each is a slice of the same events: add them up.
  for (const row of rows as { measurements?: { count?: unknown } }[]) {
    const counts = row?.measurements?.count;
    if (!Array.isArray(counts) || counts.length !== days.length) {
      throw malformed('`measurements.count` is missing or not aligned with `dates`');
    }
    counts.forEach((value, i) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(`count ${String(value)}`);
      const day = days[i] as number;
      into.set(day, (into.get(day) ?? 0) + value);
    });
  }
}

/** Klaviyo's count of `metricId`'s events per UTC day over [fromMs, toMs), one request per year. */
export async function dailyCounts(
  client: AggregatePoster,
  metricId: string,
  fromMs: number,
  toMs: number,
): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const piece of yearPieces(fromMs, toMs)) {
    addCounts(await client.post(METRIC_AGGREGATES_PATH, dailyCountBody(metricId, piece)), counts);
  }
  return counts;
}
