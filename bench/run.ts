/**
 * `npm run bench`: what users wait for, ours vs a baseline measured in the same run (issues 6, 14).
 *   1. rate-limited backfill (events; the per-minute budget binds): records/s as a share of what the
 *      limits allow for that many full pages, requests per full page, 429s, with and without the
 *      RateLimit headers; vs the official SDK's sequential loop
 *   2. latency-bound backfill (no limits, 200-500 ms answers): records/s vs the SDK's loop
 *   3. CPU-bound (no latency, no limits, cached pages): events per CPU-second of the engine process
 *      vs a minimal fetch + parse + append loop
 *   4. profiles under their own (L) tier, pages of 100: as 1
 *   5. peak RSS at 1x (scenario 3's run) and 5x the events
 *   6. (BENCH_ONLY=6 only) events/s into PostgreSQL, CPU-bound like 3, vs a minimal COPY loop
 * Every measured run is a child process (`dist/bench/child.js`); the simulators live in this one.
 * Scenarios 1, 2 and 4 run at once, and so do their contenders, each with a key of its own on its
 * scenario's simulator: the API paces them, not the CPU. Scenario 6's server: KLAVIYO_INGEST_BENCH_POSTGRES_URL, else a throwaway
 * cluster (startPostgres from test/support/postgres-server.ts), stopped at the end; every run loads a
 * schema of its own, dropped after.
 * `BENCH_SCALE=0.1` shrinks data for a smoke run; `BENCH_EVENTS` sets scenario 3's events (default
 * 1,000,000); `BENCH_UNTUNED=1` adds scenario 5's run without the CLI's runtime settings.
 * Writes bench/results/latest.json. Exits non-zero only when something fails to run, not when a
 * target is missed. */
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
  type BackfillMeasure,
  backfillMeasure,
  benchScale,
  type EndpointLimits,
  formatTable,
  type TableRow,
} from './lib/metrics.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'child.js');
const RESULTS_DIR = path.resolve(here, '..', '..', 'bench', 'results');

const SEED = 6;
const NOW = Date.UTC(2026, 5, 1);
const DATA_START = Date.UTC(2026, 0, 1);
const END_ISO = new Date(NOW + 1000).toISOString();
/** A minute boundary the simulator's wall clock is moved to at the first request (scenario 1). */
const MB = 1024 * 1024;

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
// Scenarios 1, 2 and 4: backfills the API paces (rate limits, latency), ours vs the SDK's loop

type BackfillSource = 'events' | 'profiles';

interface BackfillSetup {
  source: BackfillSource;
  /** Records in the window: a whole number of full pages. */
  records: number;
  /** Simulator limits for the source's endpoint; null: none. */
  limits: EndpointLimits | null;
  latencyMs: number;
  jitterMs: number;
}

interface BackfillRun {
  contender: string;
  headers: boolean;
  measure: BackfillMeasure;
  result: ChildResult | null;
}

const PAGE_SIZE: Record<BackfillSource, number> = { events: 1000, profiles: 100 };

/** Each contender's key ends differently: the request log shows only a key's last four characters. */
const contenderKey = (i: number) => `pk_bench_contender_0000000000000${i}00${i}`;
const WARM_KEY = 'pk_bench_warm_up_00000000000000000warm';

