/** The project files the templates do not spell out: database, date ranges, logging SQL, git and credential files. */

export const DATABASE = `databases:
  src: klaviyo_src

td_authentication_ids:
  klaviyo:
    default: 360030
`;

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Monthly backfill ranges from 2023-09 through 2025-08, start inclusive, end exclusive. */
function monthlyRanges(fromYear: number, fromMonth: number, count: number): string {
  const lines = ['date_ranges:'];
  for (let i = 0; i < count; i++) {
    const start = new Date(Date.UTC(fromYear, fromMonth - 1 + i, 1));
    const end = new Date(Date.UTC(fromYear, fromMonth + i, 1));
    const ym = (d: Date) => `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}`;
    lines.push(
      `  - start_time: "${ym(start)}-01T00:00:00.000000"`,
      `    end_time: "${ym(end)}-01T00:00:00.000000"`,
      `    month_name: "${ym(start)}"`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const HIST_DATE_RANGES = monthlyRanges(2023, 9, 24);

/*
 * The logging SQL documents the ingestion_log table and stays runnable on Treasure Data (td>):
 * klaviyo-ingest writes the same rows natively. The table, created once:
 *   CREATE TABLE IF NOT EXISTS ingestion_log (log_id VARCHAR, source_name VARCHAR, workflow_name VARCHAR,
 *     table_name VARCHAR, status VARCHAR, start_time VARCHAR, end_time VARCHAR, records_processed BIGINT,
 *     error_message VARCHAR, job_id VARCHAR, job_url VARCHAR, time BIGINT, duration_seconds DOUBLE)
 */
const COLUMNS = `  log_id, source_name, workflow_name, table_name, status, start_time, end_time,
  records_processed, error_message, job_id, job_url, time, duration_seconds`;

/** The statement head every log file shares. */
const INSERT_ROW = `INSERT INTO ingestion_log (
${COLUMNS}
)
SELECT`;

/** The id and names of a row about one table (start and success). */
const TABLE_ROW_NAMES = `  concat('\${source_name}_\${table_name}_', cast(CURRENT_TIMESTAMP AS VARCHAR)) AS log_id,
  '\${source_name}' AS source_name,
  '\${workflow_name}' AS workflow_name,
  '\${table_name}' AS table_name,`;

export const LOG_START_SQL = `-- One STARTED row in the ingestion log when a datasource begins loading.
-- Params: source_name, workflow_name, table_name (set by the +log_ingestion_start task).
${INSERT_ROW}
${TABLE_ROW_NAMES}
  'STARTED' AS status,
  cast(now() AS VARCHAR) AS start_time,
  CAST(NULL AS VARCHAR) AS end_time,
  0 AS records_processed,
  CAST(NULL AS VARCHAR) AS error_message,
  CAST(NULL AS VARCHAR) AS job_id,
  CAST(NULL AS VARCHAR) AS job_url,
  cast(floor(to_unixtime(now())) AS BIGINT) AS time,
  CAST(NULL AS DOUBLE) AS duration_seconds
`;

export const LOG_SUCCESS_SQL = `-- One SUCCESS row with the loaded window and the record count ("with time tracking").
-- Params: source_name, workflow_name, table_name; td.last_results (the window) and td.last_job (the load job).
${INSERT_ROW}
${TABLE_ROW_NAMES}
  'SUCCESS' AS status,
  '\${td.last_results.start_time}' AS start_time,
  '\${td.last_results.end_time}' AS end_time,
  \${td.last_job.num_records} AS records_processed,
  CAST(NULL AS VARCHAR) AS error_message,
  '\${td.last_job.id}' AS job_id,
  'https://console.treasuredata.com/app/jobs/\${td.last_job.id}/output-logs' AS job_url,
  cast(floor(to_unixtime(now())) AS BIGINT) AS time,
  CAST(NULL AS DOUBLE) AS duration_seconds
`;

export const LOG_ERROR_SQL = `-- One ERROR row when the workflow fails (the _error task).
-- Params: source_name, workflow_name, error_message (set by the +log_ingestion_error task).
${INSERT_ROW}
  concat('\${source_name}_', cast(CURRENT_TIMESTAMP AS VARCHAR)) AS log_id,
  '\${source_name}' AS source_name,
  '\${workflow_name}' AS workflow_name,
  CAST(NULL AS VARCHAR) AS table_name,
  'ERROR' AS status,
  CAST(NULL AS VARCHAR) AS start_time,
  cast(now() AS VARCHAR) AS end_time,
  0 AS records_processed,
  '\${error_message}' AS error_message,
  CAST(NULL AS VARCHAR) AS job_id,
  CAST(NULL AS VARCHAR) AS job_url,
  cast(floor(to_unixtime(now())) AS BIGINT) AS time,
  CAST(NULL AS DOUBLE) AS duration_seconds
`;

export const GITIGNORE = `# Klaviyo API keys: never commit them.
credentials_ingestion.json
`;

export const CREDENTIALS_EXAMPLE = `{
  "klaviyo_api_token": "your_private_api_key",
  "klaviyo_revision_time": "2026-07-15",
  "accounts": {
    "360030": {
      "klaviyo_api_token": "your_private_api_key",
      "klaviyo_revision_time": "2026-07-15"
    }
  }
}
`;
