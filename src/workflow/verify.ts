/**
 * `klaviyo-ingest verify`: checks every events table of the project against Klaviyo's own counts
 * (per metric and UTC day, from metric-aggregates) over the range the table's loads cover, and with
 * `repair` re-reads the days that differ and checks them again.
 */
import { randomBytes } from 'node:crypto';
import { createKlaviyoClient, type KlaviyoClient, type RateLimiterRegistry } from '../klaviyo/index.js';
import { DEFAULT_REVISION } from '../klaviyo/revisions.js';
import { assertValid, loadProject, type Project, validateProject } from '../project/index.js';
import { getSource } from '../sources/registry.js';
import { type Clock, systemClock } from '../util/clock.js';
import { configError } from '../util/errors.js';
import { formatTemplateTime, parseTimestamp } from '../util/timestamps.js';
import { coveredRange, DAY_MS } from '../warehouse/day-counts.js';
import type { Destination } from '../warehouse/destination.js';
import { destinationUrlFrom, missingDestination, openDestination } from '../warehouse/open-destination.js';
import { planFromProject } from './project-plan.js';
import { sourceParamsFrom } from './source-params.js';
import type { DatasourceSpec, LoadedConfig, WorkflowPlan } from './types.js';
import { compareTable, type DayDifference, type MetricInfo } from './verify-compare.js';
import { repairPieces, repairTable } from './verify-repair.js';
import { incrementalColumn, normaliseWindowOverrides } from './window.js';

export type { DayDifference } from './verify-compare.js';

export interface VerifyInput {
  projectDir: string;
  /** `--destination`; undefined = $KLAVIYO_INGEST_DESTINATION, else `duckdb:./klaviyo.duckdb`. */
  destination?: string | undefined;
  /** Only these events datasources (by name or table name). */
  sources?: string[] | undefined;
  /** Check this range instead of the one the table covers (any timestamp we can read). */
  start?: string | undefined;
  end?: string | undefined;
  /** Re-read the differing days, load them, and check them again. */
  repair?: boolean | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  /** Klaviyo API base URL (default: env KLAVIYO_BASE_URL, else https://a.klaviyo.com). */
  baseUrl?: string | undefined;
  /** Share rate limiters with other work in this process. */
  limiter?: RateLimiterRegistry;
  progress?: (line: string) => void;
  timeoutMs?: number | undefined;
}

export interface RepairReport {
  /** (metric, day) pairs re-read. */
  days: number;
  /** Records read from the API for them. */
  read: number;
  /** Rows added to the table (the rest were there already). */
  inserted: number;
  duplicatesSkipped: number;
  /** The differences found before the repair. */
  found: DayDifference[];
}

export interface TableVerification {
  /** The datasource's name (`events`) and its workflow file. */
  datasource: string;
  workflow: string;
  table: string;
  /** `checked`, or `not loaded` (no rows and no ingestion-log row, and no --start). */
  status: 'checked' | 'not loaded';
  /** The range checked, in the templates' time format (null when not loaded). */
  from: string | null;
  to: string | null;
  metrics: number;
  days: number;
  daysMatching: number;
  /** Differences left (after a repair: what the repair could not close). */
  differences: DayDifference[];
  /** metric-aggregates requests made for this table. */
  aggregateRequests: number;
  repair?: RepairReport;
}

export interface VerifyReport {
  ok: boolean;
  tables: TableVerification[];
  days: number;
  daysMatching: number;
  /** Every API request made: metrics pages, metric-aggregates and repair pages. */
  apiRequests: number;
  durationMs: number;
}

interface EventsTable {
  plan: WorkflowPlan;
  spec: DatasourceSpec;
  config: LoadedConfig;
}

/** The events datasources of every workflow of the project (each table once), in workflow order. */
async function eventsTables(project: Project): Promise<EventsTable[]> {
  const out: EventsTable[] = [];
  const seen = new Set<string>();
  const workflows = Object.values(project.workflows).filter((w) => w.loop && w.datasources);
  for (const workflow of workflows) {
    const plan = planFromProject(project, workflow);
    for (const spec of plan.datasources) {
      if (seen.has(spec.table_name)) continue;
      const config = await plan.loadConfig(spec, { start_time: '', end_time: '' });
      if (config.in.data_source !== 'events') continue;
      seen.add(spec.table_name);
      out.push({ plan, spec, config });
    }
  }
  return out;
}

