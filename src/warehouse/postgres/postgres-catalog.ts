/** Reading PostgreSQL's catalog and writing `<schema>.ingestion_log`. */
import type { ClientBase } from 'pg';
import type { IngestionLogRow } from '../destination.js';
import { qualifiedName, quoteIdentifier } from '../identifiers.js';
import { INGESTION_LOG_TABLE, LOG_COLUMNS, logRowValues } from '../ingestion-log.js';
import type { ExistingColumn } from '../schema-evolution.js';
import { columnTypeOfPostgres, postgresType } from './postgres-types.js';

/** The table's columns in order, or null when the table (or view) does not exist. */
export async function readTableColumns(
  client: ClientBase,
  schema: string,
  table: string,
): Promise<(ExistingColumn & { dataType: string })[] | null> {
  const result = await client.query<{ name: string; data_type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS data_type
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  if (result.rows.length === 0) return null;
  return result.rows.map(({ name, data_type }) => ({
    name,
    dataType: data_type,
    ...columnTypeOfPostgres(data_type),
  }));
}

/** Tables of `schema` whose name starts with `prefix`, sorted. */
export async function listTables(client: ClientBase, schema: string, prefix: string): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND starts_with(c.relname, $2)
      ORDER BY c.relname`,
    [schema, prefix],
  );
  return result.rows.map((row) => row.name);
}

export function createLogTableSql(schema: string): string {
  const columns = LOG_COLUMNS.map(({ name, type }) => `${quoteIdentifier(name)} ${postgresType(type)}`);
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(schema, INGESTION_LOG_TABLE)} (${columns.join(', ')})`;
}

/**
 * Creates the log table if missing and inserts `rows` with one parameterized statement; runs inside
 * the caller's transaction.
 */
export async function insertLogRows(
  client: ClientBase,
  schema: string,
  rows: readonly IngestionLogRow[],
): Promise<void> {
  await client.query(createLogTableSql(schema));
  if (rows.length === 0) return;
  const width = LOG_COLUMNS.length;
  const params: (string | number | null)[] = [];
  const tuples = rows.map((row, r) => {
    for (const value of logRowValues(row)) params.push(typeof value === 'bigint' ? value.toString() : value);
    return `(${LOG_COLUMNS.map((_, i) => `$${r * width + i + 1}`).join(', ')})`;
  });
  await client.query(
    `INSERT INTO ${qualifiedName(schema, INGESTION_LOG_TABLE)} (${LOG_COLUMNS.map(({ name }) => quoteIdentifier(name)).join(', ')}) VALUES ${tuples.join(', ')}`,
    params,
  );
}
