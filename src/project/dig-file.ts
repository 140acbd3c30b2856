// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * A `.dig` file read into what the runner needs: timezone, the exported params (includes merged),
 * the `for_each>` loop (variable, list, `_parallel.limit`), the steps of one iteration and the
 * `_error` task. Task params stay unfilled (`${...}` text); the runner fills them per task.
 */
import { configError } from '../util/errors.js';
import type { Datasource } from './config-files.js';
import type { ProjectFiles } from './files.js';
import { expandIncludes, keyOrigins } from './include.js';
import { formatPath, isPlainObject, type YamlFile } from './yaml.js';

/** A `td>` task running a SQL file, with its other params (database, source_name, ...) unfilled. */
export interface SqlTask {
  /** `+log_ingestion_start` */
  taskName: string;
  /** `sql/log_ingestion_start.sql` */
  sqlFile: string;
  params: Readonly<Record<string, unknown>>;
}

export interface LoadStep {
  taskName: string;
  /** The td_load> argument as written, e.g. `config/${datasource.config_file}`. */
  configPathTemplate: string;
  params: Readonly<Record<string, unknown>>;
}

export interface SetupStep {
  taskName: string;
  /** The if> condition as written, e.g. `${datasource.incremental_field != "" && ...}`. */
  condition: string;
  /** Child task names of `_do` / `_else_do` (their SQL is the engine's job). */
  thenTasks: readonly string[];
  elseTasks: readonly string[];
}

export interface ForEachLoop {
  taskName: string;
  /** `datasource` */
  variable: string;
  /** The list expression as written: `${inc_datasources}`. */
  listExpression: string;
  /** `inc_datasources` when the expression is `${<name>}`; null otherwise. */
  listName: string | null;
  /** `_parallel: {limit: N}` -> N; null when absent (or `_parallel: true`). */
  parallelLimit: number | null;
  /** Whether `_parallel` is set at all (true or a limit). */
  parallel: boolean;
  logStart: SqlTask | null;
  setup: SetupStep | null;
  load: LoadStep | null;
  logSuccess: SqlTask | null;
  /** Every `+task` of `_do` in order, raw. */
  steps: readonly { taskName: string; config: Readonly<Record<string, unknown>> }[];
}

export interface ErrorTask extends SqlTask {
  source_name: string | null;
  workflow_name: string | null;
  error_message: string | null;
  database: string | null;
}

export interface WorkflowDefinition {
  /** `klaviyo_ingest_inc.dig` (relative to the project folder). */
  file: string;
  /** `klaviyo_ingest_inc` */
  name: string;
  /** `timezone:` as written; null when absent (Digdag's default is UTC). */
  timezone: string | null;
  /** `_export` with every `!include` merged in. */
  exports: Readonly<Record<string, unknown>>;
  /** For exported keys that came from an `!include`: the included file. */
  exportOrigins: Readonly<Record<string, string>>;
  loop: ForEachLoop | null;
  errorTask: ErrorTask | null;
  /** The datasources the loop iterates, when its list names an exported list of mappings. */
  datasources: readonly Datasource[] | null;
  /** The whole file, includes expanded. */
  raw: Readonly<Record<string, unknown>>;
}

function tasksOf(group: Record<string, unknown>): { taskName: string; config: Record<string, unknown> }[] {
  return Object.entries(group)
    .filter(([k, v]) => k.startsWith('+') && isPlainObject(v))
    .map(([taskName, config]) => ({ taskName, config: config as Record<string, unknown> }));
}

function withoutOperator(config: Record<string, unknown>, operator: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => k !== operator && !k.startsWith('_')));
}

function findSqlTask(
  tasks: { taskName: string; config: Record<string, unknown> }[],
  sqlName: string,
): SqlTask | null {
  for (const { taskName, config } of tasks) {
    const sql = config['td>'];
    if (typeof sql === 'string' && (sql === sqlName || sql.endsWith(`/${sqlName}`))) {
      return { taskName, sqlFile: sql, params: withoutOperator(config, 'td>') };
    }
  }
  const byName = tasks.find((t) => t.taskName === `+${sqlName.replace(/\.sql$/, '')}`);
  if (byName && typeof byName.config['td>'] === 'string') {
    return {
      taskName: byName.taskName,
      sqlFile: byName.config['td>'],
      params: withoutOperator(byName.config, 'td>'),
    };
  }
  return null;
}