/** Contender `i`'s backfill against the scenario's simulator, with its own key and rate-limit windows. */
async function backfill(
  sim: Simulator,
  setup: BackfillSetup,
  contender: { task: 'ours' | 'sdk'; headers: boolean },
  i: number,
): Promise<BackfillRun> {
  const { task, headers } = contender;
  const name = task === 'sdk' ? 'SDK loop' : headers ? 'ours' : 'ours, no RateLimit headers';
  const apiKey = contenderKey(i);
  const args: OursArgs | SdkArgs =
    task === 'ours'
      ? {
          baseUrl: sim.baseUrl,
          apiKey,
          sources: [setup.source],
          end: END_ISO,
          start: new Date(DATA_START - 86_400_000).toISOString(),
        }
      : {
          baseUrl: sim.baseUrl,
          apiKey,
          ...(setup.source === 'events'
            ? {
                eventsFilter: `greater-or-equal(datetime,${formatFilterTime(DATA_START - 86_400_000)}),less-than(datetime,${formatFilterTime(NOW + 1000)})`,
              }
            : {
                profilesFilter: `greater-than(updated,${formatFilterTime(DATA_START - 86_401_000)}),less-than(updated,${formatFilterTime(NOW + 1000)})`,
              }),
          eventsPageSize: PAGE_SIZE.events,
          profilesPageSize: PAGE_SIZE.profiles,
        };
  const started = Date.now();
  const run = await runChild(task, args, { killAt: () => started + BACKFILL_TIMEOUT_MS });
  const result = run.result;
  if (!result?.ok) log(`${setup.source} backfill ${name}: ${result?.error ?? 'killed'}`);
  const suffix = apiKey.slice(-4);
  const measure = backfillMeasure(
    sim.requestLog().filter((e) => e.apiKey?.endsWith(suffix)),
    setup.source,
    result?.rows ?? 0,
    PAGE_SIZE[setup.source],
    setup.limits ?? { burst: Number.MAX_SAFE_INTEGER, steady: Number.MAX_SAFE_INTEGER },
    setup.latencyMs + setup.jitterMs / 2,
  );
  log(
    `${setup.source} backfill ${name}: ${measure.records} records in ${(measure.elapsedMs / 1000).toFixed(1)} s, ${measure.requests} requests for ${measure.fullPages} pages, ${measure.throttled} 429s, ${measure.ofBound.toFixed(2)} of the bound (${(measure.boundMs / 1000).toFixed(1)} s)`,
  );
  return { contender: name, headers, measure, result };
}

