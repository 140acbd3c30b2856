import path from 'node:path';
import { srcSchema } from '../project/databases.js';
import type { Datasource, Project, WorkflowDefinition } from '../project/index.js';
import { parseLookback } from '../project/lookback.js';
import { configError } from '../util/errors.js';
import type { WriteMode } from '../warehouse/destination.js';
import type { DatasourceSpec, LoadInput, WorkflowPlan } from './types.js';

const WRITE_MODES: readonly WriteMode[] = ['append', 'replace', 'merge', 'snapshot'];

function writeMode(value: unknown, file: string, key: string): WriteMode {
  if (typeof value === 'string' && (WRITE_MODES as readonly string[]).includes(value))
    return value as WriteMode;
  throw configError(`mode '${String(value)}' is not a write mode we support`, {
    code: 'UNKNOWN_OUT_MODE',
    file,
    key,
    fix: `use one of: ${WRITE_MODES.join(', ')}`,
  });
}

function toSpec(datasource: Datasource): DatasourceSpec {
  return {
    name: datasource.name,
    table_name: datasource.table_name,
    config_file: datasource.config_file,
    incremental_field: datasource.incremental_field,
    incremental_field_connector: datasource.incremental_field_connector,
    default_start_time: datasource.default_start_time,
    workflow_name: datasource.workflow_name,
    // validate (rule BAD_LOOKBACK) has rejected a lookback that is not a duration.
    lookbackMs: parseLookback(datasource.lookback) ?? 0,
  };
}

/** `inc`, `hist`, a workflow name, or a path to a .dig file -> the workflow definition. */
export function resolveWorkflow(project: Project, name: string): WorkflowDefinition {
  const aliases: Record<string, string> = { inc: 'klaviyo_ingest_inc', hist: 'klaviyo_ingest_hist' };
  const wanted = aliases[name] ?? path.basename(name).replace(/\.dig$/, '');
  return project.workflow(wanted);
}

/** What the runner needs from a project and one of its workflows. */
export function planFromProject(project: Project, workflow: WorkflowDefinition): WorkflowPlan {
  const loop = workflow.loop;
  if (!loop || !workflow.datasources) {
    throw configError(`${workflow.file} has no for_each> over a datasources list`, {
      code: 'FOR_EACH_MISSING',
      file: workflow.file,
      fix: 'keep the templates\' "+load_incremental_data: for_each>: {datasource: ${inc_datasources}}" task',
    });
  }
  const schema = srcSchema(project);
  const specs = workflow.datasources.map(toSpec);
  const byTable = new Map(workflow.datasources.map((d) => [d.table_name, d]));
  const error = workflow.errorTask;
  return {
    file: workflow.file,
    schema,
    // Digdag runs for_each iterations one at a time when there is no _parallel.
    parallelLimit: loop.parallelLimit ?? (loop.parallel ? specs.length : 1),
    datasources: specs,
    errorLog:
      error && error.source_name !== null
        ? {
            source_name: error.source_name,
            workflow_name: error.workflow_name ?? workflow.name,
            error_message: error.error_message ?? `${workflow.name} failed`,
          }
        : null,
    async loadConfig(spec, lastResults) {
      const datasource = byTable.get(spec.table_name);
      if (!datasource) throw new Error(`internal: datasource ${spec.table_name} not in ${workflow.file}`);
      const { file, config } = project.readLoadConfig(datasource, lastResults, { workflow });
      return {
        file,
        in: config.in as LoadInput,
        mode: writeMode(config.out.mode, file, 'out.mode'),
      };
    },
  };
}
