/**
 * The layout of `<schema>.ingestion_log`, as TD's logging pattern lays it out (plus
 * `duration_seconds`), the same in every destination: each dialect maps the logical types.
 */
import type { ColumnType, IngestionLogRow } from './destination.js';

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
