/**
 * `npm run bench`: ours vs a baseline, measured in the same run, against the simulator (issue 6).
 *   1. rate-limit utilisation (latency 200 ms ±50, scaled-down real tiers): runner vs the official SDK
 *   2. events/s into DuckDB, CPU-bound (no latency, no limits, cached pages): runner vs a minimal loop
 *   3. peak RSS of scenario 2's run, and of uncached runs with 1x and 5x the events
 *   4. events/s into PostgreSQL, CPU-bound like 2: runner vs a minimal fetch + parse + COPY loop
 * Every measured run is a child process (`dist/bench/child.js`); the simulator lives in this one.
 * Scenario 4's server: KLAVIYO_INGEST_BENCH_POSTGRES_URL, else a throwaway cluster (startPostgres from
 * test/support/postgres-server.ts), stopped at the end; every run loads a schema of its own, dropped after.
 * `BENCH_SCALE=0.1` shrinks data and periods for a smoke run. Writes bench/results/latest.json.
 * Exits non-zero only when something fails to run, not when a target is missed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { GLIBC_MALLOC_TUNING, V8_HEAP_FLAGS, wantsTunedRelaunch } from '../src/cli/runtime-tuning.js';
import { DEFAULT_REVISION } from '../src/klaviyo/revisions.js';
import {
  DEMO_API_KEY,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../src/simulator/index.js';
import { formatFilterTime } from '../src/util/timestamps.js';
import { type PostgresServer, redactUrl, startPostgres } from '../test/support/postgres-server.js';
import type { ChildResult, MinimalArgs, MinimalPgArgs, OursArgs, SdkArgs } from './child.js';
import {
  benchScale,
  type EndpointLimits,
  formatTable,
  type TableRow,
  type UtilisationResult,
  utilisation,
} from './lib/metrics.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'child.js');
const RESULTS_DIR = path.resolve(here, '..', '..', 'bench', 'results');

const SEED = 6;
const NOW = Date.UTC(2026, 5, 1);
const DATA_START = Date.UTC(2026, 0, 1);
const END_ISO = new Date(NOW + 1000).toISOString();
/** A minute boundary the simulator's wall clock is moved to at the first request (scenario 1). */
const ALIGN = Date.UTC(2030, 0, 1);
const MB = 1024 * 1024;

const LIMITS: Record<string, EndpointLimits> = {
  events: { burst: 35, steady: 350 },
  profiles: { burst: 7, steady: 75 },
};

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface ChildRun {
  result: ChildResult | null;
  killed: boolean;
  wallMs: number;
}

/** What a child process starts with besides its script: environment variables and Node flags. */
interface ChildRuntime {
  env: Readonly<Record<string, string>>;
  nodeFlags: readonly string[];
}

const UNTUNED: ChildRuntime = { env: {}, nodeFlags: [] };

/**
 * The runtime the CLI gives an ingestion (src/cli/runtime-tuning.ts, where it applies it): every
 * measured child, ours and the baselines alike, starts with it, as `klaviyo-ingest run` would.
 */
const CLI_RUNTIME: ChildRuntime = wantsTunedRelaunch(['run'], process.env)
  ? { env: GLIBC_MALLOC_TUNING, nodeFlags: V8_HEAP_FLAGS }
  : UNTUNED;

const describeRuntime = (runtime: ChildRuntime) =>
  [...Object.entries(runtime.env).map(([name, value]) => `${name}=${value}`), ...runtime.nodeFlags].join(' ');

