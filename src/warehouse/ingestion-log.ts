/**
 * The layout of `<schema>.ingestion_log`, as TD's logging pattern lays it out (plus
 * `duration_seconds`), the same in every destination: each dialect maps the logical types.
 */
import type { ColumnType, Destination, IngestionLogRow, UnfinishedLoad } from './destination.js';
import { qualifiedName } from './identifiers.js';

export const INGESTION_LOG_TABLE = 'ingestion_log';

export const LOG_COLUMNS: readonly { name: keyof IngestionLogRow; type: ColumnType }[] = [
  { name: 'log_id', type: 'VARCHAR' },
  { name: 'source_name', type: 'VARCHAR' },
  { name: 'workflow_name', type: 'VARCHAR' },
  { name: 'table_name', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'start_time', type: 'VARCHAR' },
  { name: 'end_time', type: 'VARCHAR' },
  { name: 'records_processed', type: 'BIGINT' },
  { name: 'error_message', type: 'VARCHAR' },
  { name: 'job_id', type: 'VARCHAR' },
  { name: 'job_url', type: 'VARCHAR' },
  { name: 'time', type: 'BIGINT' },
  { name: 'duration_seconds', type: 'DOUBLE' },
];

/** A log row's values in LOG_COLUMNS order; BIGINT columns as bigint. */
export function logRowValues(row: IngestionLogRow): (string | number | bigint | null)[] {
  return LOG_COLUMNS.map(({ name, type }) => {
    const value = row[name];
    if (value === null || value === undefined) return null;
    return type === 'BIGINT' ? BigInt(Math.trunc(value as number)) : value;
  });
}

/**
 * Tables whose newest log row is STARTED: a load that never wrote its SUCCESS or ERROR row. Plain SQL
 * both dialects run; in the same second a SUCCESS or ERROR row counts as newer than a STARTED one.
 */
export function unfinishedLoadsSql(qualifiedLog: string): string {
  return `SELECT table_name, time FROM (
      SELECT table_name, status, time,
             row_number() OVER (PARTITION BY table_name ORDER BY time DESC, status = 'STARTED') AS latest
      FROM ${qualifiedLog} WHERE table_name IS NOT NULL) AS ranked
    WHERE latest = 1 AND status = 'STARTED' ORDER BY table_name`;
}

/** The rows of unfinishedLoadsSql as UnfinishedLoad values. */
export function toUnfinishedLoads(rows: readonly Record<string, unknown>[]): UnfinishedLoad[] {
  return rows.map((row) => ({ table: String(row.table_name), startedAt: Number(row.time) }));
}

/** A window the log says a load of `table` covered: SUCCESS rows, and ERROR rows of loads that had a window. */
export interface LoggedWindow {
  status: 'SUCCESS' | 'ERROR';
  start_time: string;
  end_time: string;
}

/**
 * The windows `<schema>.ingestion_log` records for `table` (any order). Empty when there is no log.
 * Portable SQL through `Destination.query`, so every destination answers it the same way.
 */
export async function loggedWindows(
  destination: Pick<Destination, 'query' | 'tableColumns'>,
  schema: string,
  table: string,
): Promise<LoggedWindow[]> {
  if ((await destination.tableColumns(schema, INGESTION_LOG_TABLE)) === null) return [];
  const rows = await destination.query(
    `SELECT status, start_time, end_time FROM ${qualifiedName(schema, INGESTION_LOG_TABLE)}
     WHERE table_name = $1 AND status IN ('SUCCESS', 'ERROR')
       AND start_time IS NOT NULL AND start_time <> '' AND end_time IS NOT NULL AND end_time <> ''`,
    [table],
  );
  return rows.map((r) => ({
    status: r.status === 'SUCCESS' ? 'SUCCESS' : 'ERROR',
    start_time: String(r.start_time),
    end_time: String(r.end_time),
  }));
}