function selectTables(tables: EventsTable[], names: string[] | undefined): EventsTable[] {
  if (!names || names.length === 0) return tables;
  const matches = (t: EventsTable, n: string) => t.spec.name === n || t.spec.table_name === n;
  const unknown = names.filter((n) => !tables.some((t) => matches(t, n)));
  if (unknown.length > 0) {
    throw configError(
      `--sources names ${unknown.join(', ')}, which is not an events datasource of the project`,
      {
        code: 'UNKNOWN_SOURCE_SELECTED',
        key: '--sources',
        fix: `choose from: ${[...new Set(tables.flatMap((t) => [t.spec.name, t.spec.table_name]))].join(', ')} (verify checks events tables only)`,
      },
    );
  }
  return tables.filter((t) => names.some((n) => matches(t, n)));
}

function newRunId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `ki-verify-${stamp}-${randomBytes(3).toString('hex')}`;
}

async function listMetrics(client: KlaviyoClient): Promise<MetricInfo[]> {
  const metrics: MetricInfo[] = [];
  for await (const page of client.paginate('/api/metrics')) {
    for (const r of page.data) metrics.push({ id: r.id, name: String(r.attributes.name ?? r.id) });
  }
  return metrics;
}

/** Checks each events table; with `repair`, re-reads what differs and checks those days again. */
export async function verifyProject(input: VerifyInput): Promise<VerifyReport> {
  const overrides = normaliseWindowOverrides(input.start, input.end);
  const env = input.env ?? process.env;
  const clock = input.clock ?? systemClock;
  const startedAt = clock.now();
  assertValid(validateProject(input.projectDir, { env }));
  const project = loadProject(input.projectDir, { env });
  const tables = selectTables(await eventsTables(project), input.sources);
  const url = destinationUrlFrom(input.destination, env);
  const missing = missingDestination(url);
  if (missing !== null) {
    throw configError(missing, {
      code: 'DESTINATION_MISSING',
      key: '--destination',
      fix: 'run a workflow first (klaviyo-ingest run inc), or point --destination at the database',
    });
  }

  const clients = new Map<string, KlaviyoClient>();
  const metricsByClient = new Map<KlaviyoClient, Promise<MetricInfo[]>>();
  const clientFor = (authenticationId: string | number | null | undefined): KlaviyoClient => {
    const credentials = project.credentials.resolve(authenticationId);
    const revision = credentials.revision ?? DEFAULT_REVISION;
    const key = `${credentials.apiKey}\u0000${revision}`;
    let client = clients.get(key);
    if (!client) {
      client = createKlaviyoClient({
        apiKey: credentials.apiKey,
        revision,
        keySource: credentials.source,
        revisionSource: credentials.revisionSource,
        baseUrl: input.baseUrl ?? env.KLAVIYO_BASE_URL,
        // Without a clock of its own the client waits in the process-wide limiters, shared with every
        // other client of the account.
        ...(input.clock ? { clock: input.clock } : {}),
        limiter: input.limiter,
        timeoutMs: input.timeoutMs,
      });
      clients.set(key, client);
    }
    return client;
  };

  const destination = await openDestination(url);
  const runId = newRunId(startedAt);
  try {
    const results: TableVerification[] = [];
    for (const table of tables) {
      const client = clientFor(table.config.in.td_authentication_id);
      let metrics = metricsByClient.get(client);
      if (!metrics) {
        metrics = listMetrics(client);
        metricsByClient.set(client, metrics);
      }
      results.push(
        await verifyTable({
          table,
          client,
          metrics: await metrics,
          destination,
          overrides,
          input,
          clock,
          runId,
        }),
      );
    }
    const days = results.reduce((n, t) => n + t.days, 0);
    return {
      ok: results.every((t) => t.differences.length === 0),
      tables: results,
      days,
      daysMatching: results.reduce((n, t) => n + t.daysMatching, 0),
      apiRequests: [...clients.values()].reduce((n, c) => n + c.stats().requests, 0),
      durationMs: clock.now() - startedAt,
    };
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await destination.close();
  }
}

interface TableInput {
  table: EventsTable;
  client: KlaviyoClient;
  metrics: MetricInfo[];
  destination: Destination;
  overrides: { start?: string; end?: string };
  input: VerifyInput;
  clock: Clock;
  runId: string;
}