function runChild(
  task: string,
  args: unknown,
  options: { killAt?: () => number | null; runtime?: ChildRuntime } = {},
): Promise<ChildRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of every measured run there.
    const prof = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const runtime = options.runtime ?? CLI_RUNTIME;
    const child: ChildProcess = spawn(
      process.execPath,
      [...runtime.nodeFlags, ...prof, CHILD, task, JSON.stringify(args)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...runtime.env } },
    );
    let out = '';
    let killed = false;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[${task}] ${d.toString('utf8')}`));
    const timer = options.killAt
      ? setInterval(() => {
          const at = options.killAt?.() ?? null;
          if (at !== null && Date.now() >= at && !killed) {
            killed = true;
            child.kill('SIGKILL');
          }
        }, 20)
      : null;
    child.on('error', reject);
    child.on('exit', () => {
      if (timer) clearInterval(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      const result = line ? (JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult) : null;
      if (!result && !killed)
        reject(new Error(`${task} child exited without a result:\n${out.slice(-2000)}`));
      else resolve({ result, killed, wallMs: performance.now() - started });
    });
  });
}

function requireOk(run: ChildRun, what: string): ChildResult {
  const r = run.result;
  if (!r?.ok) throw new Error(`${what} failed: ${r?.error ?? 'no result'}`);
  return r;
}

// ---------------------------------------------------------------------------------------------------
// Scenario 1: rate-limit utilisation

interface Scenario1 {
  periodMs: number;
  events: number;
  profiles: number;
  ours: UtilisationResult;
  sdk: UtilisationResult;
}

async function scenario1(scale: number): Promise<Scenario1> {
  const periodMs = Math.max(5_000, Math.round(30_000 * scale));
  // Enough pages that neither contender runs out of data within the period.
  const secs = Math.ceil(periodMs / 1000);
  const eventPages = Math.min(LIMITS.events!.steady, LIMITS.events!.burst * secs);
  const profilePages = Math.min(LIMITS.profiles!.steady, LIMITS.profiles!.burst * secs);
  const events = Math.ceil(eventPages * 1.3 + 20) * 1000;
  const profiles = Math.ceil(profilePages * 1.3 + 10) * 100;
  const measure = async (task: 'ours' | 'sdk'): Promise<UtilisationResult> => {
    let offset: number | null = null;
    let armed = false;
    let firstRealMs: number | null = null;
    const sim = await startSimulator({
      seed: SEED,
      now: NOW,
      start: DATA_START,
      events,
      profiles,
      latencyMs: 150,
      jitterMs: 100,
      rateLimits: 'real',
      rateLimitOverrides: LIMITS as SimulatorOptions['rateLimitOverrides'],
      // Fixed limiter windows start at the first request, so "allowed" is exact for the period.
      wallClock: () => {
        const now = Date.now();
        if (!armed) return now;
        if (offset === null) {
          offset = ALIGN - now;
          firstRealMs = now;
        }
        return now + offset;
      },
    });
    try {
      armed = true;
      const args = taskArgs1(task, sim);
      const run = await runChild(task, args, {
        killAt: () => (firstRealMs === null ? null : firstRealMs + periodMs + 1500),
      });
      if (!run.killed) {
        const r = run.result;
        log(`scenario 1 ${task}: finished before the period ended (${r?.error ?? `${r?.pages} pages`})`);
      }
      const u = utilisation(sim.requestLog(), ALIGN, periodMs, LIMITS);
      if (process.env.BENCH_DUMP_LOG)
        writeFileSync(`${process.env.BENCH_DUMP_LOG}-${task}.json`, JSON.stringify(sim.requestLog()));
      log(
        `scenario 1 ${task}: served ${JSON.stringify(u.served)} of ${JSON.stringify(u.allowed)}, ${u.throttled} throttled`,
      );
      return u;
    } finally {
      await sim.close();
    }
  };
  const taskArgs1 = (task: 'ours' | 'sdk', sim: Simulator): OursArgs | SdkArgs => {
    if (task === 'ours') {
      return {
        baseUrl: sim.baseUrl,
        apiKey: DEMO_API_KEY,
        sources: ['events', 'profiles'],
        end: END_ISO,
        start: new Date(DATA_START - 86_400_000).toISOString(),
      };
    }
    return {
      baseUrl: sim.baseUrl,
      apiKey: DEMO_API_KEY,
      eventsFilter: `greater-or-equal(datetime,${formatFilterTime(DATA_START - 86_400_000)}),less-than(datetime,${formatFilterTime(NOW + 1000)})`,
      profilesFilter: `greater-than(updated,${formatFilterTime(DATA_START - 86_401_000)}),less-than(updated,${formatFilterTime(NOW + 1000)})`,
      eventsPageSize: 1000,
      profilesPageSize: 100,
    };
  };
  log(`scenario 1: ${events} events, ${profiles} profiles, period ${periodMs} ms`);
  const sdk = await measure('sdk');
  const ours = await measure('ours');
  return { periodMs, events, profiles, ours, sdk };
}

// ---------------------------------------------------------------------------------------------------
// Scenarios 2 and 3: rows/s CPU-bound, peak RSS

interface Measured {
  result: ChildResult;
  rowsPerSecond: number;
  cacheMisses: number;
  cacheHits: number;
}

async function measureRows(
  sim: Simulator,
  task: 'ours' | 'minimal' | 'minimal-pg',
  args: OursArgs | MinimalArgs | MinimalPgArgs,
  runtime?: ChildRuntime,
): Promise<Measured> {
  const before = sim.pageCacheStats();
  const result = requireOk(await runChild(task, args, runtime ? { runtime } : {}), `${task} run`);
  const after = sim.pageCacheStats();
  return {
    result,
    rowsPerSecond: result.rows / (result.ms / 1000),
    cacheMisses: after.misses - before.misses,
    cacheHits: after.hits - before.hits,
  };
}

function firstEventsUrl(sim: Simulator): string | null {
  const first = sim.requestLog().find((e) => e.endpoint === 'events' && !('page[cursor]' in e.query));
  if (!first) return null;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(first.query)) for (const x of [v].flat()) qs.append(k, x);
  return `${sim.baseUrl}${first.path}?${qs.toString()}`;
}

/** Scenario 2's event count (scenario 3 runs 5x it): the issue's 1,000,000; `BENCH_EVENTS` overrides. */
function baseEvents(): number {
  const raw = process.env.BENCH_EVENTS;
  const n = raw ? Number(raw) : 1_000_000;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_EVENTS must be a positive number, got '${raw}'`);
  return n;
}

