import { tierOf } from '../klaviyo/rate-tiers.js';
import { collectionSource } from '../sources/collection-source.js';
import { findStream, getSource } from '../sources/registry.js';
import type { SourceParams } from '../sources/types.js';
import { configError, errorMessage } from '../util/errors.js';
import { redact } from '../util/redact.js';
import type { Destination, LoadTarget } from '../warehouse/destination.js';
import { loggedWindows } from '../warehouse/ingestion-log.js';
import { readParentCursors } from '../warehouse/parent-cursors.js';
import { findGaps, type Gap } from './gaps.js';
import { loadChildren } from './load-children.js';
import { type LoadSourceInput, loadSource, WORKERS_BY_TIER } from './load-source.js';
import { logRow } from './log-rows.js';
import type { RunEmitter } from './run-events.js';
import type { RunStop } from './run-stop.js';
import { sourceParamsFrom } from './source-params.js';
import type { DatasourceSpec, RunDeps, RunOptions, SourceReport, WorkflowPlan } from './types.js';
import { computeWindow, incrementalColumn } from './window.js';

/** `2025-10-15T12:00:00+00:00`: a time as Klaviyo writes them, whole seconds. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

/** A snapshot marks what it did not read as deleted, so it must read everything (validate: SNAPSHOT_NEEDS_FULL_READ). */
function assertFullRead(
  datasource: DatasourceSpec,
  params: SourceParams,
  implicit: string | undefined,
): void {
  if (params.windowField === null && implicit === undefined) return;
  throw configError(
    `datasource ${datasource.name} (${datasource.table_name}) has mode snapshot but reads a window; nothing was loaded`,
    {
      code: 'SNAPSHOT_NEEDS_FULL_READ',
      key: 'mode',
      fix: 'leave incremental_field and incremental_field_connector empty for a snapshot, or use mode: append or merge',
    },
  );
}

/**
 * One iteration of the templates' for_each: log start, set up table and window, load, log success.
 * Failures are caught and reported (the pool keeps the other sources going); the load's rows and its
 * SUCCESS row commit together, so a failure leaves the table as it was.
 */
