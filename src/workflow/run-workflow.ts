import { configError } from '../util/errors.js';
import { logRow } from './log-rows.js';
import { runPool } from './pool.js';
import { runDatasource } from './run-datasource.js';
import type { DatasourceSpec, RunDeps, RunOptions, RunReport, WorkflowPlan } from './types.js';

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
  const datasources = selectDatasources(plan, options.sources);
  if (!options.dryRun) await deps.destination?.ensureSchema(plan.schema);
  const sources = await runPool(datasources, plan.parallelLimit, (datasource) =>
    runDatasource(plan, datasource, deps, options),
  );
  const ok = sources.every((s) => s.status !== 'ERROR');
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
  return { workflow: plan.file, ok, sources, durationMs: deps.clock.now() - startedAt };
}