/** Scenarios 2 and 3: no latency, no limits; `cachePages` makes serving a page cost almost nothing. */
function cpuBoundSimulator(events: number, cachePages: boolean): Promise<Simulator> {
  return startSimulator({
    seed: SEED,
    now: NOW,
    start: DATA_START,
    events,
    profiles: 5000,
    rateLimits: 'off',
    cachePages,
  });
}

/** The runner loading the events source up to the simulator's now. */
function oursEventsArgs(sim: Simulator): OursArgs {
  return { baseUrl: sim.baseUrl, apiKey: DEMO_API_KEY, sources: ['events'], end: END_ISO };
}

/** Where the minimal loops start: the runner's first events page (the cache holds its chain). */
function minimalFirstUrl(sim: Simulator): string {
  return (
    firstEventsUrl(sim) ??
    `${sim.baseUrl}/api/events?filter=${encodeURIComponent(`less-than(datetime,${formatFilterTime(NOW + 1000)})`)}&sort=datetime&page%5Bsize%5D=1000`
  );
}

interface Scenario2 {
  events: number;
  ours: Measured;
  minimal: Measured;
  oursRuns: number;
  minimalRuns: number;
}

async function scenario2(scale: number): Promise<Scenario2> {
  const events = Math.round(baseEvents() * scale);
  log(`scenario 2: ${events} events, no latency, no limits, cached pages`);
  const sim = await cpuBoundSimulator(events, true);
  try {
    const oursArgs = oursEventsArgs(sim);
    // Fill the cache with the pages the runner asks for; then the minimal loop follows the same chain.
    let ours = await measureRows(sim, 'ours', oursArgs);
    let oursRuns = 1;
    log(`scenario 2 ours (cold cache): ${ours.rowsPerSecond.toFixed(0)} rows/s, ${ours.result.rows} rows`);
    const firstUrl = minimalFirstUrl(sim);
    const minimalArgs: MinimalArgs = { firstUrl, apiKey: DEMO_API_KEY, revision: DEFAULT_REVISION };
    let minimal = await measureRows(sim, 'minimal', minimalArgs);
    let minimalRuns = 1;
    if (minimal.cacheMisses > 0) {
      log(`scenario 2 minimal: ${minimal.cacheMisses} cache misses, measuring again`);
      minimal = await measureRows(sim, 'minimal', minimalArgs);
      minimalRuns++;
    }
    log(`scenario 2 minimal: ${minimal.rowsPerSecond.toFixed(0)} rows/s, ${minimal.result.rows} rows`);
    ours = await measureRows(sim, 'ours', oursArgs);
    oursRuns++;
    log(
      `scenario 2 ours (warm cache): ${ours.rowsPerSecond.toFixed(0)} rows/s, ${ours.cacheMisses} misses, memory at peak ${JSON.stringify(ours.result.memoryAtPeakMB)}`,
    );
    return { events, ours, minimal, oursRuns, minimalRuns };
  } finally {
    await sim.close();
  }
}

