// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/** The .dig files: timezone, the for_each loop, `_parallel.limit`, the logging tasks and their SQL. */
import type { SqlTask, WorkflowDefinition } from '../dig-file.js';
import { formatPath } from '../yaml.js';
import type { RuleContext, RuleGroup } from './types.js';

const MAX_PARALLEL_LIMIT = 3;

function checkSql(
  ctx: RuleContext,
  workflow: WorkflowDefinition,
  task: SqlTask | null,
  what: string,
  path: string[],
): void {
  const yaml = ctx.snapshot.files.parsed(workflow.file);
  if (!task) {
    ctx.report({
      code: 'LOGGING_MISSING',
      severity: 'error',
      file: workflow.file,
      line: yaml?.lineOf(path),
      key: formatPath(path),
      message: `no ${what} logging task (td>: sql/log_ingestion_${what}.sql)`,
      fix: `Add the +log_ingestion_${what} task of the template (td>: sql/log_ingestion_${what}.sql).`,
    });
    return;
  }
  if (!ctx.snapshot.files.exists(task.sqlFile)) {
    const at = [...path, task.taskName, 'td>'];
    ctx.report({
      code: 'LOGGING_SQL_MISSING',
      severity: 'error',
      file: workflow.file,
      line: yaml?.lineOf(at),
      key: formatPath(at),
      message: `${task.taskName} runs ${task.sqlFile}, which does not exist`,
      fix: `Create ${task.sqlFile} (klaviyo-ingest init writes it).`,
    });
  }
}

export const workflowRules: RuleGroup = {
  name: 'workflows',
  codes: [
    'TIMEZONE',
    'FOR_EACH_MISSING',
    'DATASOURCE_LIST_MISSING',
    'PARALLEL_LIMIT_MISSING',
    'PARALLEL_LIMIT_TOO_HIGH',
    'LOAD_TASK_MISSING',
    'LOGGING_MISSING',
    'LOGGING_SQL_MISSING',
  ],
  check(ctx) {
    for (const workflow of Object.values(ctx.snapshot.workflows)) {
      const yaml = ctx.snapshot.files.parsed(workflow.file);
      const file = workflow.file;
      if (workflow.timezone !== 'UTC') {
        ctx.report({
          code: 'TIMEZONE',
          severity: workflow.timezone === null ? 'warning' : 'error',
          file,
          line: yaml?.lineOf(['timezone']),
          key: 'timezone',
          message:
            workflow.timezone === null
              ? 'timezone is not set (Digdag defaults to UTC; the templates write it)'
              : `timezone is ${workflow.timezone}; the Klaviyo windows are UTC`,
          fix: 'Write "timezone: UTC" at the top of the file.',
        });
      }
      const loop = workflow.loop;
      if (!loop) {
        ctx.report({
          code: 'FOR_EACH_MISSING',
          severity: 'error',
          file,
          message: 'no for_each> task iterating the datasources',
          fix: 'Add the +load_incremental_data task of the template (for_each>: datasource: ${inc_datasources}).',
        });
      } else {
        const loopPath = [loop.taskName];
        if (loop.listName && !Object.hasOwn(workflow.exports, loop.listName)) {
          const at = [loop.taskName, 'for_each>', loop.variable];
          ctx.report({
            code: 'DATASOURCE_LIST_MISSING',
            severity: 'error',
            file,
            line: yaml?.lineOf(at),
            key: formatPath(at),
            message: `for_each> iterates \${${loop.listName}}, which no _export or !include defines`,
            fix: `Define ${loop.listName} in config/klaviyo_datasources.yml and !include it in _export.`,
          });
        }
        if (loop.parallelLimit === null) {
          ctx.report({
            code: 'PARALLEL_LIMIT_MISSING',
            severity: 'error',
            file,
            line: yaml?.lineOf([...loopPath, '_parallel']) ?? yaml?.lineOf(loopPath),
            key: formatPath([...loopPath, '_parallel', 'limit']),
            message: `${loop.taskName} has no _parallel.limit (needed to respect Klaviyo's rate limits)`,
            fix: `Add "_parallel:\\n    limit: ${MAX_PARALLEL_LIMIT}" to ${loop.taskName}.`,
          });
        } else if (loop.parallelLimit > MAX_PARALLEL_LIMIT) {
          ctx.report({
            code: 'PARALLEL_LIMIT_TOO_HIGH',
            severity: 'error',
            file,
            line: yaml?.lineOf([...loopPath, '_parallel', 'limit']),
            key: formatPath([...loopPath, '_parallel', 'limit']),
            message: `_parallel.limit is ${loop.parallelLimit}; at most ${MAX_PARALLEL_LIMIT} sources may load at once`,
            fix: `Set _parallel.limit to ${MAX_PARALLEL_LIMIT} or less.`,
          });
        }
        if (!loop.load) {
          ctx.report({
            code: 'LOAD_TASK_MISSING',
            severity: 'error',
            file,
            line: yaml?.lineOf([...loopPath, '_do']),
            key: formatPath([...loopPath, '_do']),
            message: `${loop.taskName} has no td_load> task`,
            fix: 'Add "+load_incremental:\\n  td_load>: config/${datasource.config_file}" to _do.',
          });
        }
        checkSql(ctx, workflow, loop.logStart, 'start', [...loopPath, '_do']);
        checkSql(ctx, workflow, loop.logSuccess, 'success', [...loopPath, '_do']);
      }
      checkSql(ctx, workflow, workflow.errorTask, 'error', ['_error']);
    }
  },
};
