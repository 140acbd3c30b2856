import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestionLogRow } from '../../src/warehouse/destination.js';

export function tempDir(prefix = 'ki-warehouse-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

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