interface Scenario3 {
  /** The same window size as scenario 2, served uncached like the large one (like for like). */
  small: { events: number; run: Measured };
  big: { events: number; run: Measured };
  /** 5x again without the CLI's runtime settings (null where the CLI does not apply them). */
  bigUntuned: { events: number; run: Measured } | null;
}

/**
 * Peak RSS at 1x and 5x the events, both from a simulator that builds every page (caching 5,000,000
 * events would take gigabytes in this process), so the two differ only in the window's size.
 */
async function scenario3(scale: number): Promise<Scenario3> {
  const measure = async (events: number, runtime?: ChildRuntime) => {
    log(
      `scenario 3: ${events} events (uncached: each page is built when asked for)${runtime ? ` started with "${describeRuntime(runtime)}", not the CLI's "${describeRuntime(CLI_RUNTIME)}"` : ''}`,
    );
    const sim = await cpuBoundSimulator(events, false);
    try {
      const run = await measureRows(sim, 'ours', oursEventsArgs(sim), runtime);
      log(
        `scenario 3 ours: ${run.result.rows} rows, ${run.rowsPerSecond.toFixed(0)} rows/s, peak RSS ${(peakRss(run.result) / MB).toFixed(0)} MB ${JSON.stringify(run.result.memoryAtPeakMB)}`,
      );
      return { events, run };
    } finally {
      await sim.close();
    }
  };
  const base = Math.round(baseEvents() * scale);
  const small = await measure(base);
  const big = await measure(5 * base);
  const bigUntuned = CLI_RUNTIME === UNTUNED ? null : await measure(5 * base, UNTUNED);
  return { small, big, bigUntuned };
}

// ---------------------------------------------------------------------------------------------------
// Scenario 4: rows/s into PostgreSQL

/** An existing server for scenario 4 (`postgres://user:password@host:port/db`); the bench leaves it running. */
const BENCH_POSTGRES_ENV = 'KLAVIYO_INGEST_BENCH_POSTGRES_URL';

/** Pages per COPY in the minimal loop (one COPY per page measured about as fast as one per 10 or 100). */
const MINIMAL_PG_PAGES_PER_COPY = 1;

interface Scenario4 {
  events: number;
  server: string;
  serverVersion: string;
  ours: Measured;
  minimal: Measured;
  oursRuns: number;
  minimalRuns: number;
  /** Rows found in the measured runs' tables before their schemas were dropped. */
  oursTableRows: number;
  minimalTableRows: number;
  /** CPU seconds the server spent on each measured run (null: a server not started here). */
  oursServerCpuMs: number | null;
  minimalServerCpuMs: number | null;
  /** CPU seconds the simulator's process spent during each measured run. */
  oursSimulatorCpuMs: number;
  minimalSimulatorCpuMs: number;
  /** Temp files (count, bytes) the server wrote during each measured run. */
  oursServerTemp: { files: number; bytes: number };
  minimalServerTemp: { files: number; bytes: number };
}

async function benchPostgres(): Promise<PostgresServer> {
  const url = process.env[BENCH_POSTGRES_ENV];
  if (url) {
    return {
      url,
      stop: async () => {},
      source: 'env',
      description: `${BENCH_POSTGRES_ENV} (${redactUrl(url)})`,
      startupMs: 0,
    };
  }
  // A throwaway cluster only: the tests' KLAVIYO_INGEST_TEST_POSTGRES_URL is not the bench's server.
  return startPostgres({ env: {} });
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let schemaCount = 0;
/** A schema name no other run uses: `ki_bench_<pid>_<time>_<n>`. */
function benchSchema(): string {
  return `ki_bench_${process.pid}_${Date.now().toString(36)}_${schemaCount++}`;
}

/**
 * CPU milliseconds the throwaway cluster has used so far: the postmaster's own and its reaped
 * children's (backends that exited), plus its live children's. Null for a server not started here.
 */
function serverCpuReader(server: PostgresServer): (() => number | null) | null {
  if (server.dir === undefined) return null;
  const pidFile = path.join(server.dir, 'data', 'postmaster.pid');
  let tick = 100;
  try {
    tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // assume 100 Hz
  }
  // Fields after the command (which may hold spaces): state ppid ... utime(14) stime(15) cutime(16) cstime(17).
  const stat = (pid: string) => {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  return () => {
    try {
      const postmaster = readFileSync(pidFile, 'utf8').split('\n')[0]!.trim();
      const own = stat(postmaster);
      let ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(own[i]), 0);
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid) || pid === postmaster) continue;
        try {
          const f = stat(pid);
          if (f[1] === postmaster) ticks += Number(f[11]) + Number(f[12]);
        } catch {
          // gone
        }
      }
      return (ticks * 1000) / tick;
    } catch {
      return null;
    }
  };
}

