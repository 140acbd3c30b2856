/**
 * What only the DuckDB destination does: `duckdb:` URLs, one shared instance per file, stages as TEMP
 * tables of the session's connection, and close waiting for a commit in flight. The destination
 * contract (setup, modes, widening, atomicity, ...) runs for DuckDB in destination-contract.test.ts.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadTarget } from '../../src/warehouse/destination.js';
import {
  type DuckDBDestination,
  openDuckDBDestination,
} from '../../src/warehouse/duckdb/duckdb-destination.js';
import { openDestination } from '../../src/warehouse/open-destination.js';
import { logRow } from '../support/destination.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

const dir = tempDir('ki-warehouse-');
afterAll(cleanupTempDirs);

let n = 0;
let dest: DuckDBDestination;

beforeEach(async () => {
  dest = await openDuckDBDestination(join(dir, `db${n++}.duckdb`));
  await dest.ensureSchema('src');
});
afterEach(async () => {
  await dest.close();
});

const events: LoadTarget = { schema: 'src', table: 'events', mode: 'append', windowColumn: 'datetime' };

describe('setup', () => {
  it('openDestination opens a duckdb: URL and describes it', async () => {
    const other = await openDestination(`duckdb:${join(dir, 'url.duckdb')}`);
    expect(other.description).toBe(`duckdb:${join(dir, 'url.duckdb')}`);
    await other.close();
    const memory = await openDestination('duckdb::memory:');
    await memory.ensureSchema('src');
    expect(memory.description).toBe('duckdb::memory:');
    await memory.close();
  });
});

describe('instances', () => {
  it('shares one DuckDB instance per file within a process, closing it with the last user', async () => {
    const path = join(dir, 'shared.duckdb');
    const a = await openDuckDBDestination(path);
    const b = await openDuckDBDestination(path);
    await a.ensureSchema('src');
    await a.appendLog('src', [logRow()]);
    await a.close();
    expect(await b.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 1 }]);
    await b.close();
    // Opened again after its last user closed it: a new instance over the same file.
    const again = (await openDestination(`duckdb:${path}`)) as DuckDBDestination;
    try {
      await again.appendLog('src', [logRow({ log_id: 'log-2' })]);
      expect(await again.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 2 }]);
    } finally {
      await again.close();
    }
  });
});

describe('stages', () => {
  it('stages are connection-local TEMP tables; leftover stage tables in the schema are dropped', async () => {
    // Stages live in the session's TEMP schema, so a killed process leaves nothing behind. Tables with
    // the staging prefix in the target schema (older versions, other tools) are cleaned up anyway.
    await dest.query('CREATE TABLE src._ki_stage_events_deadbeef (ki_seq INTEGER)');
    await dest.query('CREATE TABLE src._ki_stage_profiles_0badf00d (ki_seq INTEGER)');
    const stages = async () =>
      (
        await dest.query(
          "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_ki_stage_') ORDER BY 1",
        )
      ).map((r) => r.table_name);
    const session = await dest.openLoad(events);
    await session.write([{ id: 'a', datetime: 't', n: 1 }]);
    expect(await stages()).toEqual(['_ki_stage_profiles_0badf00d']); // events' leftover dropped by openLoad
    expect(await dest.cleanupStaleStages('src')).toBe(1);
    expect(await stages()).toEqual([]);
    expect(await session.commit([])).toEqual({ inserted: 1, duplicatesSkipped: 0 });
  });
});

describe('close', () => {
  it('close waits for a commit in flight', async () => {
    const session = await dest.openLoad(events);
    await session.write(Array.from({ length: 900 }, (_, i) => ({ id: `e${i}`, datetime: 't', x: i })));
    const committing = session.commit([logRow()]);
    const closing = dest.close();
    expect(await committing).toEqual({ inserted: 900, duplicatesSkipped: 0 });
    await closing;
    dest = await openDuckDBDestination(dest.path);
    expect(await dest.query('SELECT count(*)::INT AS n, count(x)::INT AS x FROM src.events')).toEqual([
      { n: 900, x: 900 },
    ]);
    expect(await dest.query('SELECT count(*)::INT AS n FROM src.ingestion_log')).toEqual([{ n: 1 }]);
  });
});
