import { configError } from '../util/errors.js';
import { logRow } from './log-rows.js';
import { runPool } from './pool.js';
import { runDatasource } from './run-datasource.js';
import { emitter } from './run-events.js';
import { RunStop } from './run-stop.js';
import type { DatasourceSpec, RunDeps, RunOptions, RunReport, SourceReport, WorkflowPlan } from './types.js';

/** The datasources `--sources` picks (all when none); throws UNKNOWN_SOURCE_SELECTED for a name the plan lacks. */
export function selectDatasources(plan: WorkflowPlan, names: string[] | undefined): DatasourceSpec[] {
  if (!names || names.length === 0) return plan.datasources;
  const unknown = names.filter((n) => !plan.datasources.some((d) => d.name === n || d.table_name === n));
  if (unknown.length > 0) {
    const known = plan.datasources.map((d) => d.name).join(', ');
    throw configError(`--sources names ${unknown.join(', ')}, which ${plan.file} does not list`, {
      code: 'UNKNOWN_SOURCE_SELECTED',
      key: '--sources',
      fix: `choose from: ${known} (a datasource's name or table_name)`,
    });
  }
  return plan.datasources.filter((d) => names.includes(d.name) || names.includes(d.table_name));
}

/**
 * The templates' `+load_*_data` for_each over the datasources, with at most `_parallel.limit` sources in
 * flight (a rolling pool), each isolated from the others' failures; then the root `_error` task once
 * if anything failed.
 */
export async function runWorkflow(
  plan: WorkflowPlan,
  deps: RunDeps,
  options: RunOptions = {},
): Promise<RunReport> {
  const startedAt = deps.clock.now();
  const events = emitter(deps.events, () => deps.clock.now());
  const stop = new RunStop(options.signal);
  const datasources = selectDatasources(plan, options.sources);
  events.emit({
    type: 'run-start',
    runId: deps.runId,
    workflow: plan.file,
    sources: datasources.map((d) => ({ source: d.name, table: d.table_name })),
  });
  let interrupted: string[] = [];
  if (!options.dryRun && deps.destination) {
    await deps.destination.ensureSchema(plan.schema);
    interrupted = await closeInterruptedRuns(plan, datasources, deps);
  }
  const sources = await runPool(datasources, plan.parallelLimit, (datasource) =>
    stop.stopped
      ? Promise.resolve(skipped(datasource, stop.describe()))
      : runDatasource(plan, datasource, deps, options, stop, events),
  );
  const ok = sources.every((s) => s.status !== 'ERROR' && s.status !== 'SKIPPED');
  if (!ok && !options.dryRun && plan.errorLog) {
    const { source_name, workflow_name, error_message } = plan.errorLog;
    await deps.destination?.appendLog(plan.schema, [
      logRow({
        status: 'ERROR',
        sourceName: source_name,
        workflowName: workflow_name,
        tableName: null,
        nowMs: deps.clock.now(),
        errorMessage: error_message,
      }),
    ]);
  }
  const durationMs = deps.clock.now() - startedAt;
  events.emit({ type: 'run-end', ok, durationMs, stoppedBy: stop.stoppedBy });
  return {
    workflow: plan.file,
    ok,
    sources,
    durationMs,
    ...(stop.stoppedBy === null ? {} : { stoppedBy: stop.stoppedBy }),
    ...(interrupted.length > 0 ? { interrupted } : {}),
  };
}

/** A source the run never started because it was stopped first: no log row, nothing touched. */
function skipped(datasource: DatasourceSpec, why: string): SourceReport {
  return {
    name: datasource.name,
    table: datasource.table_name,
    status: 'SKIPPED',
    startTime: '',
    endTime: '',
    records: 0,
    duplicatesSkipped: 0,
    pages: 0,
    slices: 0,
    durationMs: 0,
    jobId: '',
    error: `not started: ${why}`,
  };
}

/**
 * A run that was killed (SIGKILL, a crash, the machine stopped) leaves its STARTED rows as the tables'
 * last word. Before loading, each such table of this run gets an ERROR row saying the run was
 * interrupted, so `status` and the log tell the truth; what it committed stays, and this run resumes
 * from the table's max. The destination reports no table while another run is loading the schema.
 */
async function closeInterruptedRuns(
  plan: WorkflowPlan,
  datasources: readonly DatasourceSpec[],
  deps: RunDeps,
): Promise<string[]> {
  const destination = deps.destination;
  if (!destination) return [];
  const unfinished = await destination.unfinishedLoads(plan.schema);
  const rows = [];
  const tables: string[] = [];
  for (const datasource of datasources) {
    const load = unfinished.find((u) => u.table === datasource.table_name);
    if (!load) continue;
    tables.push(datasource.table_name);
    const since = new Date(load.startedAt * 1000).toISOString();
    rows.push(
      logRow({
        status: 'ERROR',
        sourceName: datasource.table_name,
        workflowName: datasource.workflow_name,
        tableName: datasource.table_name,
        nowMs: deps.clock.now(),
        errorMessage:
          `interrupted: the run that started loading ${datasource.table_name} at ${since} never finished ` +
          "(killed, or the machine stopped); its uncommitted rows were dropped and the next run resumes from the table's max",
      }),
    );
  }
  if (rows.length > 0) await destination.appendLog(plan.schema, rows);
  return tables;
}
