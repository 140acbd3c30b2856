import type { Row } from '../records/row.js';
import type { ParentProgress } from './parent-cursors.js';
/**
 * The destination contract. Only `warehouse/` speaks SQL; the workflow runner talks to this interface.
 *
 * Tables follow the templates: created with the window column (VARCHAR) and `time BIGINT`, then
 * widened with one column per top-level attribute as records arrive. All values reach the database
 * through bound parameters or the appender, never through SQL text; identifiers are validated and quoted.
 */

/** Logical column types; each destination maps them to its own SQL types. */
export type ColumnType = 'BOOLEAN' | 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'JSON';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/**
 * `snapshot`: the load read the whole collection; rows are merged by `id` (like `merge`), and rows of
 * the table whose `id` the load did not return get `_deleted_at` (the load's time) unless they have one:
 * the table keeps what Klaviyo deleted, marked. An id that comes back is a live row again.
 */
export type WriteMode = 'append' | 'replace' | 'merge' | 'snapshot';

/** The column `snapshot` loads mark rows deleted upstream in (text timestamp, NULL while live). */
export const DELETED_AT_COLUMN = '_deleted_at';

export type IngestionStatus = 'STARTED' | 'SUCCESS' | 'ERROR';

/** One row of `<schema>.ingestion_log`, laid out as TD's logging pattern (plus duration_seconds). */
export interface IngestionLogRow {
  log_id: string;
  source_name: string;
  workflow_name: string;
  table_name: string | null;
  status: IngestionStatus;
  start_time: string | null;
  end_time: string | null;
  records_processed: number;
  error_message: string | null;
  job_id: string | null;
  job_url: string | null;
  /** Unix seconds when the row was written. */
  time: number;
  duration_seconds: number | null;
}

export interface LoadTarget {
  schema: string;
  table: string;
  mode: WriteMode;
  /**
   * The table's window column (the datasource's `incremental_field`, e.g. `updated_at`), or null for
   * full loads (metrics). In `append` mode a staged row whose (`id`, window column) pair is already in
   * the table, or earlier in the same load, is dropped: that is what makes re-reading the boundary
   * second exactly-once.
   */
  windowColumn: string | null;
  /** `snapshot` mode: the `_deleted_at` value of rows this load no longer returns (the load's time). */
  deletedAt?: string;
}

export interface LoadResult {
  /** Rows written to the table. */
  inserted: number;
  /** Rows dropped because the same (id, window value) was already present. */
  duplicatesSkipped: number;
  /** `snapshot` mode: rows newly marked deleted upstream. */
  markedDeleted?: number;
}

export type CommitLogRows = IngestionLogRow[] | ((result: LoadResult) => IngestionLogRow[]);

/** Rows of one source load: staged first, then committed in a single transaction with the log row(s). */
export interface LoadSession {
  write(rows: Row[]): Promise<void>;
  /**
   * Moves staged rows into the table and inserts the log rows into ingestion_log, atomically. Pass a
   * function to build the log rows from the result (a SUCCESS row's records_processed = rows inserted).
   * A child collection's load also records its parents' progress (`ingestion_parents`) in the same
   * transaction.
   */
  commit(logRows: CommitLogRows, parents?: ParentProgress): Promise<LoadResult>;
  /** Drops everything staged; the table is left exactly as before. */
  abort(): Promise<void>;
}

/** What `status` shows per table named in the ingestion log. */
export interface TableStatus {
  table: string;
  /** Rows in the table now (null when the table does not exist). */
  rows: number | null;
  lastStatus: IngestionStatus;
  /** Unix seconds of the newest log row. */
  lastRunAt: number;
  lastSuccess: { at: number; startTime: string | null; endTime: string | null; records: number } | null;
  /** The error of the newest run when it failed. */
  lastError: string | null;
}

/** A table whose last load logged STARTED and nothing after: the run was killed, or still runs. */
export interface UnfinishedLoad {
  table: string;
  /** Unix seconds of its STARTED row. */
  startedAt: number;
}

export interface Destination {
  /** e.g. `duckdb:/path/klaviyo.duckdb`, never containing a password. */
  readonly description: string;
  ensureSchema(schema: string): Promise<void>;
  /** CREATE TABLE IF NOT EXISTS with exactly these columns (as the templates' setup step does). */
  createTableIfMissing(schema: string, table: string, columns: ColumnSpec[]): Promise<void>;
  /**
   * The chronological maximum of a timestamp-text column (NULLs and unparseable values ignored),
   * as epoch milliseconds; null when the table has no value.
   */
  maxTimestamp(schema: string, table: string, column: string): Promise<number | null>;
  /** Inserts into `<schema>.ingestion_log`, creating it when missing. */
  appendLog(schema: string, rows: IngestionLogRow[]): Promise<void>;
  openLoad(target: LoadTarget): Promise<LoadSession>;
  /** Per table of `<schema>.ingestion_log`: the latest run, the latest success, rows now. Empty without a log. */
  tableStatus(schema: string): Promise<TableStatus[]>;
  /**
   * Tables of `<schema>.ingestion_log` whose last load never finished (killed, or a crash): its newest
   * row is STARTED and no other run is loading the schema now. Empty without a log.
   */
  unfinishedLoads(schema: string): Promise<UnfinishedLoad[]>;
  /** The table's columns with their logical types, or null when it does not exist. */
  tableColumns(schema: string, table: string): Promise<ColumnSpec[] | null>;
  /**
   * A read in the destination's SQL, rows as plain objects (status displays, checks, tests). Values go
   * in `params` (`$1`, `$2`, ...), never in `sql`.
   */
  query(
    sql: string,
    params?: (string | number | bigint | boolean | null)[],
  ): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