interface InSchema {
  run: Measured;
  /** Rows in `<schema>.<table>` after the run. */
  tableRows: number;
  /** Its columns, `name type`. */
  columns: string[];
  /** CPU ms the server used during the run (a throwaway cluster only). */
  serverCpuMs: number | null;
  /** Temp files the server wrote during the run (pg_stat_database: sorts, hashes and temp tables spilled). */
  serverTempFiles: number;
  serverTempBytes: number;
  /** CPU ms this process (the simulator: building pages on cache misses, serving) used during the run. */
  simulatorCpuMs: number;
}

/** Runs `measure` with a fresh schema name; reads `<schema>.<table>`'s row count and columns, then drops the schema. */
async function inFreshSchema(
  url: string,
  table: string,
  serverCpu: (() => number | null) | null,
  measure: (schema: string) => Promise<Measured>,
): Promise<InSchema> {
  const schema = benchSchema();
  try {
    const tempStats = () =>
      withClient(url, async (c) => {
        // pg_stat_database is updated when a backend reports; ask for a fresh snapshot.
        const r = await c.query<{ f: string; b: string }>(
          'SELECT temp_files::text AS f, temp_bytes::text AS b FROM pg_stat_database WHERE datname = current_database()',
        );
        return { files: Number(r.rows[0]?.f ?? 0), bytes: Number(r.rows[0]?.b ?? 0) };
      });
    const tempBefore = await tempStats();
    const cpuBefore = serverCpu?.() ?? null;
    const own = process.cpuUsage();
    const run = await measure(schema);
    const ownUsed = process.cpuUsage(own);
    const simulatorCpuMs = (ownUsed.user + ownUsed.system) / 1000;
    // The child's backends exit as it does; give the postmaster a moment to reap them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cpuAfter = serverCpu?.() ?? null;
    const serverCpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
    // The statistics collector reports with a delay (PG 15: at backend exit, within a second).
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const tempAfter = await tempStats();
    return await withClient(url, async (c) => {
      const count = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.${table}`);
      const columns = await c.query<{ c: string }>(
        `SELECT column_name || ' ' || data_type AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, table],
      );
      return {
        run,
        tableRows: Number(count.rows[0]?.n ?? 0),
        columns: columns.rows.map((r) => r.c),
        serverCpuMs,
        serverTempFiles: tempAfter.files - tempBefore.files,
        serverTempBytes: tempAfter.bytes - tempBefore.bytes,
        simulatorCpuMs,
      };
    });
  } finally {
    await withClient(url, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch((error) =>
      log(`scenario 4: could not drop schema ${schema}: ${error instanceof Error ? error.message : error}`),
    );
  }
}

