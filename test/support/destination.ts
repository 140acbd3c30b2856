/** Destinations in tests: read any destination by URL, open a DuckDB file directly, log rows. */

import { rmSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Row } from '../../src/records/row.js';
import type {
  Destination,
  IngestionLogRow,
  LoadResult,
  LoadTarget,
  WriteMode,
} from '../../src/warehouse/destination.js';
import { openDestination, parseDestinationUrl } from '../../src/warehouse/open-destination.js';
import { openParquetDestination } from '../../src/warehouse/parquet/parquet-destination.js';

export type Rows = Record<string, unknown>[];
export type Query = (sql: string) => Promise<Rows>;

export interface OpenOptions {
  /** Open the file read-only (another reader may have it open; nothing can be written by mistake). */
  readOnly?: boolean;
  /** Statements run first, e.g. `SET TimeZone = 'UTC'` or `ATTACH ...`. */
  setup?: readonly string[];
}

/** Opens a DuckDB file (or `:memory:`), gives `use` a query function, and closes it again. */
export async function withDuckDB<T>(
  dbPath: string,
  use: (query: Query) => Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const instance = await DuckDBInstance.create(
    dbPath,
    options.readOnly === true ? { access_mode: 'READ_ONLY' } : undefined,
  );
  const connection = await instance.connect();
  try {
    for (const sql of options.setup ?? []) await connection.run(sql);
    return await use(async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Rows);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Runs one statement against a DuckDB file and returns the rows as objects (opened and closed per call). */
export function queryDuckDB(dbPath: string, sql: string, options: OpenOptions = {}): Promise<Rows> {
  return withDuckDB(dbPath, (query) => query(sql), options);
}

/** An ingestion_log row of a SUCCESS load, with `overrides`. */
export function logRow(overrides: Partial<IngestionLogRow> = {}): IngestionLogRow {
  return {
    log_id: 'log-1',
    source_name: 'klaviyo_events',
    workflow_name: 'klaviyo_ingest_inc',
    table_name: 'klaviyo_events',
    status: 'SUCCESS',
    start_time: '2025-09-01T00:00:00.000000',
    end_time: '2025-09-02T00:00:00.000000',
    records_processed: 0,
    error_message: null,
    job_id: 'job-1',
    job_url: null,
    time: 1_756_771_200,
    duration_seconds: 1.5,
    ...overrides,
  };
}

/** One load of `target`: writes each batch, then commits with a SUCCESS log row counting them all. */
export async function loadBatches(
  destination: Destination,
  target: LoadTarget,
  ...batches: Row[][]
): Promise<LoadResult> {
  const session = await destination.openLoad(target);
  for (const batch of batches) await session.write(batch);
  return session.commit([logRow({ table_name: target.table, records_processed: batches.flat().length })]);
}

/** The destinations every end-to-end suite runs on. */
export const DESTINATION_KINDS = ['duckdb', 'postgres', 'parquet'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** Runs one read on a destination by URL (opened and closed per call), rows as plain objects. */
export async function queryDestination(url: string, sql: string): Promise<Rows> {
  const destination = await openDestination(url);
  try {
    return await destination.query(sql);
  } finally {
    await destination.close();
  }
}

/**
 * Drops a schema and everything in it: SQL's DROP SCHEMA, or for a Parquet dataset the schema's
 * folder (what an operator would remove).
 */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const location = parseDestinationUrl(url);
  if (location.kind === 'parquet') rmSync(path.join(location.path, schema), { recursive: true, force: true });
  else await queryDestination(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/**
 * Deletes the rows of a table matching `where` (SQL over the table's columns): DELETE in SQL, a
 * copy-on-write rewrite of the files holding them on a Parquet dataset.
 */
export async function deleteRows(url: string, schema: string, table: string, where: string): Promise<void> {
  const location = parseDestinationUrl(url);
  if (location.kind !== 'parquet') {
    await queryDestination(url, `DELETE FROM ${schema}.${table} WHERE ${where}`);
    return;
  }
  const destination = await openParquetDestination(location.path);
  try {
    await destination.deleteWhere(schema, table, where);
  } finally {
    await destination.close();
  }
}

/**
 * Creates `schema.table` with the window column (VARCHAR) and `time` (BIGINT) and appends `rows`
 * (which have only those columns), writing no ingestion log row: a table an earlier tool left.
 */
export async function seedTable(
  url: string,
  schema: string,
  table: string,
  windowColumn: string,
  rows: Row[],
): Promise<void> {
  const destination = await openDestination(url);
  try {
    await destination.ensureSchema(schema);
    await destination.createTableIfMissing(schema, table, [
      { name: windowColumn, type: 'VARCHAR' },
      { name: 'time', type: 'BIGINT' },
    ]);
    const session = await destination.openLoad(loadTarget(schema, table, 'append', windowColumn));
    await session.write(rows);
    await session.commit([]);
  } finally {
    await destination.close();
  }
}

/** Rows per table of `schema` in a destination (by URL), by table name. */
export async function tableCounts(
  url: string,
  schema: string,
  tables: readonly string[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await queryDestination(url, `SELECT count(*) AS n FROM ${schema}.${table}`);
    counts[table] = Number(row?.n);
  }
  return counts;
}

/** A load target in `schema`. */
export function loadTarget(
  schema: string,
  table: string,
  mode: WriteMode,
  windowColumn: string | null,
): LoadTarget {
  return { schema, table, mode, windowColumn };
}