/** Reads every page of the source once with the unlimited key, so the contenders' pages are cheap to serve. */
async function warmPageCache(sim: Simulator, source: BackfillSource): Promise<void> {
  const started = performance.now();
  const query = `sort=${source === 'events' ? 'datetime' : 'updated'}&page%5Bsize%5D=${PAGE_SIZE[source]}`;
  let url: string | null = `${sim.baseUrl}/api/${source}?${query}`;
  let pages = 0;
  while (url) {
    const response: Response = await fetch(url, {
      headers: { authorization: `Klaviyo-API-Key ${WARM_KEY}`, revision: DEFAULT_REVISION },
    });
    if (!response.ok) throw new Error(`warming the page cache: ${response.status} from ${url}`);
    const doc = (await response.json()) as { links?: { next?: string | null } };
    url = doc.links?.next ?? null;
    pages++;
  }
  log(
    `${source}: page cache warmed with ${pages} pages in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** A backfill that never finishes is stopped (and reported) after this long. */
const BACKFILL_TIMEOUT_MS = 4 * 60_000;

interface BackfillScenario {
  setup: BackfillSetup;
  runs: BackfillRun[];
}

/** A backfill scenario whose simulator is up and warmed: `run` measures its contenders at once. */
interface PreparedBackfill {
  run(): Promise<BackfillScenario>;
}

/**
 * Contenders run at once against one simulator, each with its own key, so with rate-limit windows
 * and request log of its own (windows start at its first request, as the bound assumes): the API
 * paces them, not the CPU. The simulator serves from its page cache, warmed before anything is
 * measured, so that scenarios 1, 2 and 4 can run at the same time.
 */
async function prepareBackfill(
  setup: BackfillSetup,
  contenders: readonly { task: 'ours' | 'sdk'; headers: boolean }[],
): Promise<PreparedBackfill> {
  const keys = contenders.map((_, i) => contenderKey(i));
  const sim = await startSimulator({
    seed: SEED,
    now: NOW,
    start: DATA_START,
    events: setup.source === 'events' ? setup.records : 1000,
    profiles: setup.source === 'profiles' ? setup.records : 100,
    apiKeys: [...keys, WARM_KEY],
    unlimitedKeys: [WARM_KEY],
    latencyMs: setup.latencyMs,
    jitterMs: setup.jitterMs,
    rateLimits: setup.limits ? 'real' : 'off',
    ...(setup.limits
      ? { rateLimitOverrides: { [setup.source]: setup.limits } as SimulatorOptions['rateLimitOverrides'] }
      : {}),
    rateLimitWindows: 'first-request',
    rateLimitHeaders: (key) => contenders[keys.indexOf(key)]?.headers ?? true,
    cachePages: true,
  });
  try {
    await warmPageCache(sim, setup.source);
  } catch (error) {
    await sim.close();
    throw error;
  }
  return {
    run: async () => {
      try {
        sim.clearLog();
        const runs = await Promise.all(contenders.map((c, i) => backfill(sim, setup, c, i)));
        if (process.env.BENCH_DUMP_LOG)
          writeFileSync(
            `${process.env.BENCH_DUMP_LOG}-${setup.source}-${setup.limits ? 'limited' : 'unlimited'}.json`,
            JSON.stringify(sim.requestLog()),
          );
        return { setup, runs };
      } finally {
        await sim.close();
      }
    },
  };
}

/**
 * Scenario 1: the per-minute budget binds. 200 full pages of events at 10/s and 150/min (Klaviyo's
 * XL tier is 350/s, 3500/min: scaled down so the scenario takes about a minute), 400-600 ms per
 * answer of 1,000 events: the limits allow 150 pages in the first minute and the rest right after it
 * resets. The SDK's sequential loop is latency-bound, below the budget.
 */
function scenario1(scale: number): Promise<PreparedBackfill> {
  const pages = Math.max(40, Math.round(200 * scale));
  return prepareBackfill(
    {
      source: 'events',
      records: pages * PAGE_SIZE.events,
      limits: { burst: 10, steady: Math.round(pages * 0.75) },
      latencyMs: 400,
      jitterMs: 200,
    },
    [
      { task: 'ours', headers: true },
      { task: 'ours', headers: false },
      { task: 'sdk', headers: true },
    ],
  );
}

/** Scenario 2: nothing throttles, answers take 200-500 ms: latency binds. */
function scenario2(scale: number): Promise<PreparedBackfill> {
  const pages = Math.max(10, Math.round(60 * scale));
  return prepareBackfill(
    { source: 'events', records: pages * PAGE_SIZE.events, limits: null, latencyMs: 200, jitterMs: 300 },
    [
      { task: 'ours', headers: true },
      { task: 'sdk', headers: true },
    ],
  );
}

/**
 * Scenario 4: profiles, the slowest stream in practice: the L tier (75/s, 750/min) scaled down to
 * 15/s and 150/min, pages of 100, only greater-than/less-than on `updated`, 300-500 ms per answer;
 * 200 full pages.
 */
function scenario4(scale: number): Promise<PreparedBackfill> {
  const pages = Math.max(20, Math.round(200 * scale));
  return prepareBackfill(
    {
      source: 'profiles',
      records: pages * PAGE_SIZE.profiles,
      limits: { burst: 15, steady: Math.round(pages * 0.75) },
      latencyMs: 300,
      jitterMs: 200,
    },
    [
      { task: 'ours', headers: true },
      { task: 'ours', headers: false },
      { task: 'sdk', headers: true },
    ],
  );
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

interface ScenarioCpu {
  events: number;
  /** The run of ours with the median CPU per event among `oursSamples`. */
  ours: Measured;
  /** Runs of ours, the one that filled the cache included. */
  oursRuns: number;
  minimal: Measured;
  minimalRuns: number;
  /** CPU µs per event of each measured run, in the order they ran (ours and minimal alternate). */
  oursSamples: number[];
  minimalSamples: number[];
  /** The highest peak RSS among the measured runs of ours (scenario 5's figure at 1x). */
  oursPeakRss: Measured;
}

/** Measured runs of each contender in scenario 3 (`BENCH_CPU_ROUNDS`, default 3). */
function cpuRounds(): number {
  const rounds = Number(process.env.BENCH_CPU_ROUNDS ?? 3);
  return Number.isInteger(rounds) && rounds >= 1 ? rounds : 3;
}

/** The run with the median CPU per row (the lower middle one of an even count). */
function medianByCpu(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => cpuMicrosPerRow(a.result) - cpuMicrosPerRow(b.result));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** CPU µs the measured process spent per row. */
function cpuMicrosPerRow(r: ChildResult): number {
  return r.rows === 0 ? 0 : ((r.cpuUserMs + r.cpuSystemMs) * 1000) / r.rows;
}

/**
 * Scenario 3: nothing throttles and answers come at once from the simulator's page cache (in this
 * process; the engine runs in its own): the engine's CPU binds. Measured as the engine process's
 * user + system CPU per event, which the noise of other processes on the machine barely moves.
 */
async function scenarioCpu(scale: number): Promise<ScenarioCpu> {
  const events = Math.round(baseEvents() * scale);
  log(`scenario 3: ${events} events, no latency, no limits, cached pages`);
  const sim = await cpuBoundSimulator(events, true);
  try {
    const oursArgs = oursEventsArgs(sim);
    const firstUrl = minimalFirstUrl(sim);
    const minimalArgs: MinimalArgs = { firstUrl, apiKey: DEMO_API_KEY, revision: DEFAULT_REVISION };
    // The first run fills the cache with the pages the runner asks for (the simulator builds them on
    // the other core meanwhile); measured runs are served from the cache, as the minimal loop's are,
    // which follows the same chain. The machines are noisy (another tenant can take a third of a core
    // for a minute), so ours and the minimal loop run in turn and each reports its median run.
    const rounds = cpuRounds();
    // Ours cuts the window by timing, so a run can ask for pages the cache does not hold yet: its runs
    // count once the cache serves 95% of them, and all do after this many that did not.
    const warmUpRuns = 6;
    const oursRunsMeasured: Measured[] = [];
    const minimalRunsMeasured: Measured[] = [];
    let oursRuns = 0;
    let minimalRuns = 0;
    while (oursRunsMeasured.length < rounds || minimalRunsMeasured.length < rounds) {
      if (oursRunsMeasured.length < rounds) {
        const run = await measureRows(sim, 'ours', oursArgs);
        oursRuns++;
        const cpu = cpuMicrosPerRow(run.result).toFixed(1);
        const warm = run.cacheMisses <= 0.05 * (run.cacheHits + run.cacheMisses);
        if (!warm && oursRuns <= warmUpRuns) {
          log(
            `scenario 3 ours: ${cpu} µs CPU/row with ${run.cacheMisses} cache misses (${run.cacheHits} hits), not counted`,
          );
        } else {
          oursRunsMeasured.push(run);
          log(
            `scenario 3 ours: ${run.rowsPerSecond.toFixed(0)} rows/s, ${run.result.rows} rows, ${cpu} µs CPU/row, memory at peak ${JSON.stringify(run.result.memoryAtPeakMB)}`,
          );
        }
      }
      if (minimalRunsMeasured.length < rounds) {
        const run = await measureRows(sim, 'minimal', minimalArgs);
        minimalRuns++;
        const cpu = cpuMicrosPerRow(run.result).toFixed(1);
        // Its chain is the same every run: only a first run can find pages missing.
        if (run.cacheMisses > 0 && minimalRuns === 1) {
          log(`scenario 3 minimal: ${cpu} µs CPU/row with ${run.cacheMisses} cache misses, not counted`);
        } else {
          minimalRunsMeasured.push(run);
          log(
            `scenario 3 minimal: ${run.rowsPerSecond.toFixed(0)} rows/s, ${run.result.rows} rows, ${cpu} µs CPU/row`,
          );
        }
      }
    }
    const ours = medianByCpu(oursRunsMeasured);
    const minimal = medianByCpu(minimalRunsMeasured);
    const oursPeakRss = oursRunsMeasured.reduce((a, b) => (peakRss(b.result) > peakRss(a.result) ? b : a));
    const samples = (runs: Measured[]) => runs.map((run) => Number(cpuMicrosPerRow(run.result).toFixed(1)));
    return {
      events,
      ours,
      oursRuns,
      minimal,
      minimalRuns,
      oursSamples: samples(oursRunsMeasured),
      minimalSamples: samples(minimalRunsMeasured),
      oursPeakRss,
    };
  } finally {
    await sim.close();
  }
}

interface ScenarioMem {
  /** 5x scenario 3's window, from a simulator that builds every page. */
  big: { events: number; run: Measured };
  /** 5x again without the CLI's runtime settings (BENCH_UNTUNED=1 only). */
  bigUntuned: { events: number; run: Measured } | null;
}

/**
 * Scenario 5: peak RSS at 1x (scenario 3's run) and 5x the events. The large run's simulator builds
 * every page (caching 5,000,000 events would take gigabytes in this process).
 */
async function scenarioMem(scale: number): Promise<ScenarioMem> {
  const measure = async (events: number, runtime?: ChildRuntime) => {
    log(
      `scenario 5: ${events} events (uncached: each page is built when asked for)${runtime ? ` started with "${describeRuntime(runtime)}", not the CLI's "${describeRuntime(CLI_RUNTIME)}"` : ''}`,
    );
    const sim = await cpuBoundSimulator(events, false);
    try {
      const run = await measureRows(sim, 'ours', oursEventsArgs(sim), runtime);
      log(
        `scenario 5 ours: ${run.result.rows} rows, ${run.rowsPerSecond.toFixed(0)} rows/s, ${cpuMicrosPerRow(run.result).toFixed(1)} µs CPU/row, peak RSS ${(peakRss(run.result) / MB).toFixed(0)} MB ${JSON.stringify(run.result.memoryAtPeakMB)}`,
      );
      return { events, run };
    } finally {
      await sim.close();
    }
  };
  const base = Math.round(baseEvents() * scale);
  const big = await measure(5 * base);
  const bigUntuned =
    CLI_RUNTIME === UNTUNED || !process.env.BENCH_UNTUNED ? null : await measure(5 * base, UNTUNED);
  return { big, bigUntuned };
}

// ---------------------------------------------------------------------------------------------------
// Scenario 6 (BENCH_ONLY=6): rows/s into PostgreSQL

/** An existing server for scenario 6 (`postgres://user:password@host:port/db`); the bench leaves it running. */
const BENCH_POSTGRES_ENV = 'KLAVIYO_INGEST_BENCH_POSTGRES_URL';

/** Pages per COPY in the minimal loop (one COPY per page measured about as fast as one per 10 or 100). */
const MINIMAL_PG_PAGES_PER_COPY = 1;

interface ScenarioPg {
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
      log(`scenario 6: could not drop schema ${schema}: ${error instanceof Error ? error.message : error}`),
    );
  }
}

