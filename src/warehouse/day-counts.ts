/**
 * Reads for `verify`: a table's rows per UTC day and per value of a column, and the time range its
 * loads cover. Written once, through the contract's `query`, in SQL that DuckDB and PostgreSQL both
 * speak (`CAST(... AS TIMESTAMPTZ)`, `extract(epoch ...)`, `$n` parameters), so any destination
 * whose `query` speaks it too plugs in. Both destinations read naive timestamps as UTC.
 */
import { parseTimestamp } from '../util/timestamps.js';
import type { Destination } from './destination.js';
import { foldIdentifier, qualifiedName, quoteIdentifier } from './identifiers.js';
import { INGESTION_LOG_TABLE } from './ingestion-log.js';

export const DAY_MS = 86_400_000;

export interface DayCount {
  /** The group column's value as text (e.g. a metric id); null for rows without one. */
  group: string | null;
  /** UTC midnight of the day, epoch ms. */
  dayMs: number;
  count: number;
}

export interface DayCountRequest {
  schema: string;
  table: string;
  /** A timestamp-text column (events: `datetime`). */
  timeColumn: string;
  /** Rows are counted per value of this column (events: `metric_id`). */
  groupColumn: string;
  /** Only rows with a time in [fromMs, toMs). */
  fromMs: number;
  toMs: number;
}

/** The table's real name of a column (destinations compare names case-insensitively), or null. */
async function columnName(
  destination: Destination,
  schema: string,
  table: string,
  column: string,
): Promise<string | null> {
  const columns = await destination.tableColumns(schema, table);
  return columns?.find((c) => foldIdentifier(c.name) === foldIdentifier(column))?.name ?? null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Rows of the table per (group value, UTC day) within [fromMs, toMs). A missing table counts
 * nothing; a missing group column groups everything under null.
 */
export async function countRowsPerDay(
  destination: Destination,
  request: DayCountRequest,
): Promise<DayCount[]> {
  const { schema, table } = request;
  const time = await columnName(destination, schema, table, request.timeColumn);
  if (time === null) return [];
  const group = await columnName(destination, schema, table, request.groupColumn);
  const ts = `CAST(${quoteIdentifier(time)} AS TIMESTAMPTZ)`;
  const groupSql = group === null ? 'CAST(NULL AS VARCHAR)' : `CAST(${quoteIdentifier(group)} AS VARCHAR)`;
  const rows = await destination.query(
    `SELECT g, d, CAST(count(*) AS BIGINT) AS n FROM (
       SELECT ${groupSql} AS g, CAST(floor(extract(epoch FROM ${ts}) / 86400) AS BIGINT) AS d
       FROM ${qualifiedName(schema, table)}
       WHERE ${ts} >= CAST($1 AS TIMESTAMPTZ) AND ${ts} < CAST($2 AS TIMESTAMPTZ)
     ) AS per_row GROUP BY g, d`,
    [iso(request.fromMs), iso(request.toMs)],
  );
  return rows.map((row) => ({
    group: row.g === null || row.g === undefined ? null : String(row.g),
    dayMs: Number(row.d) * DAY_MS,
    count: Number(row.n),
  }));
}

/** A time range, epoch ms, end exclusive. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/**
 * The range a table's loads cover: from the earliest start to the latest end of its SUCCESS rows in
 * the ingestion log, widened to the table's own earliest and latest times (a load stopped after a
 * checkpoint commits rows past its last SUCCESS row). Null when the table has no row and no log.
 */
export async function coveredRange(
  destination: Destination,
  schema: string,
  table: string,
  timeColumn: string,
): Promise<TimeRange | null> {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  if ((await destination.tableColumns(schema, INGESTION_LOG_TABLE)) !== null) {
    const log = await destination.query(
      `SELECT start_time, end_time FROM ${qualifiedName(schema, INGESTION_LOG_TABLE)}
       WHERE table_name = $1 AND status = 'SUCCESS'`,
      [table],
    );
    for (const row of log) {
      const start = typeof row.start_time === 'string' ? parseTimestamp(row.start_time) : null;
      const end = typeof row.end_time === 'string' ? parseTimestamp(row.end_time) : null;
      if (start !== null) from = Math.min(from, start);
      if (end !== null) to = Math.max(to, end);
    }
  }
  const time = await columnName(destination, schema, table, timeColumn);
  if (time !== null) {
    const ts = `CAST(${quoteIdentifier(time)} AS TIMESTAMPTZ)`;
    const [row] = await destination.query(
      `SELECT CAST(floor(extract(epoch FROM min(${ts})) * 1000) AS BIGINT) AS lo,
              CAST(floor(extract(epoch FROM max(${ts})) * 1000) AS BIGINT) AS hi
       FROM ${qualifiedName(schema, table)}`,
    );
    if (row?.lo !== null && row?.lo !== undefined) from = Math.min(from, Number(row.lo));
    if (row?.hi !== null && row?.hi !== undefined) to = Math.max(to, Number(row.hi) + 1);
  }
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return null;
  return { fromMs: from, toMs: to };
}
