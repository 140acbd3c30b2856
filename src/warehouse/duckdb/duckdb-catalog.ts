/** Reading DuckDB's catalog: the columns of a table, the staging tables in a schema. */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ExistingColumn } from '../schema-evolution.js';
import { columnTypeOfDuckdb } from './duckdb-types.js';

/** The table's columns in order, or null when the table does not exist. */
export async function readTableColumns(
  connection: DuckDBConnection,
  schema: string,
  table: string,
): Promise<(ExistingColumn & { dataType: string })[] | null> {
  const reader = await connection.runAndReadAll(
    `SELECT column_name, data_type FROM duckdb_columns()
      WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2
      ORDER BY column_index`,
    [schema, table],
  );
  const rows = reader.getRows();
  if (rows.length === 0) return null;
  return rows.map(([name, dataType]) => ({
    name: String(name),
    dataType: String(dataType),
    ...columnTypeOfDuckdb(String(dataType)),
  }));
}

export async function listTables(
  connection: DuckDBConnection,
  schema: string,
  prefix: string,
): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT table_name FROM duckdb_tables()
      WHERE database_name = current_database() AND schema_name = $1 AND starts_with(table_name, $2)
      ORDER BY table_name`,
    [schema, prefix],
  );
  return reader.getRows().map(([name]) => String(name));
}
