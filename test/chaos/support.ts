/**
 * Shared pieces of the fault-injection suite: table comparisons against a clean run (row multisets
 * without the `time` column) on DuckDB files or PostgreSQL schemas, exactly-once and ingestion_log
 * invariants, the built CLI as a child process (checks around `test/support/cli-process.ts`), a
 * seeded RNG, and the counters the suite prints at the end, per destination.
 *
 * The simulator, project folder and destinations come from `test/support/harness.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'yaml';
import type { Simulator } from '../../src/simulator/index.js';
import { formatTemplateTime } from '../../src/util/timestamps.js';
import { readSnapshot } from '../../src/warehouse/parquet/parquet-commits.js';
import { createDatasetViews } from '../../src/warehouse/parquet/parquet-views.js';
import { repoRoot, runCliProcessSync } from '../support/cli-process.js';
import {
  DESTINATION_KINDS,
  type DestinationKind,
  type Query,
  type Rows,
  withDuckDB,
} from '../support/destination.js';
import { connectPostgres } from '../support/postgres.js';

export { Rng } from '../../src/simulator/data/random.js';

/** The simulator's "now" for every chaos case; every run's window ends here (`--end`). */
export const NOW = Date.UTC(2025, 9, 15, 12, 0, 0);
export const END = formatTemplateTime(NOW);
export const SCHEMA = 'klaviyo_src';
export const LOG_TABLE = 'ingestion_log';

// ---------------------------------------------------------------------------------------------
// Counters per destination, printed once at the end of the suite (one line per destination).

export interface Counters {
  faultsInjected: number;
  kills: number;
  runs: number;
  rowsCompared: number;
  rowsLost: number;
  rowsDuplicated: number;
  /** Time spent in this destination's cases (DuckDB: the rest of the suite). */
  ms: number;
}

const zero = (): Counters => ({
  faultsInjected: 0,
  kills: 0,
  runs: 0,
  rowsCompared: 0,
  rowsLost: 0,
  rowsDuplicated: 0,
  ms: 0,
});

export const totalsByKind: Record<DestinationKind, Counters> = {
  duckdb: zero(),
  postgres: zero(),
  parquet: zero(),
};
/** DuckDB's counters (the fault cases run on DuckDB only). */
export const totals = totalsByKind.duckdb;

/**
 * One line per destination that ran something: `chaos summary (duckdb): faults injected N, kills N,
 * runs N, rows compared N, rows lost N, rows duplicated N, S s`. DuckDB's time is the suite's time
 * minus the other destinations'.
 */
