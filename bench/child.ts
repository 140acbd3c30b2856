/**
 * One measured run, in its own process so its RSS is its own:
 *   node dist/bench/child.js <task> '<json args>'
 * Prints `BENCH_RESULT {...}` as its last stdout line. Tasks:
 *   ours     runProject (the real runner, `inc` workflow) against the simulator
 *   sdk      a sequential loop with the official klaviyo-api SDK (scenarios 1, 2 and 4's baseline)
 *   minimal  undici + JSON.parse + DuckDB appender, nothing else (scenario 3's baseline)
 *   minimal-pg  undici + JSON.parse + COPY FROM STDIN (pg-copy-streams), nothing else (scenario 6's)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { request } from 'undici';
import { initProject } from '../src/cli/commands/init.js';
// Through our module, so ours and the minimal loop run with the allocator settings the engine uses.
import { DuckDBInstance } from '../src/warehouse/duckdb/duckdb-api.js';
import { runProject } from '../src/workflow/run-project.js';

export interface ChildResult {
  task: string;
  ok: boolean;
  error?: string;
  rows: number;
  pages: number;
  /** From the task's start (after module loading) to its end. */
  ms: number;
  /** Max of process.memoryUsage().rss sampled every 50 ms. */
  rssPeakBytes: number;
  /** Median and 95th percentile of those samples: a trend shows here, a single spike does not. */
  rssP50Bytes: number;
  rssP95Bytes: number;
  /** /proc/self/status VmHWM (kernel's peak RSS), when readable. */
  vmHwmBytes: number | null;
  cpuUserMs: number;
  cpuSystemMs: number;
  stages?: Record<string, number>;
  memoryAtPeakMB?: Record<string, number>;
}

export interface OursArgs {
  baseUrl: string;
  apiKey: string;
  sources: string[];
  /** `--end` (ISO); events have no start override (no incremental_field). */
  end: string;
  start?: string;
  /** Requests in flight per source (`--concurrency`), for experiments. */
  concurrency?: number;
  /**
   * A PostgreSQL destination instead of a temp DuckDB file: the server's URL and the schema the
   * project loads into (its config/database.yml `src`); the caller drops the schema afterwards.
   */
  postgres?: { url: string; schema: string };
}

export interface SdkArgs {
  baseUrl: string;
  apiKey: string;
  /** Each source given is paged through, events first. */
  eventsFilter?: string;
  profilesFilter?: string;
  eventsPageSize: number;
  profilesPageSize: number;
}

export interface MinimalArgs {
  firstUrl: string;
  apiKey: string;
  revision: string;
}

export interface MinimalPgArgs extends MinimalArgs {
  /** The server; the task creates `schema` and its table, the caller drops the schema afterwards. */
  postgresUrl: string;
  schema: string;
  /** Pages per COPY statement (the stream stays open across that many pages). */
  pagesPerCopy: number;
}

let rssPeak = 0;
const rssSamples: number[] = [];
/** process.memoryUsage() when RSS peaked (heap vs native split). */
let atPeak: NodeJS.MemoryUsage | null = null;
const sample = () => {
  const rss = process.memoryUsage.rss();
  rssSamples.push(rss);
  if (rss > rssPeak) {
    rssPeak = rss;
    atPeak = process.memoryUsage();
  }
};
const sampler = setInterval(sample, 50);
sampler.unref();
// BENCH_RSS_TRACE=1: the memory split once a second on stderr (where does the RSS go?).
if (process.env.BENCH_RSS_TRACE) {
  const t0 = performance.now();
  setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1048576);
    process.stderr.write(
      `rss-trace t=${((performance.now() - t0) / 1000).toFixed(0)}s rss=${mb(m.rss)} heapTotal=${mb(m.heapTotal)} heapUsed=${mb(m.heapUsed)} external=${mb(m.external)}\n`,
    );
  }, 1000).unref();
}

/**
 * BENCH_PG_TRACE=1: time every PostgreSQL statement of the process from the client's side (call to
 * result; a COPY to its end), summed by kind, reported as `stages` (`pg:<kind>Ms`, `pg:<kind>Count`).
 * Statements on different connections overlap, so the sums can exceed the run's time.
 */
