/**
 * `klaviyo-ingest query`: one SQL statement run read-only on any destination, for a first look at
 * the data. DuckDB opens the file with `access_mode=READ_ONLY` and no external access (no ATTACH of
 * another file, no COPY ... TO); PostgreSQL runs the statement in a READ ONLY transaction with the
 * extended protocol (one statement, so no `COMMIT; DROP ...` can follow) and rolls it back.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { configError, ingestionError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { DuckDBInstance } from './duckdb/duckdb-api.js';
import { parseDestinationUrl } from './open-destination.js';
import { describePostgresUrl } from './postgres/postgres-destination.js';

export interface QueryResult {
  columns: string[];
  /** Values as JSON would hold them: text, numbers, booleans, null, nested arrays/objects. */
  rows: unknown[][];
}

const READ_ONLY_FIX =
  'query only reads; write with klaviyo-ingest run, or with a DuckDB/PostgreSQL client of your own';

/** DuckDB's and PostgreSQL's words for "this statement would write". */
function isWriteRefusal(message: string): boolean {
  return /read-only|read only|cannot execute .* in a read-only transaction|permission to write|external access|file system operations are disabled/i.test(
    message,
  );
}

function queryError(detail: string) {
  if (isWriteRefusal(detail)) {
    return configError(
      `the statement would write (or reach outside the database), and query is read-only: ${detail}`,
      {
        code: 'QUERY_READ_ONLY',
        fix: READ_ONLY_FIX,
      },
    );
  }
  return configError(`the query failed: ${detail}`, {
    code: 'QUERY_FAILED',
    fix: 'check the SQL; tables live in schema databases.src (e.g. klaviyo_src.klaviyo_events)',
  });
}

/** BigInts (DuckDB BIGINT / HUGEINT) as numbers when exact, else as text. */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  }
  return value;
}

async function queryDuckDB(path: string, sql: string): Promise<QueryResult> {
  if (path !== ':memory:' && !existsSync(path)) {
    throw configError(`no database at ${path}`, {
      code: 'DESTINATION_MISSING',
      key: '--destination',
      fix: 'run a workflow first (klaviyo-ingest run inc), or point --destination at the database',
    });
  }
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      ...(path === ':memory:' ? {} : { access_mode: 'READ_ONLY' }),
      enable_external_access: 'false',
      lock_configuration: 'true',
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (/Could not set lock|Conflicting lock/i.test(detail)) {
      throw ingestionError(
        `the database file ${path} is open for writing in another process (a klaviyo-ingest run?); DuckDB lets no other process open it meanwhile, not even to read`,
        {
          code: 'DESTINATION_IN_USE',
          fix: 'query again when the run has finished (klaviyo-ingest status --destination shows when); on PostgreSQL, query works during a run',
          cause: error,
        },
      );
    }
    throw ingestionError(`cannot open the DuckDB database file ${path}: ${detail}`, {
      code: 'DESTINATION_OPEN',
      fix: 'check the --destination path, its permissions, and that it is a DuckDB database file',
      cause: error,
    });
  }
  try {
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(sql).catch((error: unknown) => {
        throw queryError(error instanceof Error ? error.message : String(error));
      });
      return {
        columns: reader.columnNames(),
        rows: reader.getRowsJS().map((row) => row.map(jsonValue)),
      };
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

async function queryPostgres(url: string, sql: string): Promise<QueryResult> {
  for (const secret of describePostgresUrl(url).secrets) registerSecret(secret);
  registerSecret(process.env.PGPASSWORD);
  const client = new pg.Client({
    connectionString: url,
    application_name: 'klaviyo-ingest query',
    options: '-c default_transaction_read_only=on',
  });
  try {
    await client.connect();
  } catch (error) {
    throw ingestionError(
      `cannot connect to ${describePostgresUrl(url).description}: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'DESTINATION_OPEN', fix: 'check the --destination URL, the server and PGPASSWORD' },
    );
  }
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    try {
      // pg sends `queryMode: 'extended'` (which its types do not list) as Parse/Bind/Execute: one statement only.
      const config: pg.QueryArrayConfig & { queryMode: 'extended' } = {
        text: sql,
        rowMode: 'array',
        queryMode: 'extended',
      };
      const result = await client.query(config).catch((error: unknown) => {
        throw queryError(error instanceof Error ? error.message : String(error));
      });
      return {
        columns: result.fields.map((f) => f.name),
        rows: (result.rows as unknown[][]).map((row) => row.map(jsonValue)),
      };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one statement read-only on the destination a `--destination` value names. */
export async function runReadOnlyQuery(url: string | undefined, sql: string): Promise<QueryResult> {
  const location = parseDestinationUrl(url);
  return location.kind === 'postgres' ? queryPostgres(location.url, sql) : queryDuckDB(location.path, sql);
}