function readLoop(taskName: string, config: Record<string, unknown>, yaml: YamlFile): ForEachLoop {
  const forEach = config['for_each>'];
  const at = [taskName, 'for_each>'];
  const entries = isPlainObject(forEach) ? Object.entries(forEach) : [];
  const first = entries[0];
  if (!first || entries.length !== 1 || typeof first[1] !== 'string') {
    throw configError(
      'for_each> must map one variable to a list expression, e.g. "datasource: ${inc_datasources}"',
      {
        code: 'WORKFLOW_FOR_EACH',
        file: yaml.file,
        key: formatPath(at),
        line: yaml.lineOf(at),
        fix: 'Write "for_each>:\\n    datasource: ${inc_datasources}".',
      },
    );
  }
  const [variable, listExpression] = first as [string, string];
  const listName = /^\$\{\s*([A-Za-z_]\w*)\s*\}$/.exec(listExpression.trim())?.[1] ?? null;
  const parallelRaw = config._parallel;
  let parallelLimit: number | null = null;
  if (isPlainObject(parallelRaw) && parallelRaw.limit !== undefined && parallelRaw.limit !== null) {
    const limit = Number(parallelRaw.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      throw configError(
        `_parallel.limit must be a positive whole number, got ${JSON.stringify(parallelRaw.limit)}`,
        {
          code: 'WORKFLOW_PARALLEL',
          file: yaml.file,
          key: formatPath([taskName, '_parallel', 'limit']),
          line: yaml.lineOf([taskName, '_parallel', 'limit']),
          fix: 'Write "_parallel:\\n    limit: 3".',
        },
      );
    }
    parallelLimit = limit;
  }
  const parallel = parallelRaw === true || parallelRaw === 'true' || parallelLimit !== null;
  const doGroup = isPlainObject(config._do) ? config._do : {};
  const steps = tasksOf(doGroup);
  const ifStep = steps.find((s) => s.config['if>'] !== undefined);
  const loadStep = steps.find((s) => s.config['td_load>'] !== undefined);
  return {
    taskName,
    variable,
    listExpression,
    listName,
    parallelLimit,
    parallel,
    logStart: findSqlTask(steps, 'log_ingestion_start.sql'),
    setup: ifStep
      ? {
          taskName: ifStep.taskName,
          condition: String(ifStep.config['if>']),
          thenTasks: isPlainObject(ifStep.config._do)
            ? tasksOf(ifStep.config._do).map((t) => t.taskName)
            : [],
          elseTasks: isPlainObject(ifStep.config._else_do)
            ? tasksOf(ifStep.config._else_do).map((t) => t.taskName)
            : [],
        }
      : null,
    load: loadStep
      ? {
          taskName: loadStep.taskName,
          configPathTemplate: String(loadStep.config['td_load>']),
          params: withoutOperator(loadStep.config, 'td_load>'),
        }
      : null,
    logSuccess: findSqlTask(steps, 'log_ingestion_success.sql'),
    steps,
  };
}

function text(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

/** Read and interpret one `.dig` file. `datasources` is filled by the project loader. */
export function readWorkflow(files: ProjectFiles, file: string): Omit<WorkflowDefinition, 'datasources'> {
  const yaml = files.yaml(file, { includes: true, fix: `Create ${file}.` });
  const expanded = expandIncludes(files, yaml);
  if (!isPlainObject(expanded)) {
    throw configError('a workflow file must be a YAML mapping', {
      code: 'WORKFLOW_NOT_MAPPING',
      file,
      fix: 'Start from the template: klaviyo-ingest init.',
    });
  }
  const exportsRaw = expanded._export;
  const exports = isPlainObject(exportsRaw) ? exportsRaw : {};
  const tasks = tasksOf(expanded);
  const loopTask = tasks.find((t) => t.config['for_each>'] !== undefined);
  const errorGroup = isPlainObject(expanded._error) ? expanded._error : {};
  const errorSql = findSqlTask(tasksOf(errorGroup), 'log_ingestion_error.sql');
  return {
    file,
    name:
      file
        .replace(/\.dig$/, '')
        .split('/')
        .pop() ?? file,
    timezone: text(expanded.timezone),
    exports,
    exportOrigins: keyOrigins(exports),
    loop: loopTask ? readLoop(loopTask.taskName, loopTask.config, yaml) : null,
    errorTask: errorSql
      ? {
          ...errorSql,
          source_name: text(errorSql.params.source_name),
          workflow_name: text(errorSql.params.workflow_name),
          error_message: text(errorSql.params.error_message),
          database: text(errorSql.params.database),
        }
      : null,
    raw: expanded,
  };
}
