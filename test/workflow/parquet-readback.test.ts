/**
 * The same runs (two inc runs, the account changing in between) into a DuckDB file and into a Parquet
 * dataset; the dataset read back two ways equals the DuckDB tables, same rows and same columns:
 * DuckDB's `read_parquet(..., hive_partitioning = true, union_by_name = true)` over every file, as a
 * user would read it, and hyparquet (a Parquet reader that is not DuckDB) reading every file.
 * `time` (the load's start, read from the real clock) is compared as a column, not by value; so are
 * the log's clock-dependent columns.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import { clockFrom } from '../support/clocks.js';
import { createHarness, type Harness } from '../support/harness.js';

const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
const HOUR = 3600_000;
const SCHEMA = 'klaviyo_src';
/**
 * Log columns whose values differ between any two runs: ids, and what the real clock says (`clockFrom`
 * moves on with real time, so a window's end and a STARTED row's start are the moment each run ran).
 */
const LOG_RUN_COLUMNS = new Set([
  'log_id',
  'job_id',
  'job_url',
  'time',
  'duration_seconds',
  'start_time',
  'end_time',
]);

let duck: Harness;
let lake: Harness;
let lakeDir = '';

/** Runs inc on both, with the window's end given: `clockFrom` follows the real clock, so a window
 * ending at "now" could end a second later in one of them (and the next window start differently). */
async function runBoth(end: number): Promise<void> {
  for (const h of [duck, lake]) {
    // Small checkpoints: a load commits several times, so partitions hold several files.
    const report = await h.run({
      clock: clockFrom(end),
      end: formatTemplateTime(end),
      checkpoint: { rows: 300, ms: 60_000 },
    });
    expect(report.ok).toBe(true);
  }
}

beforeAll(async () => {
  const options = { seed: 23, now: NOW, events: 1500, profiles: 150 };
  duck = await createHarness(options, 'duckdb');
  lake = await createHarness(options, 'parquet');
  lakeDir = path.join(lake.destination.slice('parquet:'.length), SCHEMA);
  await runBoth(NOW);
  for (const h of [duck, lake]) {
    h.sim.advanceTime(HOUR);
    h.sim.updateRecords({ profiles: 30 });
    h.sim.addRecords({ profiles: 10, events: 200 });
  }
  await runBoth(NOW + HOUR);
}, 180_000);
afterAll(async () => {
  await duck?.cleanup();
  await lake?.cleanup();
});

/** Every Parquet file of a dataset folder, skipping `_`/`.` names as engines do. */
function parquetFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => name.endsWith('.parquet') && !name.split(path.sep).some((part) => /^[_.]/.test(part)))
    .map((name) => path.join(dir, name))
    .sort();
}

/** A value as comparable text, the same for DuckDB's and hyparquet's JS values. */
function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return `${value}`;
  return String(value);
}

/** Rows as sorted JSON lines over `columns` (a multiset, order-free). */
function lines(rows: Record<string, unknown>[], columns: readonly string[]): string[] {
  return rows.map((row) => JSON.stringify(columns.map((c) => text(row[c])))).sort();
}

async function withMemory<T>(
  use: (query: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>,
) {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await c.run(`ATTACH '${duck.dbPath}' AS d (READ_ONLY)`);
    return await use(async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJS());
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** The DuckDB destination's tables: name -> columns in order, and its rows. */
async function duckTables() {
  return withMemory(async (query) => {
    const tables = new Map<string, { columns: string[]; rows: Record<string, unknown>[] }>();
    const names = await query(
      `SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'd' AND schema_name = '${SCHEMA}' ORDER BY 1`,
    );
    for (const { t } of names) {
      const columns = await query(
        `SELECT column_name AS c FROM duckdb_columns() WHERE database_name = 'd' AND schema_name = '${SCHEMA}' AND table_name = '${t}' ORDER BY column_index`,
      );
      tables.set(String(t), {
        columns: columns.map((c) => String(c.c)),
        rows: await query(`SELECT * FROM d.${SCHEMA}.${t}`),
      });
    }
    return tables;
  });
}

describe('a Parquet dataset after two inc runs reads back equal to the DuckDB destination', () => {
  it('has the same tables, partitioned Hive style, with more than one file per table', async () => {
    const tables = await duckTables();
    const datasets = readdirSync(lakeDir).filter((name) => !/^[_.]/.test(name));
    expect(datasets.sort()).toEqual([...tables.keys()].sort());
    for (const table of tables.keys()) {
      const files = parquetFiles(path.join(lakeDir, table));
      expect(files.length, table).toBeGreaterThan(1);
      for (const file of files)
        expect(path.relative(lakeDir, file)).toMatch(/^\w+\/ki_date=[^/]+\/part-\d{8}-\d+\.parquet$/);
    }
  });

  it("DuckDB's read_parquet (hive_partitioning, union_by_name) over every file", async () => {
    const tables = await duckTables();
    await withMemory(async (query) => {
      for (const [table, { columns, rows }] of tables) {
        const glob = `${path.join(lakeDir, table)}/**/*.parquet`;
        const read = await query(
          `SELECT * FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true)`,
        );
        const readColumns = Object.keys(read[0] ?? {});
        // The table's columns, plus the partition column the folder names add.
        expect(readColumns.filter((c) => c !== 'ki_date').sort(), table).toEqual([...columns].sort());
        expect(readColumns, table).toContain('ki_date');
        const compared = columns.filter((c) =>
          table === 'ingestion_log' ? !LOG_RUN_COLUMNS.has(c) : c !== 'time',
        );
        expect(lines(read, compared), table).toEqual(lines(rows, compared));
      }
    });
  });

  it('hyparquet, reading every file on its own', async () => {
    const tables = await duckTables();
    for (const [table, { columns, rows }] of tables) {
      const read: Record<string, unknown>[] = [];
      const seen = new Set<string>();
      for (const file of parquetFiles(path.join(lakeDir, table))) {
        const fileRows = (await parquetReadObjects({
          file: await asyncBufferFromFile(file),
          compressors,
        })) as Record<string, unknown>[];
        for (const row of fileRows) for (const key of Object.keys(row)) seen.add(key);
        read.push(...fileRows);
      }
      // Files written before a column existed lack it: it reads as missing (null), as schema merging does.
      expect([...seen].sort(), table).toEqual([...columns].sort());
      const compared = columns.filter((c) =>
        table === 'ingestion_log' ? !LOG_RUN_COLUMNS.has(c) : c !== 'time',
      );
      expect(read.length, table).toBe(rows.length);
      expect(lines(read, compared), table).toEqual(lines(rows, compared));
    }
  });
});
