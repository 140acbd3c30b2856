// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings hold Digdag ${...} syntax on purpose
/**
 * Project edits that do not take effect. klaviyo-ingest does the templates' built-in steps itself
 * (logging rows, table setup and the window, the load's database and table), so edits to those tasks
 * of a `.dig` file and to `sql/log_ingestion_*.sql`, and tasks added to a workflow, are not run. What
 * does take effect: `timezone`, `_export` and its `!include`s (datasource lists, databases), the
 * `for_each>` list, `_parallel.limit`, the `td_load>` config path, and the `_error` task's
 * `source_name` / `workflow_name` / `error_message`. Each edit that does not is a warning with the
 * file, line and what to do instead; a run prints these warnings before it starts.
 *
 * The reference is the text `init` writes (src/scaffold): the engine reproduces exactly that.
 */
import {
  HIST_WORKFLOW,
  INC_WORKFLOW,
  LOG_ERROR_SQL,
  LOG_START_SQL,
  LOG_SUCCESS_SQL,
} from '../../scaffold/index.js';
import type { WorkflowDefinition } from '../dig-file.js';
import { formatPath, isPlainObject, parseYamlFile } from '../yaml.js';
import type { RuleContext, RuleGroup } from './types.js';

/** What takes effect, for the messages. */
const TAKES_EFFECT =
  'what takes effect in a .dig: timezone, _export/!include (datasource lists, databases), the for_each> list, _parallel.limit, the td_load> config path, and _error source_name/workflow_name/error_message';

const LOG_ROW_WHY =
  'klaviyo-ingest writes the ingestion_log rows itself, with the template columns and values (status STARTED/SUCCESS/ERROR, which status, resuming and gap detection read), and does not run this file';

const BUILT_IN_SQL: Readonly<Record<string, string>> = {
  'sql/log_ingestion_start.sql': LOG_START_SQL,
  'sql/log_ingestion_success.sql': LOG_SUCCESS_SQL,
  'sql/log_ingestion_error.sql': LOG_ERROR_SQL,
};

/** Top-level keys of a .dig file that are read. */
const READ_TOP_KEYS = new Set(['timezone', '_export', '_error']);

/** A SQL line without its `--` comment and with runs of blanks as one space. */
function sqlLine(line: string): string {
  return line.replace(/--.*$/, '').replace(/\s+/g, ' ').trim();
}

/** The 1-based line of `text` where it first differs from `reference` (comments and blanks aside), or null. */
export function firstSqlDifference(text: string, reference: string): number | null {
  const mine = text
    .split('\n')
    .map((raw, i) => ({ line: i + 1, sql: sqlLine(raw) }))
    .filter((l) => l.sql !== '');
  const theirs = reference
    .split('\n')
    .map(sqlLine)
    .filter((l) => l !== '');
  for (let i = 0; i < Math.max(mine.length, theirs.length); i++) {
    if (mine[i]?.sql !== theirs[i]) return mine[i]?.line ?? mine.at(-1)?.line ?? 1;
  }
  return null;
}

/** Task configs compared as values, with blanks in strings folded (a re-indented query is the same query). */
function normalised(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'string' ? v.replace(/\s+/g, ' ').trim() : v)) ?? '';
}

/**
 * The key path of the first place `mine` differs from `reference` (a key added, removed or changed),
 * as deep as both are mappings; null when they are the same. A removed key points at its parent.
 */
export function firstDifference(mine: unknown, reference: unknown): string[] | null {
  if (normalised(mine) === normalised(reference)) return null;
  if (!isPlainObject(mine) || !isPlainObject(reference)) return [];
  for (const key of Object.keys({ ...reference, ...mine })) {
    const deeper = firstDifference(mine[key], reference[key]);
    if (deeper === null) continue;
    return Object.hasOwn(mine, key) ? [key, ...deeper] : [];
  }
  return [];
}

type Role = 'logStart' | 'setup' | 'load' | 'logSuccess';

/** The role a `_do` step plays, by what it runs (names may differ from the template's). */
function roleOf(config: Readonly<Record<string, unknown>>): Role | null {
  if (config['if>'] !== undefined) return 'setup';
  if (config['td_load>'] !== undefined) return 'load';
  const sql = config['td>'];
  if (typeof sql === 'string' && /log_ingestion_start\.sql$/.test(sql)) return 'logStart';
  if (typeof sql === 'string' && /log_ingestion_success\.sql$/.test(sql)) return 'logSuccess';
  return null;
}

interface TemplateWorkflow {
  steps: Map<Role, Record<string, unknown>>;
  error: Record<string, unknown>;
}

function templateOf(text: string): TemplateWorkflow {
  const value = parseYamlFile('template.dig', text, { includes: true }).value as Record<string, unknown>;
  const loop = Object.values(value).find((v) => isPlainObject(v) && v['for_each>'] !== undefined) as Record<
    string,
    unknown
  >;
  const steps = new Map<Role, Record<string, unknown>>();
  for (const config of Object.values(loop._do as Record<string, unknown>)) {
    if (!isPlainObject(config)) continue;
    const role = roleOf(config);
    if (role) steps.set(role, config);
  }
  const error = Object.values(value._error as Record<string, unknown>)[0] as Record<string, unknown>;
  return { steps, error };
}

const TEMPLATES = { inc: templateOf(INC_WORKFLOW), hist: templateOf(HIST_WORKFLOW) };

/** The parts of a step the engine does not read, as the template writes them (compared to the file's). */
function ignoredParts(role: Role, config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (role === 'load') {
    // The td_load> path takes effect; database and table are always databases.src and table_name.
    const { 'td_load>': _path, ...rest } = config;
    return rest;
  }
  return { ...config };
}