async function scenario4(scale: number): Promise<Scenario4> {
  const events = Math.round(baseEvents() * scale);
  const server = await benchPostgres();
  try {
    const serverVersion = await withClient(server.url, async (c) =>
      String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v),
    );
    log(
      `scenario 4: ${events} events into PostgreSQL ${serverVersion} (${server.description}, ready in ${(server.startupMs / 1000).toFixed(1)} s), no latency, no limits, cached pages`,
    );
    const serverCpu = serverCpuReader(server);
    const sim = await cpuBoundSimulator(events, true);
    try {
      const oursArgs = (schema: string): OursArgs => ({
        ...oursEventsArgs(sim),
        postgres: { url: server.url, schema },
      });
      const oursRun = () =>
        inFreshSchema(server.url, 'klaviyo_events', serverCpu, (schema) =>
          measureRows(sim, 'ours', oursArgs(schema)),
        );
      // As in scenario 2: the first run fills the page cache, the minimal loop follows the same chain.
      let ours = await oursRun();
      let oursRuns = 1;
      log(
        `scenario 4 ours (cold cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s, ${ours.run.result.rows} rows, ${ours.tableRows} in the table (${ours.columns.join(', ')})`,
      );
      const minimalArgs = (schema: string): MinimalPgArgs => ({
        firstUrl: minimalFirstUrl(sim),
        apiKey: DEMO_API_KEY,
        revision: DEFAULT_REVISION,
        postgresUrl: server.url,
        schema,
        pagesPerCopy: Number(process.env.BENCH_PG_PAGES_PER_COPY ?? MINIMAL_PG_PAGES_PER_COPY),
      });
      const minimalRun = () =>
        inFreshSchema(server.url, 'events', serverCpu, (schema) =>
          measureRows(sim, 'minimal-pg', minimalArgs(schema)),
        );
      let minimal = await minimalRun();
      let minimalRuns = 1;
      if (minimal.run.cacheMisses > 0) {
        log(`scenario 4 minimal: ${minimal.run.cacheMisses} cache misses, measuring again`);
        minimal = await minimalRun();
        minimalRuns++;
      }
      log(
        `scenario 4 minimal: ${minimal.run.rowsPerSecond.toFixed(0)} rows/s, ${minimal.run.result.rows} rows, ${minimal.tableRows} in the table (${minimal.columns.join(', ')}), server cpu ${minimal.serverCpuMs === null ? '?' : (minimal.serverCpuMs / 1000).toFixed(1)} s, simulator cpu ${(minimal.simulatorCpuMs / 1000).toFixed(1)} s, server temp files ${minimal.serverTempFiles} (${(minimal.serverTempBytes / MB).toFixed(0)} MB)`,
      );
      ours = await oursRun();
      oursRuns++;
      // The runner splits the window by timing, so its pages' URLs differ from run to run and a page
      // not cached is built in this process, on the same cores. Measure once more if many were.
      if (ours.run.cacheMisses > 0.05 * (ours.run.cacheHits + ours.run.cacheMisses)) {
        log(
          `scenario 4 ours (warm cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s with ${ours.run.cacheMisses} cache misses (${ours.run.cacheHits} hits), measuring again`,
        );
        ours = await oursRun();
        oursRuns++;
      }
      log(
        `scenario 4 ours (warm cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s, ${ours.tableRows} in the table, ${ours.run.cacheMisses} misses, server cpu ${ours.serverCpuMs === null ? '?' : (ours.serverCpuMs / 1000).toFixed(1)} s, simulator cpu ${(ours.simulatorCpuMs / 1000).toFixed(1)} s, server temp files ${ours.serverTempFiles} (${(ours.serverTempBytes / MB).toFixed(0)} MB), peak RSS ${(peakRss(ours.run.result) / MB).toFixed(0)} MB, memory at peak ${JSON.stringify(ours.run.result.memoryAtPeakMB)}`,
      );
      return {
        events,
        server: server.description,
        serverVersion,
        ours: ours.run,
        minimal: minimal.run,
        oursRuns,
        minimalRuns,
        oursTableRows: ours.tableRows,
        minimalTableRows: minimal.tableRows,
        oursServerCpuMs: ours.serverCpuMs,
        minimalServerCpuMs: minimal.serverCpuMs,
        oursSimulatorCpuMs: ours.simulatorCpuMs,
        minimalSimulatorCpuMs: minimal.simulatorCpuMs,
        oursServerTemp: { files: ours.serverTempFiles, bytes: ours.serverTempBytes },
        minimalServerTemp: { files: minimal.serverTempFiles, bytes: minimal.serverTempBytes },
      };
    } finally {
      await sim.close();
    }
  } finally {
    await server.stop();
  }
}

function peakRss(r: ChildResult): number {
  return Math.max(r.rssPeakBytes, r.vmHwmBytes ?? 0);
}

// ---------------------------------------------------------------------------------------------------