const pgTrace: Record<string, number> | null = process.env.BENCH_PG_TRACE ? {} : null;
if (pgTrace) {
  const kindOf = (sql: string) => {
    const s = sql.trimStart();
    if (/^COPY/i.test(s)) return 'copy';
    if (/^INSERT INTO \S+ \(.*\) SELECT/is.test(s)) return 'moveRows';
    const m =
      /^(CREATE (?:TEMP )?\w+|ALTER TABLE|DROP TABLE|DELETE|INSERT|SELECT|BEGIN|COMMIT|ROLLBACK|SET)/i.exec(
        s,
      );
    return m ? m[1]!.toLowerCase().replace(/ /g, '_') : 'other';
  };
  const add = (kind: string, ms: number) => {
    pgTrace[`pg:${kind}Ms`] = (pgTrace[`pg:${kind}Ms`] ?? 0) + ms;
    pgTrace[`pg:${kind}Count`] = (pgTrace[`pg:${kind}Count`] ?? 0) + 1;
  };
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...a: unknown[]) {
    const config = a[0] as string | { text?: string } | undefined;
    const sql = typeof config === 'string' ? config : (config?.text ?? '?');
    const kind = kindOf(sql);
    const t = performance.now();
    const done = () => add(kind, performance.now() - t);
    const result = original.apply(this, a) as
      | { then?: (f: () => void, r: () => void) => unknown; once?: (e: string, f: () => void) => unknown }
      | undefined;
    if (typeof result?.then === 'function') result.then(done, done);
    else if (typeof result?.once === 'function') {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        done();
      };
      result.once('finish', end);
      result.once('error', end);
    }
    return result;
  };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

function vmHwm(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'ki-bench-'));
}