const ROLE_WHAT: Record<Role, string> = {
  logStart: `the STARTED log row (${LOG_ROW_WHY.split(',')[0]})`,
  setup:
    'table setup and the window (start = the table max of incremental_field, or default_start_time; end = now)',
  load: 'the load target (always table ${datasource.table_name} in ${databases.src})',
  logSuccess: `the SUCCESS log row (${LOG_ROW_WHY.split(',')[0]})`,
};

function checkWorkflow(ctx: RuleContext, workflow: WorkflowDefinition): void {
  const yaml = ctx.snapshot.files.parsed(workflow.file);
  const template = workflow.loop?.listName?.startsWith('hist') ? TEMPLATES.hist : TEMPLATES.inc;
  const warn = (code: string, at: (string | number)[], message: string, fix: string) =>
    ctx.report({
      code,
      severity: 'warning',
      file: workflow.file,
      line: yaml?.lineOf(at),
      key: formatPath(at),
      message,
      fix,
    });

  for (const [key, value] of Object.entries(workflow.raw)) {
    if (READ_TOP_KEYS.has(key) || key.startsWith('!include')) continue;
    if (key === workflow.loop?.taskName) continue;
    if (key.startsWith('+')) {
      warn(
        'DIG_TASK_NOT_RUN',
        [key],
        `task ${key} is not run: klaviyo-ingest runs only the for_each> over the datasources (and _error)`,
        `run it yourself after klaviyo-ingest (e.g. query, psql or duckdb against the destination), or remove it; ${TAKES_EFFECT}`,
      );
    } else if (key === 'schedule') {
      warn(
        'DIG_KEY_NOT_APPLIED',
        [key],
        'schedule: is not applied (there is no Digdag server)',
        'schedule the runs with klaviyo-ingest run inc --every/--cron, cron, a systemd timer or a Kubernetes CronJob',
      );
    } else if (!isPlainObject(value) || key.startsWith('_')) {
      warn('DIG_KEY_NOT_APPLIED', [key], `${key}: is not applied`, `remove it; ${TAKES_EFFECT}`);
    }
  }

  const loop = workflow.loop;
  if (loop) {
    for (const step of loop.steps) {
      const at = [loop.taskName, '_do', step.taskName];
      const role = roleOf(step.config);
      if (role === null) {
        warn(
          'DIG_TASK_NOT_RUN',
          at,
          `task ${step.taskName} in ${loop.taskName} is not run: klaviyo-ingest does the template steps (log start, setup, load, log success) itself and runs no other task`,
          `run it yourself after klaviyo-ingest, or remove it; ${TAKES_EFFECT}`,
        );
        continue;
      }
      const reference = template.steps.get(role);
      if (!reference) continue;
      const changed = firstDifference(ignoredParts(role, step.config), ignoredParts(role, reference));
      if (changed !== null) {
        warn(
          'DIG_TASK_EDIT_NOT_APPLIED',
          [...at, ...changed],
          `the edit of ${formatPath([step.taskName, ...changed])} has no effect: klaviyo-ingest does ${ROLE_WHAT[role]} itself`,
          `restore the template task (klaviyo-ingest init <new dir> writes it); ${TAKES_EFFECT}`,
        );
      }
    }
  }

  const errorTask = workflow.errorTask;
  if (errorTask) {
    const mine = workflow.raw._error as Record<string, unknown>;
    const config = mine[errorTask.taskName] as Record<string, unknown>;
    for (const key of Object.keys({ ...config, ...template.error })) {
      if (['source_name', 'workflow_name', 'error_message'].includes(key)) continue;
      if (normalised(config[key]) === normalised(template.error[key])) continue;
      warn(
        'DIG_TASK_EDIT_NOT_APPLIED',
        Object.hasOwn(config, key) ? ['_error', errorTask.taskName, key] : ['_error', errorTask.taskName],
        `the edit of _error ${errorTask.taskName} (${key}) has no effect: the error row goes to ${'${databases.src}'}.ingestion_log in the template layout`,
        'of this task only source_name, workflow_name and error_message take effect',
      );
    }
    for (const other of Object.keys(mine).filter((k) => k.startsWith('+') && k !== errorTask.taskName)) {
      warn(
        'DIG_TASK_NOT_RUN',
        ['_error', other],
        `task ${other} in _error is not run: klaviyo-ingest writes the error log row and runs no other task`,
        'alert from the run exit code (1) or from klaviyo-ingest status instead',
      );
    }
  }
}

function checkSqlFiles(ctx: RuleContext): void {
  for (const [file, reference] of Object.entries(BUILT_IN_SQL)) {
    if (!ctx.snapshot.files.exists(file)) continue; // LOGGING_SQL_MISSING reports a missing one
    const text = ctx.snapshot.files.read(file);
    const line = firstSqlDifference(text, reference);
    if (line === null) continue;
    const shown = text.split('\n')[line - 1]?.trim() ?? '';
    ctx.report({
      code: 'SQL_EDIT_NOT_APPLIED',
      severity: 'warning',
      file,
      line,
      message: `${file} differs from the template at line ${line} (${shown.slice(0, 60)}): the edit has no effect, as ${LOG_ROW_WHY}`,
      fix: `restore the template text (klaviyo-ingest init <new dir> writes it); to log or report differently, build a view over ${'${databases.src}'}.ingestion_log`,
    });
  }
}

export const engineStepRules: RuleGroup = {
  name: 'engine-steps',
  codes: ['SQL_EDIT_NOT_APPLIED', 'DIG_TASK_EDIT_NOT_APPLIED', 'DIG_TASK_NOT_RUN', 'DIG_KEY_NOT_APPLIED'],
  check(ctx) {
    for (const workflow of Object.values(ctx.snapshot.workflows)) checkWorkflow(ctx, workflow);
    checkSqlFiles(ctx);
  },
};