async function verifyTable(t: TableInput): Promise<TableVerification> {
  const { spec, plan, config } = t.table;
  const timeColumn = incrementalColumn(spec) ?? 'datetime';
  const progress = t.input.progress ?? (() => undefined);
  const result: TableVerification = {
    datasource: spec.name,
    workflow: plan.file,
    table: spec.table_name,
    status: 'not loaded',
    from: null,
    to: null,
    metrics: t.metrics.length,
    days: 0,
    daysMatching: 0,
    differences: [],
    aggregateRequests: 0,
  };
  const covered = await coveredRange(t.destination, plan.schema, spec.table_name, timeColumn);
  const start = t.overrides.start === undefined ? null : parseTimestamp(t.overrides.start);
  const end = t.overrides.end === undefined ? null : parseTimestamp(t.overrides.end);
  const fromMs = start ?? covered?.fromMs ?? null;
  const toMs = end ?? covered?.toMs ?? (start === null ? null : t.clock.now());
  if (fromMs === null || toMs === null || toMs <= fromMs) {
    progress(`${spec.table_name}: not loaded yet (no rows, no ingestion-log row): nothing to check`);
    return result;
  }
  result.status = 'checked';
  result.from = formatTemplateTime(fromMs);
  result.to = formatTemplateTime(toMs);
  progress(
    `${spec.table_name}: checking ${result.from} .. ${result.to} against Klaviyo's counts of ${t.metrics.length} metrics`,
  );
  const compare = (from: number, to: number, metrics: readonly MetricInfo[]) =>
    compareTable({
      destination: t.destination,
      client: t.client,
      schema: plan.schema,
      table: spec.table_name,
      timeColumn,
      metrics,
      fromMs: from,
      toMs: to,
    });
  const first = await compare(fromMs, toMs, t.metrics);
  result.days = first.days;
  result.daysMatching = first.daysMatching;
  result.differences = first.differences;
  result.aggregateRequests = first.requests;
  if (!t.input.repair || first.differences.length === 0) return result;

  const pieces = repairPieces(first.differences, fromMs, toMs);
  progress(`${spec.table_name}: re-reading ${pieces.length} (metric, day) pairs that differ`);
  const repair: RepairReport = {
    days: pieces.length,
    read: 0,
    inserted: 0,
    duplicatesSkipped: 0,
    found: first.differences,
  };
  result.repair = repair;
  if (pieces.length > 0) {
    const loaded = await repairTable({
      destination: t.destination,
      fetcher: t.client,
      events: getSource('events'),
      params: sourceParamsFrom(config, t.client.revision),
      schema: plan.schema,
      table: spec.table_name,
      timeColumn,
      workflowName: spec.workflow_name,
      pieces,
      jobId: `${t.runId}:${spec.table_name}:repair`,
      clock: t.clock,
    });
    Object.assign(repair, {
      read: loaded.read,
      inserted: loaded.inserted,
      duplicatesSkipped: loaded.duplicatesSkipped,
    });
  }

  // Check the days that differed again: the table now, and Klaviyo's counts asked for afresh.
  const dayMs = first.differences.map((d) => Date.parse(`${d.day}T00:00:00Z`));
  const againFrom = Math.max(fromMs, Math.min(...dayMs));
  const againTo = Math.min(toMs, Math.max(...dayMs) + DAY_MS);
  const differing = new Set(first.differences.map((d) => d.metricId));
  const again = await compare(
    againFrom,
    againTo,
    t.metrics.filter((m) => differing.has(m.id)),
  );
  result.aggregateRequests += again.requests;
  const wasDiffering = new Set(first.differences.map((d) => `${d.metricId}|${d.day}`));
  result.differences = [
    ...again.differences.filter((d) => d.klaviyo !== null && wasDiffering.has(`${d.metricId}|${d.day}`)),
    // Metrics Klaviyo does not list were not asked again: they stay as found.
    ...first.differences.filter((d) => d.klaviyo === null),
  ];
  const stillDiffering = new Set(result.differences.map((d) => d.day));
  const daysBefore = new Set(first.differences.map((d) => d.day));
  result.daysMatching = first.daysMatching + [...daysBefore].filter((d) => !stillDiffering.has(d)).length;
  return result;
}
