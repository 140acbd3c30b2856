import type { IngestionLogRow, IngestionStatus } from '../warehouse/destination.js';

/** `cast(now() as varchar)` in TD's logging SQL: `2025-10-10 13:45:30.123 UTC`. */
function logTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

export interface LogRowInput {
  status: IngestionStatus;
  sourceName: string;
  workflowName: string;
  tableName: string | null;
  nowMs: number;
  startTime?: string | null;
  endTime?: string | null;
  records?: number;
  errorMessage?: string | null;
  jobId?: string | null;
  durationSeconds?: number | null;
}

/** A row laid out as TD's logging pattern: log_id = `<source>_<table>_<timestamp>` (error rows `<source>_<timestamp>`). */
export function logRow(input: LogRowInput): IngestionLogRow {
  const stamp = logTimestamp(input.nowMs);
  return {
    log_id: input.tableName
      ? `${input.sourceName}_${input.tableName}_${stamp}`
      : `${input.sourceName}_${stamp}`,
    source_name: input.sourceName,
    workflow_name: input.workflowName,
    table_name: input.tableName,
    status: input.status,
    start_time: input.startTime ?? (input.status === 'STARTED' ? stamp : null),
    end_time: input.endTime ?? (input.status === 'ERROR' ? stamp : null),
    records_processed: input.records ?? 0,
    error_message: input.errorMessage ?? null,
    job_id: input.jobId ?? null,
    job_url: null,
    time: Math.floor(input.nowMs / 1000),
    duration_seconds: input.durationSeconds ?? null,
  };
}
