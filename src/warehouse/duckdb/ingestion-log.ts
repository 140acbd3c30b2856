/** `<schema>.ingestion_log` in DuckDB: created on first use, rows inserted with bound parameters. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestionLogRow } from '../destination.js';
import { qualifiedName } from '../identifiers.js';
import { INGESTION_LOG_TABLE, LOG_COLUMNS, logRowValues } from '../ingestion-log.js';
import { duckdbType } from './duckdb-types.js';

/** Creates the log table if missing and inserts `rows`; runs inside the caller's transaction. */
export async function insertLogRows(
  connection: DuckDBConnection,
  schema: string,
  rows: readonly IngestionLogRow[],
): Promise<void> {
  const table = qualifiedName(schema, INGESTION_LOG_TABLE);
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${table} (${LOG_COLUMNS.map(({ name, type }) => `${name} ${duckdbType(type)}`).join(', ')})`,
  );
  if (rows.length === 0) return;
  const statement = await connection.prepare(
    `INSERT INTO ${table} (${LOG_COLUMNS.map(({ name }) => name).join(', ')}) VALUES (${LOG_COLUMNS.map(
      (_, i) => `$${i + 1}`,
    ).join(', ')})`,
  );
  try {
    for (const row of rows) {
      statement.bind(logRowValues(row));
      await statement.run();
    }
  } finally {
    statement.destroySync();
  }
}
