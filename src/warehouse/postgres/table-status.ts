import type { ClientBase } from 'pg';
import type { IngestionStatus, TableStatus } from '../destination.js';
import { qualifiedName } from '../identifiers.js';
import { INGESTION_LOG_TABLE } from '../ingestion-log.js';
import { listTables } from './postgres-catalog.js';

interface StatusRow {
  table_name: string;
  status: string;
  time: string | null;
  error_message: string | null;
  success_time: string | null;
  start_time: string | null;
  end_time: string | null;
  records_processed: string | null;
}

/** The newest log row per table and the newest SUCCESS row per table, then each table's row count. */
export async function readTableStatus(c: ClientBase, schema: string): Promise<TableStatus[]> {
  const tables = new Set(await listTables(c, schema, ''));
  if (!tables.has(INGESTION_LOG_TABLE)) return [];
  const log = qualifiedName(schema, INGESTION_LOG_TABLE);
  const result = await c.query<StatusRow>(
    `WITH ranked AS (
       SELECT *, row_number() OVER (PARTITION BY table_name ORDER BY time DESC NULLS LAST, status = 'STARTED') AS latest,
              row_number() OVER (PARTITION BY table_name, status = 'SUCCESS' ORDER BY time DESC NULLS LAST) AS latest_of_kind
       FROM ${log} WHERE table_name IS NOT NULL)
     SELECT l.table_name, l.status, l.time::text AS time, l.error_message,
            s.time::text AS success_time, s.start_time, s.end_time, s.records_processed::text AS records_processed
     FROM ranked l LEFT JOIN ranked s
       ON s.table_name = l.table_name AND s.status = 'SUCCESS' AND s.latest_of_kind = 1
     WHERE l.latest = 1 ORDER BY l.table_name COLLATE "C"`,
  );
  const out: TableStatus[] = [];
  for (const row of result.rows) {
    const table = row.table_name;
    let rows: number | null = null;
    if (tables.has(table)) {
      const count = await c.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${qualifiedName(schema, table)}`,
      );
      rows = Number(count.rows[0]?.n ?? 0);
    }
    out.push({
      table,
      rows,
      lastStatus: row.status as IngestionStatus,
      lastRunAt: Number(row.time),
      lastSuccess:
        row.success_time === null
          ? null
          : {
              at: Number(row.success_time),
              startTime: row.start_time,
              endTime: row.end_time,
              records: Number(row.records_processed ?? 0),
            },
      lastError: row.status === 'ERROR' ? row.error_message : null,
    });
  }
  return out;
}