async function ours(args: OursArgs): Promise<Partial<ChildResult>> {
  const dir = tempDir();
  try {
    const projectDir = path.join(dir, 'ingestion');
    initProject(projectDir);
    if (args.postgres) useSchema(projectDir, args.postgres.schema);
    const report = await runProject({
      projectDir,
      workflow: 'inc',
      destination: args.postgres?.url ?? `duckdb:${path.join(dir, 'klaviyo.duckdb')}`,
      env: { KLAVIYO_API_KEY: args.apiKey, KLAVIYO_BASE_URL: args.baseUrl },
      sources: args.sources,
      end: args.end,
      ...(args.start ? { start: args.start } : {}),
      ...(args.concurrency ? { concurrency: args.concurrency } : {}),
    });
    const errors = report.sources.filter((s) => s.status === 'ERROR').map((s) => `${s.name}: ${s.error}`);
    return {
      ok: report.ok,
      ...(errors.length ? { error: errors.join('; ') } : {}),
      rows: report.sources.reduce((n, s) => n + s.records, 0),
      pages: report.sources.reduce((n, s) => n + s.pages, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Points the project's `databases.src` (config/database.yml) at `schema`. */
function useSchema(projectDir: string, schema: string): void {
  const file = path.join(projectDir, 'config', 'database.yml');
  const text = readFileSync(file, 'utf8');
  const edited = text.replace(/^(\s*src:\s*)klaviyo_src\s*$/m, `$1${schema}`);
  if (edited === text) throw new Error(`${file} has no "src: klaviyo_src" line to point at ${schema}`);
  writeFileSync(file, edited);
}

async function sdk(args: SdkArgs): Promise<Partial<ChildResult>> {
  // Loaded only here: the SDK's modules would otherwise count in the other runs' RSS.
  const { ApiKeySession, EventsApi, ProfilesApi } = await import('klaviyo-api');
  const session = new ApiKeySession(args.apiKey);
  const events = new EventsApi(session);
  events.basePath = args.baseUrl;
  const profiles = new ProfilesApi(session);
  profiles.basePath = args.baseUrl;
  const cursorOf = (next: string | undefined | null) =>
    next ? (new URL(next).searchParams.get('page[cursor]') ?? undefined) : undefined;
  let rows = 0;
  let pages = 0;
  // What a TypeScript user writes by hand: page through events, then profiles, one request at a time.
  let pageCursor: string | undefined;
  if (args.eventsFilter !== undefined) {
    do {
      const { body } = await events.getEvents({
        filter: args.eventsFilter,
        sort: 'datetime',
        pageSize: args.eventsPageSize,
        pageCursor,
      });
      rows += body.data.length;
      pages++;
      pageCursor = cursorOf(body.links?.next);
    } while (pageCursor);
  }
  pageCursor = undefined;
  if (args.profilesFilter !== undefined) {
    do {
      const { body } = await profiles.getProfiles({
        filter: args.profilesFilter,
        sort: 'updated',
        pageSize: args.profilesPageSize,
        additionalFieldsProfile: ['subscriptions'],
        pageCursor,
      });
      rows += body.data.length;
      pages++;
      pageCursor = cursorOf(body.links?.next);
    } while (pageCursor);
  }
  return { ok: true, rows, pages };
}

interface RawEvent {
  id: string;
  attributes: {
    timestamp: number;
    event_properties: unknown;
    datetime: string;
    uuid: string;
  };
  relationships?: {
    metric?: { data?: { id: string } };
    profile?: { data?: { id: string } };
  };
}

/**
 * The baselines' page loop: fetch each page with undici, parse it, hand its events to `load`, follow
 * `links.next`. Fetch and parse times go into `stages`; `load` times its own work.
 */
async function eachEventsPage(
  args: { firstUrl: string; apiKey: string; revision: string },
  stages: { fetchMs: number; parseMs: number },
  load: (events: RawEvent[], last: boolean) => Promise<void> | void,
): Promise<{ rows: number; pages: number }> {
  const headers = {
    authorization: `Klaviyo-API-Key ${args.apiKey}`,
    revision: args.revision,
    accept: 'application/vnd.api+json',
  };
  let url: string | null = args.firstUrl;
  let rows = 0;
  let pages = 0;
  while (url) {
    let t = performance.now();
    const res = await request(url, { headers });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} from ${url}: ${text.slice(0, 200)}`);
    stages.fetchMs += performance.now() - t;
    t = performance.now();
    const doc = JSON.parse(text) as { data: RawEvent[]; links?: { next?: string | null } };
    stages.parseMs += performance.now() - t;
    url = doc.links?.next ?? null;
    await load(doc.data, url === null);
    rows += doc.data.length;
    pages++;
  }
  return { rows, pages };
}

/** The limit: fetch, parse, append the same columns with the DuckDB appender; nothing else. */
async function minimal(args: MinimalArgs): Promise<Partial<ChildResult>> {
  const dir = tempDir();
  const instance = await DuckDBInstance.create(path.join(dir, 'minimal.duckdb'));
  const connection = await instance.connect();
  const stages = { fetchMs: 0, parseMs: 0, appendMs: 0 };
  try {
    await connection.run(
      'CREATE TABLE events (id VARCHAR, "timestamp" BIGINT, event_properties JSON, datetime VARCHAR, uuid VARCHAR, metric_id VARCHAR, profile_id VARCHAR, "time" BIGINT)',
    );
    const appender = await connection.createAppender('events');
    const time = BigInt(Math.floor(Date.now() / 1000));
    const { rows, pages } = await eachEventsPage(args, stages, (events) => {
      const t = performance.now();
      for (const e of events) {
        const a = e.attributes;
        appender.appendVarchar(e.id);
        appender.appendBigInt(BigInt(a.timestamp));
        appender.appendVarchar(JSON.stringify(a.event_properties));
        appender.appendVarchar(a.datetime);
        appender.appendVarchar(a.uuid);
        const metric = e.relationships?.metric?.data?.id;
        const profile = e.relationships?.profile?.data?.id;
        if (metric === undefined) appender.appendNull();
        else appender.appendVarchar(metric);
        if (profile === undefined) appender.appendNull();
        else appender.appendVarchar(profile);
        appender.appendBigInt(time);
        appender.endRow();
      }
      appender.flushSync();
      stages.appendMs += performance.now() - t;
    });
    appender.closeSync();
    return { ok: true, rows, pages, stages };
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A field of COPY's text format. */
function copyText(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}

/** JSON text jsonb accepts (it refuses the NUL escape). */
function jsonbField(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return copyText(json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json);
}

/**
 * The limit for PostgreSQL: fetch, parse, flatten the same columns as `minimal`, and COPY them (text
 * format) into a plain table with the column types ours gives its events table; no staging, no index.
 */
async function minimalPg(args: MinimalPgArgs): Promise<Partial<ChildResult>> {
  const client = new pg.Client({ connectionString: args.postgresUrl, application_name: 'bench-minimal-pg' });
  await client.connect();
  const stages = { fetchMs: 0, parseMs: 0, copyMs: 0 };
  const table = `${args.schema}.events`;
  try {
    await client.query(`CREATE SCHEMA ${args.schema}`);
    await client.query(
      `CREATE TABLE ${table} (id text, "timestamp" bigint, event_properties jsonb, datetime text, uuid text, metric_id text, profile_id text, "time" bigint)`,
    );
    const time = String(Math.floor(Date.now() / 1000));
    const columns = 'id, "timestamp", event_properties, datetime, uuid, metric_id, profile_id, "time"';
    let copy: ReturnType<typeof copyFrom> | null = null;
    let pagesInCopy = 0;
    const { rows, pages } = await eachEventsPage(args, stages, async (events, last) => {
      const t = performance.now();
      let out = '';
      for (const e of events) {
        const a = e.attributes;
        const metric = e.relationships?.metric?.data?.id;
        const profile = e.relationships?.profile?.data?.id;
        out += `${copyText(e.id)}\t${a.timestamp}\t${jsonbField(a.event_properties)}\t${copyText(a.datetime)}\t${copyText(a.uuid)}\t${metric === undefined ? '\\N' : copyText(metric)}\t${profile === undefined ? '\\N' : copyText(profile)}\t${time}\n`;
      }
      copy ??= client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
      const stream = copy;
      if (!stream.write(out)) await new Promise((resolve) => stream.once('drain', resolve));
      if (++pagesInCopy >= args.pagesPerCopy || last) {
        stream.end();
        await finished(stream);
        copy = null;
        pagesInCopy = 0;
      }
      stages.copyMs += performance.now() - t;
    });
    return { ok: true, rows, pages, stages };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const [task, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? '{}') as unknown;
  const started = performance.now();
  const cpu = process.cpuUsage();
  let partial: Partial<ChildResult>;
  try {
    if (task === 'ours') partial = await ours(args as OursArgs);
    else if (task === 'sdk') partial = await sdk(args as SdkArgs);
    else if (task === 'minimal') partial = await minimal(args as MinimalArgs);
    else if (task === 'minimal-pg') partial = await minimalPg(args as MinimalPgArgs);
    else throw new Error(`unknown task '${task}'`);
  } catch (error) {
    partial = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  sample();
  const used = process.cpuUsage(cpu);
  const result: ChildResult = {
    task: task ?? '',
    rows: 0,
    pages: 0,
    ...partial,
    ...(pgTrace ? { stages: { ...partial.stages, ...pgTrace } } : {}),
    ok: partial.ok ?? false,
    ms: performance.now() - started,
    rssPeakBytes: rssPeak,
    rssP50Bytes: percentile(rssSamples, 0.5),
    rssP95Bytes: percentile(rssSamples, 0.95),
    ...(atPeak
      ? {
          memoryAtPeakMB: Object.fromEntries(
            Object.entries(atPeak as NodeJS.MemoryUsage).map(([k, v]) => [k, Math.round(v / 1048576)]),
          ),
        }
      : {}),
    vmHwmBytes: vmHwm(),
    cpuUserMs: used.user / 1000,
    cpuSystemMs: used.system / 1000,
  };
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
}

await main();