function tableRows(
  s1: Scenario1 | null,
  s2: Scenario2 | null,
  s3: Scenario3 | null,
  s4: Scenario4 | null,
): TableRow[] {
  const rows: TableRow[] = [];
  if (s1) {
    const ratio = s1.sdk.totalServed === 0 ? null : s1.ours.totalServed / s1.sdk.totalServed;
    rows.push(
      {
        scenario: '1 rate limits',
        metric: 'utilisation (served/allowed)',
        ours: s1.ours.utilisation,
        baseline: s1.sdk.utilisation,
        ratio: s1.ours.utilisation,
        target: 'ours >= 0.90',
        pass: s1.ours.utilisation >= 0.9,
        note: `period ${s1.periodMs / 1000} s, allowed ${s1.ours.totalAllowed} (${JSON.stringify(s1.ours.allowed)}); ours served ${JSON.stringify(s1.ours.served)} with ${s1.ours.throttled} 429s, SDK ${JSON.stringify(s1.sdk.served)}`,
      },
      {
        scenario: '1 rate limits',
        metric: 'requests/s (SDK baseline)',
        ours: s1.ours.requestsPerSecond,
        baseline: s1.sdk.requestsPerSecond,
        ratio,
        target: 'ratio >= 5',
        pass: ratio === null ? null : ratio >= 5,
        note:
          s1.sdk.totalServed === 0
            ? 'the SDK served nothing'
            : `ceiling: the limits allow ${s1.ours.totalAllowed} requests in the period, ${(s1.ours.totalAllowed / s1.sdk.totalServed).toFixed(2)}x what the SDK served`,
      },
    );
  }
  if (s2) {
    const ratio = s2.ours.rowsPerSecond / s2.minimal.rowsPerSecond;
    const st = s2.minimal.result.stages;
    rows.push({
      scenario: '2 CPU-bound',
      metric: 'events/s into DuckDB',
      ours: s2.ours.rowsPerSecond,
      baseline: s2.minimal.rowsPerSecond,
      ratio,
      target: 'ratio >= 0.70',
      pass: ratio >= 0.7,
      note: `${s2.events} events; ours ${(s2.ours.result.ms / 1000).toFixed(1)} s (cpu ${((s2.ours.result.cpuUserMs + s2.ours.result.cpuSystemMs) / 1000).toFixed(1)} s, cache ${s2.ours.cacheHits} hits/${s2.ours.cacheMisses} misses), minimal ${(s2.minimal.result.ms / 1000).toFixed(1)} s (cpu ${((s2.minimal.result.cpuUserMs + s2.minimal.result.cpuSystemMs) / 1000).toFixed(1)} s${st ? `, fetch ${(st.fetchMs! / 1000).toFixed(1)} s, parse ${(st.parseMs! / 1000).toFixed(1)} s, append ${(st.appendMs! / 1000).toFixed(1)} s` : ''})`,
    });
  }
  if (s2 || s3) {
    const limit = 300 * MB;
    if (s2) {
      const ours = peakRss(s2.ours.result);
      rows.push({
        scenario: '3 memory',
        metric: `peak RSS MB, ${s2.events} events`,
        ours: ours / MB,
        baseline: peakRss(s2.minimal.result) / MB,
        ratio: ours / limit,
        target: '<= 300 MB (ratio = of 300)',
        pass: ours <= limit,
        note: "scenario 2's run; baseline column = the minimal loop's (its DuckDB has no memory limit)",
      });
    }
    if (s3) {
      const small = peakRss(s3.small.run.result);
      for (const { events, run } of [s3.small, s3.big]) {
        const peak = peakRss(run.result);
        rows.push({
          scenario: '3 memory',
          metric: `peak RSS MB, ${events} events, uncached`,
          ours: peak / MB,
          baseline: small / MB,
          ratio: peak / limit,
          target: '<= 300 MB (ratio = of 300)',
          pass: peak <= limit,
          note: `baseline column = ours at 1x uncached; ${run.rowsPerSecond.toFixed(0)} rows/s; RSS over the run: median ${(run.result.rssP50Bytes / MB).toFixed(0)} MB, p95 ${(run.result.rssP95Bytes / MB).toFixed(0)} MB; peak ${(((peak - small) / small) * 100).toFixed(0)}% above 1x`,
        });
      }
      if (s3.bigUntuned) {
        const { events, run } = s3.bigUntuned;
        const peak = peakRss(run.result);
        const tuning = describeRuntime(CLI_RUNTIME);
        rows.push({
          scenario: '3 memory',
          metric: `peak RSS MB, ${events} events, uncached, without the CLI's runtime settings`,
          ours: peak / MB,
          baseline: peakRss(s3.big.run.result) / MB,
          ratio: peak / limit,
          target: 'information (KLAVIYO_INGEST_RUNTIME_TUNING=off)',
          pass: null,
          note: `started without ${tuning}; baseline column = the same run with them (as measured above); ${run.rowsPerSecond.toFixed(0)} rows/s; RSS median ${(run.result.rssP50Bytes / MB).toFixed(0)} MB, p95 ${(run.result.rssP95Bytes / MB).toFixed(0)} MB`,
        });
      }
    }
  }
  if (s4) {
    const ratio = s4.ours.rowsPerSecond / s4.minimal.rowsPerSecond;
    const st = s4.minimal.result.stages;
    const cpu = (r: ChildResult, server: number | null, simulator: number) =>
      `${((r.cpuUserMs + r.cpuSystemMs) / 1000).toFixed(1)} s${server === null ? '' : ` + server ${(server / 1000).toFixed(1)} s`} + simulator ${(simulator / 1000).toFixed(1)} s`;
    const ours = peakRss(s4.ours.result);
    rows.push(
      {
        scenario: '4 PostgreSQL',
        metric: 'events/s into PostgreSQL',
        ours: s4.ours.rowsPerSecond,
        baseline: s4.minimal.rowsPerSecond,
        ratio,
        target: 'ratio >= 0.70',
        pass: ratio >= 0.7,
        note: `${s4.events} events, PostgreSQL ${s4.serverVersion}; ours ${(s4.ours.result.ms / 1000).toFixed(1)} s (cpu ${cpu(s4.ours.result, s4.oursServerCpuMs, s4.oursSimulatorCpuMs)}, cache ${s4.ours.cacheHits} hits/${s4.ours.cacheMisses} misses), minimal ${(s4.minimal.result.ms / 1000).toFixed(1)} s (cpu ${cpu(s4.minimal.result, s4.minimalServerCpuMs, s4.minimalSimulatorCpuMs)}${st ? `, fetch ${(st.fetchMs! / 1000).toFixed(1)} s, parse ${(st.parseMs! / 1000).toFixed(1)} s, flatten + COPY ${(st.copyMs! / 1000).toFixed(1)} s` : ''}); rows in the tables: ours ${s4.oursTableRows}, minimal ${s4.minimalTableRows}`,
      },
      {
        scenario: '4 PostgreSQL',
        metric: `peak RSS MB, ${s4.events} events`,
        ours: ours / MB,
        baseline: peakRss(s4.minimal.result) / MB,
        ratio: ours / (300 * MB),
        target: '<= 300 MB (ratio = of 300)',
        pass: ours <= 300 * MB,
        note: "the client process only (not the server); baseline column = the minimal loop's",
      },
    );
  }
  return rows;
}