export function summaryLines(durationMs: number): string[] {
  const others = DESTINATION_KINDS.filter((k) => k !== 'duckdb').reduce(
    (ms, k) => ms + totalsByKind[k].ms,
    0,
  );
  return DESTINATION_KINDS.filter((k) => k === 'duckdb' || totalsByKind[k].runs > 0).map((kind) => {
    const t = totalsByKind[kind];
    const ms = kind === 'duckdb' ? Math.max(0, durationMs - others) : t.ms;
    return (
      `chaos summary (${kind}): faults injected ${t.faultsInjected}, kills ${t.kills}, runs ${t.runs}, ` +
      `rows compared ${t.rowsCompared}, rows lost ${t.rowsLost}, rows duplicated ${t.rowsDuplicated}, ` +
      `${(ms / 1000).toFixed(1)} s`
    );
  });
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
// Where a run's tables are: a DuckDB file (its schema is SCHEMA), or a schema on a PostgreSQL server.
// Two of them are compared inside one engine: DuckDB files attached read-only to an in-memory DuckDB
// (the WAL of a killed run is replayed in memory and left on disk for the next run to recover), or
// two schemas of one PostgreSQL server over one connection. The SQL below is the subset both speak.

export interface PgSchema {
  /** `postgres://user:password@host:port/db` (the password is never printed). */
  url: string;
  schema: string;
}
/** A Parquet dataset folder (its schema is SCHEMA), read through its committed manifests. */
export interface LakeStore {
  lake: string;
}
/** A DuckDB file path, a PostgreSQL schema, or a Parquet dataset folder. */
export type Store = string | PgSchema | LakeStore;

const isLake = (store: Store): store is LakeStore => typeof store !== 'string' && 'lake' in store;

export const storeKind = (store: Store): DestinationKind =>
  typeof store === 'string' ? 'duckdb' : isLake(store) ? 'parquet' : 'postgres';

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

type Side = 'e' | 'a';

/** Stores `e` (expected) and `a` (actual) seen from one engine. */
interface Pair {
  query: Query;
  /** The qualified name of a table of one side. */
  ref(side: Side, table: string): string;
  /** A table's columns, sorted; null when the table (or the whole store) does not exist. */
  columns(side: Side, table: string): Promise<string[] | null>;
}

async function withPair<T>(stores: Record<Side, Store>, body: (pair: Pair) => Promise<T>): Promise<T> {
  const { e, a } = stores;
  if (isLake(e) && isLake(a)) {
    // Each dataset's committed tables as views in an in-memory database of its own (e, a).
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`SET TimeZone = 'UTC'`);
      for (const [side, store] of [
        ['e', e],
        ['a', a],
      ] as const) {
        await connection.run(`ATTACH ':memory:' AS ${side}`);
        await createDatasetViews(connection, store.lake, SCHEMA, side);
      }
      const query: Query = async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Rows;
      return await body({
        query,
        ref: (side, table) => `${side}.${q(SCHEMA)}.${q(table)}`,
        async columns(side, table) {
          const rows = await query(
            `SELECT column_name AS c FROM information_schema.columns WHERE table_catalog = ${lit(side)}
               AND table_schema = ${lit(SCHEMA)} AND table_name = ${lit(table)} ORDER BY column_name`,
          );
          return rows.length === 0 ? null : rows.map((r) => String(r.c));
        },
      });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }
  if (isLake(e) || isLake(a))
    throw new Error('comparing a Parquet dataset with another kind is not supported');
  if (typeof e === 'string' && typeof a === 'string') {
    // A file killed before it was created has no tables: attach an empty in-memory database instead.
    const files = Object.fromEntries(Object.entries({ e, a }).filter(([, f]) => existsSync(f)));
    const missing = (['e', 'a'] as const).filter((side) => !(side in files));
    return withAttached(files, async (query) => {
      for (const side of missing) await query(`ATTACH ':memory:' AS ${side}`);
      return body({
        query,
        ref: (side, table) => `${side}.${q(SCHEMA)}.${q(table)}`,
        async columns(side, table) {
          const rows = await query(
            `SELECT column_name AS c FROM duckdb_columns() WHERE database_name = ${lit(side)}
               AND schema_name = ${lit(SCHEMA)} AND table_name = ${lit(table)} ORDER BY column_name`,
          );
          return rows.length === 0 ? null : rows.map((r) => String(r.c));
        },
      });
    });
  }
  if (typeof e !== 'string' && typeof a !== 'string') {
    if (e.url !== a.url) throw new Error('comparing PostgreSQL schemas: both must be on one server');
    const client = await connectPostgres(e.url);
    try {
      await client.query(`SET TimeZone = 'UTC'`);
      const query: Query = async (sql) => (await client.query(sql)).rows as Rows;
      const schemaOf = (side: Side) => (side === 'e' ? e.schema : a.schema);
      return await body({
        query,
        ref: (side, table) => `${q(schemaOf(side))}.${q(table)}`,
        async columns(side, table) {
          const rows = await query(
            `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ${lit(schemaOf(side))}
               AND table_name = ${lit(table)} ORDER BY column_name`,
          );
          return rows.length === 0 ? null : rows.map((r) => String(r.c));
        },
      });
    } finally {
      await client.end();
    }
  }
  throw new Error('comparing a DuckDB file with a PostgreSQL schema is not supported');
}