async function scenarioPg(scale: number): Promise<ScenarioPg> {
  const events = Math.round(baseEvents() * scale);
  const server = await benchPostgres();
  try {
    const serverVersion = await withClient(server.url, async (c) =>
      String((await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v),
    );
    log(
      `scenario 6: ${events} events into PostgreSQL ${serverVersion} (${server.description}, ready in ${(server.startupMs / 1000).toFixed(1)} s), no latency, no limits, cached pages`,
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
        `scenario 6 ours (cold cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s, ${ours.run.result.rows} rows, ${ours.tableRows} in the table (${ours.columns.join(', ')})`,
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
        log(`scenario 6 minimal: ${minimal.run.cacheMisses} cache misses, measuring again`);
        minimal = await minimalRun();
        minimalRuns++;
      }
      log(
        `scenario 6 minimal: ${minimal.run.rowsPerSecond.toFixed(0)} rows/s, ${minimal.run.result.rows} rows, ${minimal.tableRows} in the table (${minimal.columns.join(', ')}), server cpu ${minimal.serverCpuMs === null ? '?' : (minimal.serverCpuMs / 1000).toFixed(1)} s, simulator cpu ${(minimal.simulatorCpuMs / 1000).toFixed(1)} s, server temp files ${minimal.serverTempFiles} (${(minimal.serverTempBytes / MB).toFixed(0)} MB)`,
      );
      ours = await oursRun();
      oursRuns++;
      // The runner splits the window by timing, so its pages' URLs differ from run to run and a page
      // not cached is built in this process, on the same cores. Measure once more if many were.
      if (ours.run.cacheMisses > 0.05 * (ours.run.cacheHits + ours.run.cacheMisses)) {
        log(
          `scenario 6 ours (warm cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s with ${ours.run.cacheMisses} cache misses (${ours.run.cacheHits} hits), measuring again`,
        );
        ours = await oursRun();
        oursRuns++;
      }
      log(
        `scenario 6 ours (warm cache): ${ours.run.rowsPerSecond.toFixed(0)} rows/s, ${ours.tableRows} in the table, ${ours.run.cacheMisses} misses, server cpu ${ours.serverCpuMs === null ? '?' : (ours.serverCpuMs / 1000).toFixed(1)} s, simulator cpu ${(ours.simulatorCpuMs / 1000).toFixed(1)} s, server temp files ${ours.serverTempFiles} (${(ours.serverTempBytes / MB).toFixed(0)} MB), peak RSS ${(peakRss(ours.run.result) / MB).toFixed(0)} MB, memory at peak ${JSON.stringify(ours.run.result.memoryAtPeakMB)}`,
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

function backfillRows(name: string, sc: BackfillScenario): TableRow[] {
  const sdk = sc.runs.find((r) => r.contender === 'SDK loop');
  const limited = sc.setup.limits !== null;
  const rows: TableRow[] = [];
  const setup = `${sc.setup.records} ${sc.setup.source}, ${limited ? `${sc.setup.limits?.burst}/s ${sc.setup.limits?.steady}/min, ` : 'no limits, '}latency ${sc.setup.latencyMs}-${sc.setup.latencyMs + sc.setup.jitterMs} ms`;
  for (const run of sc.runs.filter((r) => r !== sdk)) {
    const m = run.measure;
    const vsSdk =
      sdk && sdk.measure.recordsPerSecond > 0 ? m.recordsPerSecond / sdk.measure.recordsPerSecond : null;
    const complete = run.result?.ok === true;
    const detail = `${setup}; ${m.records} records in ${(m.elapsedMs / 1000).toFixed(1)} s, ${m.requests} requests for ${m.fullPages} pages, ${m.throttled} 429s; bound ${(m.boundMs / 1000).toFixed(1)} s; SDK ${sdk ? `${(sdk.measure.elapsedMs / 1000).toFixed(1)} s, ${sdk.measure.requests} requests, ${sdk.measure.throttled} 429s, ${sdk.measure.ofBound.toFixed(2)} of the bound` : '-'}`;
    rows.push({
      scenario: name,
      metric: `records/s, ${run.contender} (SDK baseline)`,
      ours: m.recordsPerSecond,
      baseline: sdk?.measure.recordsPerSecond ?? null,
      ratio: vsSdk,
      target: 'ratio > 1',
      pass: complete && vsSdk !== null && vsSdk > 1,
      note: detail,
    });
    if (limited) {
      const minOfBound = run.headers ? 0.9 : 0.8;
      const maxThrottled = run.headers ? 0 : Math.floor(0.02 * m.fullPages);
      rows.push(
        {
          scenario: name,
          metric: `of the bound the limits allow, ${run.contender}`,
          ours: m.ofBound,
          baseline: sdk?.measure.ofBound ?? null,
          ratio: m.ofBound,
          target: `ours >= ${minOfBound.toFixed(2)}`,
          pass: complete && m.ofBound >= minOfBound,
        },
        {
          scenario: name,
          metric: `requests per full page, ${run.contender}`,
          ours: m.requestsPerPage,
          baseline: sdk?.measure.requestsPerPage ?? null,
          ratio: m.requestsPerPage,
          target: 'ours <= 1.05',
          pass: complete && m.requestsPerPage <= 1.05,
        },
        {
          scenario: name,
          metric: `429s, ${run.contender}`,
          ours: m.throttled,
          baseline: sdk?.measure.throttled ?? null,
          ratio: m.fullPages === 0 ? null : m.throttled / m.fullPages,
          target: run.headers ? 'ours = 0' : 'ours <= 2% of pages',
          pass: complete && m.throttled <= maxThrottled,
        },
      );
    }
  }
  return rows;
}

function tableRows(
  s1: BackfillScenario | null,
  s2: BackfillScenario | null,
  s3: ScenarioCpu | null,
  s4: BackfillScenario | null,
  s5: ScenarioMem | null,
  s6: ScenarioPg | null,
): TableRow[] {
  const rows: TableRow[] = [];
  if (s1) rows.push(...backfillRows('1 rate-limited', s1));
  if (s2) rows.push(...backfillRows('2 latency-bound', s2));
  if (s3) {
    const oursCpu = cpuMicrosPerRow(s3.ours.result);
    const minimalCpu = cpuMicrosPerRow(s3.minimal.result);
    const st = s3.minimal.result.stages;
    rows.push(
      {
        scenario: '3 CPU-bound',
        metric: 'events per CPU-second of the engine',
        ours: oursCpu > 0 ? 1e6 / oursCpu : null,
        baseline: minimalCpu > 0 ? 1e6 / minimalCpu : null,
        ratio: oursCpu > 0 ? 1e6 / oursCpu / 58_000 : null,
        target: '>= 58,000 (ratio = of it)',
        pass: oursCpu > 0 && 1e6 / oursCpu >= 58_000,
        note: `${s3.events} events; CPU µs/event, median of runs in turn: ours ${oursCpu.toFixed(1)} (${s3.oursSamples.join(', ')}), minimal fetch + parse + append loop ${minimalCpu.toFixed(1)} (${s3.minimalSamples.join(', ')})`,
      },
      {
        scenario: '3 CPU-bound',
        metric: 'events/s into DuckDB (wall)',
        ours: s3.ours.rowsPerSecond,
        baseline: s3.minimal.rowsPerSecond,
        ratio: s3.ours.rowsPerSecond / s3.minimal.rowsPerSecond,
        target: 'information',
        pass: null,
        note: `ours ${(s3.ours.result.ms / 1000).toFixed(1)} s (cpu ${((s3.ours.result.cpuUserMs + s3.ours.result.cpuSystemMs) / 1000).toFixed(1)} s: user ${(s3.ours.result.cpuUserMs / 1000).toFixed(1)}, system ${(s3.ours.result.cpuSystemMs / 1000).toFixed(1)}; cache ${s3.ours.cacheHits} hits/${s3.ours.cacheMisses} misses; the median of ${s3.oursSamples.length} runs, ${s3.oursRuns} in all), minimal ${(s3.minimal.result.ms / 1000).toFixed(1)} s from a warm cache (cpu ${((s3.minimal.result.cpuUserMs + s3.minimal.result.cpuSystemMs) / 1000).toFixed(1)} s${st ? `, fetch ${(st.fetchMs! / 1000).toFixed(1)} s, parse ${(st.parseMs! / 1000).toFixed(1)} s, append ${(st.appendMs! / 1000).toFixed(1)} s` : ''})`,
      },
    );
  }
  if (s4) rows.push(...backfillRows('4 profiles (L tier)', s4));
  const limit = 300 * MB;
  if (s3) {
    const run = s3.oursPeakRss.result;
    const ours = peakRss(run);
    rows.push({
      scenario: '5 memory',
      metric: `peak RSS MB, ${s3.events} events`,
      ours: ours / MB,
      baseline: peakRss(s3.minimal.result) / MB,
      ratio: ours / limit,
      target: '<= 300 MB (ratio = of 300)',
      pass: ours <= limit,
      note: `the highest of scenario 3's runs of ours; baseline column = the minimal loop's (its DuckDB has no memory limit); that run's RSS median ${(run.rssP50Bytes / MB).toFixed(0)} MB, p95 ${(run.rssP95Bytes / MB).toFixed(0)} MB`,
    });
  }
  if (s5) {
    const small = s3 ? peakRss(s3.oursPeakRss.result) : null;
    const { events, run } = s5.big;
    const peak = peakRss(run.result);
    rows.push({
      scenario: '5 memory',
      metric: `peak RSS MB, ${events} events, uncached`,
      ours: peak / MB,
      baseline: small === null ? null : small / MB,
      ratio: peak / limit,
      target: '<= 300 MB (ratio = of 300)',
      pass: peak <= limit,
      note: `baseline column = ours at 1x (scenario 3); ${run.rowsPerSecond.toFixed(0)} rows/s, ${cpuMicrosPerRow(run.result).toFixed(1)} µs CPU/row; RSS over the run: median ${(run.result.rssP50Bytes / MB).toFixed(0)} MB, p95 ${(run.result.rssP95Bytes / MB).toFixed(0)} MB${small === null ? '' : `; peak ${(((peak - small) / small) * 100).toFixed(0)}% above 1x`}`,
    });
    if (s5.bigUntuned) {
      const { events: n, run: untuned } = s5.bigUntuned;
      const p = peakRss(untuned.result);
      rows.push({
        scenario: '5 memory',
        metric: `peak RSS MB, ${n} events, uncached, without the CLI's runtime settings`,
        ours: p / MB,
        baseline: peak / MB,
        ratio: p / limit,
        target: 'information (KLAVIYO_INGEST_RUNTIME_TUNING=off)',
        pass: null,
        note: `started without ${describeRuntime(CLI_RUNTIME)}; baseline column = the same run with them; ${untuned.rowsPerSecond.toFixed(0)} rows/s, ${cpuMicrosPerRow(untuned.result).toFixed(1)} µs CPU/row; RSS median ${(untuned.result.rssP50Bytes / MB).toFixed(0)} MB, p95 ${(untuned.result.rssP95Bytes / MB).toFixed(0)} MB`,
      });
    }
  }
  if (s6) {
    const ratio = s6.ours.rowsPerSecond / s6.minimal.rowsPerSecond;
    const st = s6.minimal.result.stages;
    const cpu = (r: ChildResult, server: number | null, simulator: number) =>
      `${((r.cpuUserMs + r.cpuSystemMs) / 1000).toFixed(1)} s${server === null ? '' : ` + server ${(server / 1000).toFixed(1)} s`} + simulator ${(simulator / 1000).toFixed(1)} s`;
    const ours = peakRss(s6.ours.result);
    rows.push(
      {
        scenario: '6 PostgreSQL',
        metric: 'events/s into PostgreSQL',
        ours: s6.ours.rowsPerSecond,
        baseline: s6.minimal.rowsPerSecond,
        ratio,
        target: 'ratio >= 0.70',
        pass: ratio >= 0.7,
        note: `${s6.events} events, PostgreSQL ${s6.serverVersion}; ours ${(s6.ours.result.ms / 1000).toFixed(1)} s (cpu ${cpu(s6.ours.result, s6.oursServerCpuMs, s6.oursSimulatorCpuMs)}, cache ${s6.ours.cacheHits} hits/${s6.ours.cacheMisses} misses), minimal ${(s6.minimal.result.ms / 1000).toFixed(1)} s (cpu ${cpu(s6.minimal.result, s6.minimalServerCpuMs, s6.minimalSimulatorCpuMs)}${st ? `, fetch ${(st.fetchMs! / 1000).toFixed(1)} s, parse ${(st.parseMs! / 1000).toFixed(1)} s, flatten + COPY ${(st.copyMs! / 1000).toFixed(1)} s` : ''}); rows in the tables: ours ${s6.oursTableRows}, minimal ${s6.minimalTableRows}`,
      },
      {
        scenario: '6 PostgreSQL',
        metric: `peak RSS MB, ${s6.events} events`,
        ours: ours / MB,
        baseline: peakRss(s6.minimal.result) / MB,
        ratio: ours / (300 * MB),
        target: '<= 300 MB (ratio = of 300)',
        pass: ours <= 300 * MB,
        note: "the client process only (not the server); baseline column = the minimal loop's",
      },
    );
  }
  return rows;
}

/** What `npm run bench` runs; PostgreSQL (6) only when BENCH_ONLY names it. */
const DEFAULT_SCENARIOS = ['1', '2', '3', '4', '5'];

async function main(): Promise<void> {
  const scale = benchScale(process.env);
  const only = (process.env.BENCH_ONLY ?? DEFAULT_SCENARIOS.join(',')).split(',');
  const started = Date.now();
  log(
    `scale ${scale}, node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  // The API paces scenarios 1, 2 and 4, not the CPU: warmed one after the other, run at once.
  const p1 = only.includes('1') ? await scenario1(scale) : null;
  const p2 = only.includes('2') ? await scenario2(scale) : null;
  const p4 = only.includes('4') ? await scenario4(scale) : null;
  const [s1, s2, s4] = await Promise.all([p1?.run() ?? null, p2?.run() ?? null, p4?.run() ?? null]);
  const s3 = only.includes('3') ? await scenarioCpu(scale) : null;
  const s5 = only.includes('5') ? await scenarioMem(scale) : null;
  const s6 = only.includes('6') ? await scenarioPg(scale) : null;
  const rows = tableRows(s1, s2, s3, s4, s5, s6);
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // Only a full run at full size replaces latest.json; others are kept beside it, untracked.
  const full = scale === 1 && DEFAULT_SCENARIOS.every((s) => only.includes(s)) && !process.env.BENCH_EVENTS;
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
        scenario5: s5,
        scenario6: s6,
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
