/**
 * Shared pieces of the fault-injection suite: table comparisons against a clean run (row multisets
 * without the `time` column), exactly-once and ingestion_log invariants, the built CLI as a child
 * process (checks around `test/support/cli-process.ts`), a seeded RNG, and the counters the suite
 * prints at the end.
 *
 * The simulator, project folder and DuckDB paths come from `test/support/harness.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { Simulator } from '../../src/simulator/index.js';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import { repoRoot, runCliProcessSync } from '../support/cli-process.js';
import { type Query, withDuckDB } from '../support/destination.js';

export { Rng } from '../../src/simulator/data/random.js';

/** The simulator's "now" for every chaos case; every run's window ends here (`--end`). */
export const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
export const END = formatTemplateTime(NOW);
export const SCHEMA = 'klaviyo_src';
export const LOG_TABLE = 'ingestion_log';

// ---------------------------------------------------------------------------------------------
// Counters, printed once at the end of the suite.

export const totals = {
  faultsInjected: 0,
  kills: 0,
  runs: 0,
  rowsCompared: 0,
  rowsLost: 0,
  rowsDuplicated: 0,
};

export function summaryLine(durationMs: number): string {
  const t = totals;
  return (
    `chaos summary: faults injected ${t.faultsInjected}, kills ${t.kills}, runs ${t.runs}, ` +
    `rows compared ${t.rowsCompared}, rows lost ${t.rowsLost}, rows duplicated ${t.rowsDuplicated}, ` +
    `${(durationMs / 1000).toFixed(1)} s`
  );
}

/** Faults the simulator injected since its log was last cleared. */
export function faultsInLog(sim: Simulator): number {
  return sim.requestLog().filter((entry) => entry.fault !== null).length;
}

// ---------------------------------------------------------------------------------------------
// The project's datasources: table name -> window column (null: full load, keyed by id alone).

export function windowColumns(projectDir: string, workflow: 'inc' | 'hist'): Map<string, string | null> {
  const file = path.join(projectDir, 'config', 'klaviyo_datasources.yml');
  const doc = parse(readFileSync(file, 'utf8')) as Record<
    string,
    { table_name: string; incremental_field?: string | null }[]
  >;
  const list = doc[workflow === 'inc' ? 'inc_datasources' : 'hist_datasources'] ?? [];
  return new Map(list.map((d) => [d.table_name, d.incremental_field ? d.incremental_field : null]));
}

// ---------------------------------------------------------------------------------------------
// DuckDB: one in-memory instance that attaches the files read-only (the WAL of a killed run is
// replayed in memory and left on disk for the next run to recover).

