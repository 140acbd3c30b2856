import type { DuckDBConnection } from '@duckdb/node-api';
import type { IngestionStatus, TableStatus } from '../destination.js';
import { qualifiedName } from '../identifiers.js';
import { INGESTION_LOG_TABLE } from '../ingestion-log.js';
import { listTables } from './duckdb-catalog.js';

/** The newest log row per table and the newest SUCCESS row per table, then each table's row count. */
export async function readTableStatus(c: DuckDBConnection, schema: string): Promise<TableStatus[]> {
  const tables = new Set(await listTables(c, schema, ''));
  return readTableStatusOf(c, schema, tables, async (table) => {
    const count = await c.runAndReadAll(`SELECT count(*) FROM ${qualifiedName(schema, table)}`);
    return Number(count.getRows()[0]?.[0] ?? 0);
  });
}

/**
 * The same, for a schema whose tables (`tables`, the log included when it exists) are known another
 * way and whose row counts `rowsOf` gives (the Parquet destination: views and manifests).
 */
export async function readTableStatusOf(
  c: DuckDBConnection,
  schema: string,
  tables: ReadonlySet<string>,
  rowsOf: (table: string) => Promise<number>,
): Promise<TableStatus[]> {
  if (!tables.has(INGESTION_LOG_TABLE)) return [];
  const log = qualifiedName(schema, INGESTION_LOG_TABLE);
  const reader = await c.runAndReadAll(
    `WITH ranked AS (
       SELECT *, row_number() OVER (PARTITION BY table_name ORDER BY time DESC, status = 'STARTED') AS latest,
              row_number() OVER (PARTITION BY table_name, status = 'SUCCESS' ORDER BY time DESC) AS latest_of_kind
       FROM ${log} WHERE table_name IS NOT NULL)
     SELECT l.table_name, l.status, l.time, l.error_message,
            s.time AS success_time, s.start_time, s.end_time, s.records_processed
     FROM ranked l LEFT JOIN ranked s
       ON s.table_name = l.table_name AND s.status = 'SUCCESS' AND s.latest_of_kind = 1
     WHERE l.latest = 1 ORDER BY l.table_name`,
  );
  const out: TableStatus[] = [];
  for (const row of reader.getRowObjectsJS()) {
    const table = String(row.table_name);
    let rows: number | null = null;
    if (tables.has(table)) rows = await rowsOf(table);
    out.push({
      table,
      rows,
      lastStatus: String(row.status) as IngestionStatus,
      lastRunAt: Number(row.time),
      lastSuccess:
        row.success_time === null || row.success_time === undefined
          ? null
          : {
              at: Number(row.success_time),
              startTime: (row.start_time as string | null) ?? null,
              endTime: (row.end_time as string | null) ?? null,
              records: Number(row.records_processed ?? 0),
            },
      lastError: row.status === 'ERROR' ? ((row.error_message as string | null) ?? null) : null,
    });
  }
  return out;
}
