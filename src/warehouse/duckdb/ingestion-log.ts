/** `<schema>.ingestion_log`: created on first use, rows inserted with bound parameters. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestionLogRow } from '../destination.js';
import { qualifiedName } from '../identifiers.js';

export const INGESTION_LOG_TABLE = 'ingestion_log';

const LOG_COLUMNS: readonly [keyof IngestionLogRow, string][] = [
  ['log_id', 'VARCHAR'],
  ['source_name', 'VARCHAR'],
  ['workflow_name', 'VARCHAR'],
  ['table_name', 'VARCHAR'],
  ['status', 'VARCHAR'],
  ['start_time', 'VARCHAR'],
  ['end_time', 'VARCHAR'],
  ['records_processed', 'BIGINT'],
  ['error_message', 'VARCHAR'],
  ['job_id', 'VARCHAR'],
  ['job_url', 'VARCHAR'],
  ['time', 'BIGINT'],
  ['duration_seconds', 'DOUBLE'],
];

/** Creates the log table if missing and inserts `rows`; runs inside the caller's transaction. */
export async function insertLogRows(
  connection: DuckDBConnection,
  schema: string,
  rows: readonly IngestionLogRow[],
): Promise<void> {
  const table = qualifiedName(schema, INGESTION_LOG_TABLE);
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${table} (${LOG_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`,
  );
  if (rows.length === 0) return;
  const statement = await connection.prepare(
    `INSERT INTO ${table} (${LOG_COLUMNS.map(([name]) => name).join(', ')}) VALUES (${LOG_COLUMNS.map(
      (_, i) => `$${i + 1}`,
    ).join(', ')})`,
  );
  try {
    for (const row of rows) {
      statement.bind([
        row.log_id,
        row.source_name,
        row.workflow_name,
        row.table_name,
        row.status,
        row.start_time,
        row.end_time,
        BigInt(Math.trunc(row.records_processed)),
        row.error_message,
        row.job_id,
        row.job_url,
        BigInt(Math.trunc(row.time)),
        row.duration_seconds,
      ]);
      await statement.run();
    }
  } finally {
    statement.destroySync();
  }
}