export async function runDatasource(
  plan: WorkflowPlan,
  datasource: DatasourceSpec,
  deps: RunDeps,
  options: RunOptions,
  stop: RunStop,
  events: RunEmitter,
): Promise<SourceReport> {
  const { destination, clock } = deps;
  const ref = { source: datasource.name, table: datasource.table_name };
  /** Rows this load committed so far (checkpoints, then the last commit). */
  let committed = 0;
  let column: string | null = null;
  const startedAt = clock.now();
  const jobId = `${deps.runId}:${datasource.table_name}`;
  const base = {
    sourceName: datasource.table_name,
    workflowName: datasource.workflow_name,
    tableName: datasource.table_name,
  };
  const report: SourceReport = {
    name: datasource.name,
    table: datasource.table_name,
    status: options.dryRun ? 'DRY_RUN' : 'SUCCESS',
    startTime: '',
    endTime: '',
    records: 0,
    duplicatesSkipped: 0,
    pages: 0,
    slices: 0,
    durationMs: 0,
    jobId,
  };
  // The destination written to; null on --dry-run, which reads (the window) but writes nothing.
  const writer = options.dryRun === true ? null : destination;
  try {
    await writer?.appendLog(plan.schema, [logRow({ ...base, status: 'STARTED', nowMs: startedAt })]);

    column = incrementalColumn(datasource);
    // The templates create the table here; we let the load's commit create it (same columns), so a
    // load that fails leaves the database exactly as it was, not with a new empty table.
    // A child collection (memberships of each list) keeps a window per parent in ingestion_parents; its
    // run window starts at default_start_time, where a parent read for the first time starts.
    const stream = findStream(datasource.name);
    const child = stream?.parent !== undefined || stream?.report !== undefined;
    const window = await computeWindow(child ? null : destination, plan.schema, datasource, clock.now());
    if (options.start !== undefined && column) window.start_time = options.start;
    if (options.end !== undefined) window.end_time = options.end;
    report.startTime = window.start_time;
    report.endTime = window.end_time;
    if (column && destination) {
      const gaps = await gapsBefore(destination, plan.schema, datasource, window.start_time, options);
      if (gaps.length > 0) report.gaps = gaps;
    }

    const config = await plan.loadConfig(datasource, window);
    const fetcher = deps.fetcherFor(config.in.td_authentication_id);
    const source = getSource(config.in.data_source);
    const params = sourceParamsFrom(config, fetcher.revision);
    if (!writer) {
      report.requestHeaders = {
        Authorization: 'Klaviyo-API-Key ***',
        revision: fetcher.revision,
        Accept: 'application/vnd.api+json',
      };
      // A child collection's request per parent shows `{id}` (in its path or filter); a report is a POST.
      const show = (path: string, query: Record<string, string>) =>
        redact(fetcher.describeRequest(path, query)).replace(/%7Bid%7D/gi, '{id}');
      report.requests = source.plan(params, source.spec.parent ? '{id}' : undefined).map((stream) => {
        const url = show(stream.path, stream.query);
        return source.spec.report ? `POST ${url}` : url;
      });
      // Memberships also read each parent's member ids, whole (see load-children.ts).
      const memberIds = source.spec.parent?.memberIds;
      if (memberIds) {
        const whole = { ...params, windowField: null, window: { startMs: null, endMs: null } };
        for (const stream of collectionSource(memberIds).plan(whole))
          report.requests.push(show(stream.path, stream.query));
      }
      return report;
    }

    deps.progress?.(
      `${datasource.table_name}: loading ${window.start_time || '(full load)'} .. ${window.end_time}`,
    );
    events.emit({
      type: 'start',
      ...ref,
      windowStart: window.start_time,
      windowEnd: window.end_time,
    });
    stop.signal.throwIfAborted();
    if (config.mode === 'snapshot') assertFullRead(datasource, params, source.spec.implicitWindowField);
    const target: LoadTarget = {
      schema: plan.schema,
      table: datasource.table_name,
      mode: config.mode,
      windowColumn: column,
      // Snapshots and memberships (rows of profiles that left a list) mark rows deleted at the run's start.
      ...(config.mode === 'snapshot' || source.spec.parent?.memberIds
        ? { deletedAt: isoSeconds(startedAt) }
        : {}),
    };
    const load: LoadSourceInput = {
      source,
      params,
      fetcher,
      target,
      openSession: async () => {
        const session = await writer.openLoad(target);
        // Each commit (checkpoint or last) reported as it lands.
        return {
          write: (rows) => session.write(rows),
          abort: () => session.abort(),
          commit: async (logRows, parents) => {
            const result = await session.commit(logRows, parents);
            committed += result.inserted;
            events.emit({ type: 'commit', ...ref, inserted: result.inserted, committed });
            return result;
          },
        };
      },
      signal: stop.signal,
      ...(events.on
        ? {
            onPage: (counts: { rows: number; pages: number }, windowDone: number | null) =>
              events.emit({ type: 'page', ...ref, rows: counts.rows, pages: counts.pages, windowDone }),
          }
        : {}),
      loadTimeSeconds: Math.floor(startedAt / 1000),
      clock,
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
      ...(options.concurrency ? { workers: options.concurrency } : {}),
      logRows: (totals) => {
        const finishedAt = clock.now();
        return [
          logRow({
            ...base,
            status: 'SUCCESS',
            nowMs: finishedAt,
            startTime: window.start_time,
            endTime: window.end_time,
            records: totals.inserted,
            jobId,
            durationSeconds: (finishedAt - startedAt) / 1000,
          }),
        ];
      },
    };
    const outcome =
      source.spec.parent || source.spec.report
        ? await loadChildren({
            ...load,
            lookbackMs: datasource.lookbackMs,
            readCursors: () => readParentCursors(writer, plan.schema, datasource.table_name),
            parentWorkers: options.concurrency ?? WORKERS_BY_TIER[tierOf(source.spec.endpoint)],
          })
        : await loadSource(load);
    report.pages = outcome.pages;
    report.slices = outcome.slices;
    report.records = outcome.inserted;
    report.duplicatesSkipped = outcome.duplicatesSkipped;
    if (events.on) {
      events.emit({
        type: 'success',
        ...ref,
        records: report.records,
        duplicatesSkipped: report.duplicatesSkipped,
        pages: report.pages,
        durationMs: clock.now() - startedAt,
      });
    }
    if (outcome.markedDeleted !== undefined) report.markedDeleted = outcome.markedDeleted;
  } catch (error) {
    stop.failed(datasource.name, error);
    report.status = 'ERROR';
    if (stop.stoppedOthers(datasource.name)) {
      // Cut short by the run's stop: say so in one line; the cause is reported once, elsewhere.
      report.committed = committed;
      report.committedUpTo = await committedMax(writer, plan.schema, datasource.table_name, column);
      report.error = stoppedMessage(stop.describe(), committed, report.committedUpTo);
    } else {
      report.error = redact(errorMessage(error));
      if (committed > 0) report.committed = committed;
    }
    if (events.on) {
      events.emit({
        type: 'error',
        ...ref,
        message: report.error,
        committed,
        durationMs: clock.now() - startedAt,
      });
    }
    if (writer) {
      const row = logRow({
        ...base,
        status: 'ERROR',
        nowMs: clock.now(),
        startTime: report.startTime || null,
        endTime: report.endTime || null,
        errorMessage: `${datasource.name} (${datasource.table_name}) failed: ${report.error}`,
        jobId,
        durationSeconds: (clock.now() - startedAt) / 1000,
      });
      await writer.appendLog(plan.schema, [row]).catch(() => undefined);
    }
  } finally {
    report.durationMs = clock.now() - startedAt;
  }
  return report;
}

/** The table's window max after a stopped load's checkpoints: where a rerun resumes. */
async function committedMax(
  writer: Destination | null,
  schema: string,
  table: string,
  column: string | null,
): Promise<string | null> {
  if (!writer || !column) return null;
  const ms = await writer.maxTimestamp(schema, table, column).catch(() => null);
  return ms === null ? null : new Date(ms).toISOString();
}

function stoppedMessage(why: string, committed: number, upTo: string | null | undefined): string {
  if (committed === 0) return `${why}; nothing was committed, a rerun loads this window again`;
  const where = upTo ? ` (the table now holds data up to ${upTo})` : '';
  return `${why}; ${committed} rows were committed${where}, a rerun resumes from there`;
}

/** The never-loaded periods before this window (see gaps.ts); none when the log cannot be read. */
async function gapsBefore(
  destination: Destination,
  schema: string,
  datasource: DatasourceSpec,
  windowStart: string,
  options: RunOptions,
): Promise<Gap[]> {
  const logged = await loggedWindows(destination, schema, datasource.table_name).catch(() => null);
  if (logged === null) return [];
  return findGaps({
    defaultStart: datasource.default_start_time,
    windowStart,
    startOverridden: options.start !== undefined,
    logged,
  });
}