export async function withAttached<T>(
  files: Record<string, string>,
  body: (query: Query) => Promise<T>,
): Promise<T> {
  const attach = Object.entries(files).map(
    ([alias, file]) => `ATTACH '${file.replaceAll("'", "''")}' AS ${alias} (READ_ONLY)`,
  );
  return withDuckDB(':memory:', body, { setup: [`SET TimeZone = 'UTC'`, ...attach] });
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

async function columnsOf(query: Query, alias: string, table: string): Promise<string[] | null> {
  const rows = await query(
    `SELECT column_name AS c FROM duckdb_columns() WHERE database_name = ${lit(alias)}
       AND schema_name = ${lit(SCHEMA)} AND table_name = ${lit(table)} ORDER BY column_name`,
  );
  return rows.length === 0 ? null : rows.map((r) => String(r.c));
}

/** The data tables of a database (everything in the schema but the ingestion log). */
export async function dataTables(dbPath: string): Promise<string[]> {
  return withAttached({ d: dbPath }, async (query) => {
    const rows = await query(
      `SELECT table_name AS t FROM duckdb_tables() WHERE database_name = 'd' AND schema_name = ${lit(SCHEMA)}
         AND table_name <> ${lit(LOG_TABLE)} ORDER BY table_name`,
    );
    return rows.map((r) => String(r.t));
  });
}

export interface TableDiff {
  table: string;
  expectedRows: number;
  actualRows: number;
  /** Rows of `expected` missing from `actual` (multiset difference). */
  lost: number;
  /** Rows of `actual` not in `expected`, duplicates included (multiset difference). */
  extra: number;
  /** Columns only one side has (a missing table counts as no columns). */
  columnMismatch: string[];
}

/**
 * Compares tables as row multisets, every value as text, columns matched by name; `time` (the
 * load's start) is left out unless `includeTime`. A table missing on one side has no rows.
 */
export async function diffTables(
  expectedDb: string,
  actualDb: string,
  tables: readonly string[],
  options: {
    includeTime?: boolean /** Skip the `lost` count (left 0): only what `actual` has too much. */;
    extraOnly?: boolean;
  } = {},
): Promise<TableDiff[]> {
  return withAttached({ e: expectedDb, a: actualDb }, async (query) => {
    const out: TableDiff[] = [];
    for (const table of tables) {
      const keep = (c: string) => options.includeTime === true || c !== 'time';
      const ec = ((await columnsOf(query, 'e', table)) ?? []).filter(keep);
      const ac = ((await columnsOf(query, 'a', table)) ?? []).filter(keep);
      const all = [...new Set([...ec, ...ac])].sort();
      const columnMismatch = all.filter((c) => ec.includes(c) !== ac.includes(c));
      const select = (alias: string, have: string[]) =>
        have.length === 0
          ? `SELECT ${all.map(() => 'NULL::VARCHAR').join(', ') || 'NULL::VARCHAR'} WHERE false`
          : `SELECT ${all
              .map((c) => (have.includes(c) ? `CAST(${q(c)} AS VARCHAR)` : 'NULL::VARCHAR'))
              .join(', ')} FROM ${alias}.${q(SCHEMA)}.${q(table)}`;
      const count = async (sql: string) => Number((await query(`SELECT count(*) AS n FROM (${sql})`))[0]?.n);
      const e = select('e', ec);
      const a = select('a', ac);
      out.push({
        table,
        expectedRows: await count(e),
        actualRows: await count(a),
        lost: options.extraOnly === true ? 0 : await count(`${e} EXCEPT ALL ${a}`),
        extra: await count(`${a} EXCEPT ALL ${e}`),
        columnMismatch,
      });
    }
    return out;
  });
}

/** Sums a comparison into the suite's counters. */
export function tally(diffs: readonly TableDiff[]): void {
  for (const d of diffs) {
    totals.rowsCompared += d.expectedRows;
    totals.rowsLost += d.lost;
    totals.rowsDuplicated += d.extra;
  }
}

/** Tables equal the clean run's (without `time`); the counters are updated either way. */
export async function expectSameTables(
  cleanDb: string,
  db: string,
  tables: readonly string[],
  expectFn: (diffs: TableDiff[]) => void,
): Promise<TableDiff[]> {
  const diffs = await diffTables(cleanDb, db, tables);
  tally(diffs);
  expectFn(diffs);
  return diffs;
}

/** A diff with nothing lost, nothing extra and the same columns, in the shape tests compare against. */
export function clean(diffs: readonly TableDiff[]): Record<string, string> {
  return Object.fromEntries(
    diffs.map((d) => [
      d.table,
      d.lost === 0 && d.extra === 0 && d.columnMismatch.length === 0 && d.actualRows === d.expectedRows
        ? 'equal'
        : `lost ${d.lost}, extra ${d.extra}, rows ${d.actualRows}/${d.expectedRows}, columns ${d.columnMismatch.join(',')}`,
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Invariants that hold at every moment, even right after a SIGKILL.

export interface Invariants {
  /** Per table: (id, window value) pairs present more than once. */
  duplicatePairs: Record<string, number>;
  /** Per table: rows of the clean run whose window value is below the table's max but are missing (lost for good: the next window starts at the max). */
  gapsBelowMax: Record<string, number>;
  /** Per table: rows not in the clean run (multiset), and rows beyond the clean run's count. */
  extraRows: Record<string, number>;
  /** Human-readable ingestion_log problems. */
  logProblems: string[];
  /** Rows per table. */
  rows: Record<string, number>;
  /** Rows per table that no SUCCESS row accounts for (checkpoint commits of an unfinished load). */
  checkpointed: Record<string, number>;
}

/**
 * Checks a database against the clean run: no duplicate (id, window) pairs; nothing missing below
 * the table's max window value; no row the clean run does not have; and ingestion_log consistent
 * with the tables (every SUCCESS row's records are in the table within its window, and SUCCESS
 * rows never claim more than the table holds). Rows no SUCCESS row accounts for are allowed: they
 * are checkpoint commits of a load not finished yet (`checkpointed`).
 */
export async function checkInvariants(
  cleanDb: string,
  db: string,
  windows: ReadonlyMap<string, string | null>,
): Promise<Invariants> {
  const result: Invariants = {
    duplicatePairs: {},
    gapsBelowMax: {},
    extraRows: {},
    logProblems: [],
    rows: {},
    checkpointed: {},
  };
  if (!existsSync(db)) {
    // Killed before the database file was created: nothing to check.
    for (const table of windows.keys()) {
      result.rows[table] = 0;
      result.duplicatePairs[table] = 0;
      result.gapsBelowMax[table] = 0;
      result.extraRows[table] = 0;
    }
    return result;
  }
  const diffs = await diffTables(cleanDb, db, [...windows.keys()], { extraOnly: true });
  await withAttached({ e: cleanDb, a: db }, async (query) => {
    const hasLog = (await columnsOf(query, 'a', LOG_TABLE)) !== null;
    for (const [table, field] of windows) {
      const columns = await columnsOf(query, 'a', table);
      const diff = diffs.find((d) => d.table === table);
      result.extraRows[table] = diff?.extra ?? 0;
      if (columns === null) {
        result.rows[table] = 0;
        result.duplicatePairs[table] = 0;
        result.gapsBelowMax[table] = 0;
        continue;
      }
      const t = `a.${q(SCHEMA)}.${q(table)}`;
      // A table created before its first commit has only the window column and `time`.
      const key = !columns.includes('id')
        ? 'NULL'
        : field && columns.includes(field)
          ? `id, ${q(field)}`
          : 'id';
      const [stats] = await query(
        `SELECT count(*) AS n, count(*) - count(DISTINCT (${key})) AS dups FROM ${t}`,
      );
      result.rows[table] = Number(stats?.n);
      result.duplicatePairs[table] = Number(stats?.dups);
      if (field && columns.includes(field) && columns.includes('id')) {
        const ts = `CAST(${q(field)} AS TIMESTAMPTZ)`;
        const [gaps] = await query(
          `WITH m AS (SELECT max(${ts}) AS mx FROM ${t})
           SELECT count(*) AS n FROM (
             SELECT id, CAST(${q(field)} AS VARCHAR) FROM e.${q(SCHEMA)}.${q(table)}, m WHERE ${ts} < m.mx
             EXCEPT ALL SELECT id, CAST(${q(field)} AS VARCHAR) FROM ${t})`,
        );
        result.gapsBelowMax[table] = Number(gaps?.n);
      } else {
        result.gapsBelowMax[table] = 0;
      }
      if (!hasLog) {
        if (result.rows[table] > 0) result.logProblems.push(`${table}: rows but no ingestion_log`);
        continue;
      }
      const successes = await query(
        `SELECT start_time, end_time, records_processed AS n FROM a.${q(SCHEMA)}.${q(LOG_TABLE)}
          WHERE table_name = ${lit(table)} AND status = 'SUCCESS'`,
      );
      let claimed = 0;
      for (const s of successes) {
        const n = Number(s.n);
        claimed += n;
        if (!field || !s.start_time || !s.end_time) continue;
        const [inWindow] = await query(
          `SELECT count(*) AS n FROM ${t} WHERE CAST(${q(field)} AS TIMESTAMPTZ) >= CAST(${lit(String(s.start_time))} AS TIMESTAMPTZ)
             AND CAST(${q(field)} AS TIMESTAMPTZ) < CAST(${lit(String(s.end_time))} AS TIMESTAMPTZ)`,
        );
        if (Number(inWindow?.n) < n) {
          result.logProblems.push(
            `${table}: a SUCCESS row claims ${n} rows in [${s.start_time}, ${s.end_time}) but the table holds ${inWindow?.n}`,
          );
        }
      }
      const rows = result.rows[table] ?? 0;
      if (claimed > rows)
        result.logProblems.push(`${table}: SUCCESS rows claim ${claimed} rows, table has ${rows}`);
      // Rows beyond what SUCCESS rows claim are checkpoint commits of a load that has not finished yet.
      result.checkpointed[table] = rows - claimed;
      if (diff && rows > diff.expectedRows) {
        result.logProblems.push(`${table}: ${rows} rows, more than the clean run's ${diff.expectedRows}`);
      }
    }
  });
  return result;
}

/** Totals of an Invariants result, for the counters and the assertion messages. */
export function violations(inv: Invariants): {
  duplicates: number;
  gaps: number;
  extra: number;
  log: string[];
} {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    duplicates: sum(inv.duplicatePairs),
    gaps: sum(inv.gapsBelowMax),
    extra: sum(inv.extraRows),
    log: inv.logProblems,
  };
}

// ---------------------------------------------------------------------------------------------
// The built CLI as a child process.

export function assertBuilt(): void {
  if (!existsSync(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('the CLI is not built: run `npm run build` first (npm run test:chaos does)');
  }
}

/** Whether the built CLI has the checkpoint flags (`--checkpoint-rows`, `--checkpoint-seconds`). */
export function cliHasCheckpointFlags(): boolean {
  return /--checkpoint-rows/.test(runCliProcessSync(['run', '--help']).stdout);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