/** The data tables of a store (everything in the schema but the ingestion log). */
export async function dataTables(store: Store): Promise<string[]> {
  if (isLake(store)) {
    const { datasets } = await readSnapshot(store.lake, SCHEMA);
    return [...datasets.keys()].filter((t) => t !== LOG_TABLE).sort();
  }
  if (typeof store !== 'string') {
    const client = await connectPostgres(store.url);
    try {
      const { rows } = await client.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1
           AND table_type = 'BASE TABLE' AND table_name <> $2 ORDER BY table_name`,
        [store.schema, LOG_TABLE],
      );
      return rows.map((r) => r.t);
    } finally {
      await client.end();
    }
  }
  return withAttached({ d: store }, async (query) => {
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

async function diffInPair(
  pair: Pair,
  tables: readonly string[],
  options: { includeTime?: boolean; extraOnly?: boolean },
): Promise<TableDiff[]> {
  const { query } = pair;
  const out: TableDiff[] = [];
  for (const table of tables) {
    const keep = (c: string) => options.includeTime === true || c !== 'time';
    const ec = ((await pair.columns('e', table)) ?? []).filter(keep);
    const ac = ((await pair.columns('a', table)) ?? []).filter(keep);
    const all = [...new Set([...ec, ...ac])].sort();
    const columnMismatch = all.filter((c) => ec.includes(c) !== ac.includes(c));
    const select = (side: Side, have: string[]) =>
      have.length === 0
        ? `SELECT ${all.map(() => 'CAST(NULL AS VARCHAR)').join(', ') || 'CAST(NULL AS VARCHAR)'} WHERE false`
        : `SELECT ${all
            .map((c) => (have.includes(c) ? `CAST(${q(c)} AS VARCHAR)` : 'CAST(NULL AS VARCHAR)'))
            .join(', ')} FROM ${pair.ref(side, table)}`;
    const count = async (sql: string) =>
      Number((await query(`SELECT count(*) AS n FROM (${sql}) AS x`))[0]?.n);
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
}

/**
 * Compares tables as row multisets, every value as text, columns matched by name; `time` (the
 * load's start) is left out unless `includeTime`. A table missing on one side has no rows. Both
 * stores are of one kind (two DuckDB files, or two schemas of one PostgreSQL server).
 */
export async function diffTables(
  expected: Store,
  actual: Store,
  tables: readonly string[],
  options: {
    includeTime?: boolean /** Skip the `lost` count (left 0): only what `actual` has too much. */;
    extraOnly?: boolean;
  } = {},
): Promise<TableDiff[]> {
  return withPair({ e: expected, a: actual }, (pair) => diffInPair(pair, tables, options));
}

/** Sums a comparison into the counters of a destination (DuckDB's unless given). */
export function tally(diffs: readonly TableDiff[], counters: Counters = totals): void {
  for (const d of diffs) {
    counters.rowsCompared += d.expectedRows;
    counters.rowsLost += d.lost;
    counters.rowsDuplicated += d.extra;
  }
}

/** Tables equal the clean run's (without `time`); the store's destination counters are updated either way. */
export async function expectSameTables(
  cleanDb: Store,
  db: Store,
  tables: readonly string[],
  expectFn: (diffs: TableDiff[]) => void,
): Promise<TableDiff[]> {
  const diffs = await diffTables(cleanDb, db, tables);
  tally(diffs, totalsByKind[storeKind(db)]);
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
  cleanDb: Store,
  db: Store,
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
  // A store that does not exist yet (killed before the file or schema was created) has no tables.
  const diffs = await diffTables(cleanDb, db, [...windows.keys()], { extraOnly: true });
  await withPair({ e: cleanDb, a: db }, async ({ query, ref, columns: columnsOf }) => {
    const hasLog = (await columnsOf('a', LOG_TABLE)) !== null;
    for (const [table, field] of windows) {
      const columns = await columnsOf('a', table);
      const diff = diffs.find((d) => d.table === table);
      result.extraRows[table] = diff?.extra ?? 0;
      if (columns === null) {
        result.rows[table] = 0;
        result.duplicatePairs[table] = 0;
        result.gapsBelowMax[table] = 0;
        continue;
      }
      const t = ref('a', table);
      // A table created before its first commit has only the window column and `time`.
      const key = !columns.includes('id')
        ? 'CAST(NULL AS VARCHAR)'
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
             SELECT id, CAST(${q(field)} AS VARCHAR) FROM ${ref('e', table)}, m WHERE ${ts} < m.mx
             EXCEPT ALL SELECT id, CAST(${q(field)} AS VARCHAR) FROM ${t}) AS x`,
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
        `SELECT CAST(start_time AS VARCHAR) AS start_time, CAST(end_time AS VARCHAR) AS end_time,
                records_processed AS n FROM ${ref('a', LOG_TABLE)}
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
