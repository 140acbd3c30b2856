import { tierOf } from '../klaviyo/rate-tiers.js';
import { findStream, getSource } from '../sources/registry.js';
import { errorMessage } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { readParentCursors } from '../warehouse/parent-cursors.js';
import { loadChildren } from './load-children.js';
import { type LoadSourceInput, loadSource, WORKERS_BY_TIER } from './load-source.js';
import { logRow } from './log-rows.js';
import { sourceParamsFrom } from './source-params.js';
import type { DatasourceSpec, RunDeps, RunOptions, SourceReport, WorkflowPlan } from './types.js';
import { computeWindow, incrementalColumn } from './window.js';

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
): Promise<SourceReport> {
  const { destination, clock } = deps;
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

    const column = incrementalColumn(datasource);
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
      // A child collection's request per parent shows `{id}`; a report is a POST.
      report.requests = source.plan(params).map((stream) => {
        const url = redact(fetcher.describeRequest(stream.path, stream.query)).replace(/%7Bid%7D/gi, '{id}');
        return source.spec.report ? `POST ${url}` : url;
      });
      return report;
    }

    deps.progress?.(
      `${datasource.table_name}: loading ${window.start_time || '(full load)'} .. ${window.end_time}`,
    );
    const target = {
      schema: plan.schema,
      table: datasource.table_name,
      mode: config.mode,
      windowColumn: column,
    };
    const load: LoadSourceInput = {
      source,
      params,
      fetcher,
      target,
      openSession: () => writer.openLoad(target),
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
  } catch (error) {
    report.status = 'ERROR';
    report.error = redact(errorMessage(error));
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