const ALL_SCENARIOS = ['1', '2', '3', '4'];

async function main(): Promise<void> {
  const scale = benchScale(process.env);
  const only = (process.env.BENCH_ONLY ?? ALL_SCENARIOS.join(',')).split(',');
  const started = Date.now();
  log(
    `scale ${scale}, node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  const s1 = only.includes('1') ? await scenario1(scale) : null;
  const s2 = only.includes('2') ? await scenario2(scale) : null;
  const s3 = only.includes('3') ? await scenario3(scale) : null;
  const s4 = only.includes('4') ? await scenario4(scale) : null;
  const rows = tableRows(s1, s2, s3, s4);
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // Only a full run at full size replaces latest.json; others are kept beside it, untracked.
  const full = scale === 1 && ALL_SCENARIOS.every((s) => only.includes(s)) && !process.env.BENCH_EVENTS;
  const file = path.join(
    RESULTS_DIR,
    full ? 'latest.json' : `scale-${scale}-only-${only.join('')}-events-${baseEvents()}.json.tmp`,
  );
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        scale,
        node: process.version,
        cpus: os.cpus().length,
        loadAverage: os.loadavg(),
        totalSeconds: (Date.now() - started) / 1000,
        table: rows,
        scenario1: s1,
        scenario2: s2,
        scenario3: s3,
        scenario4: s4,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
