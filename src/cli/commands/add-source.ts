import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import {
  type AddSourcePlan,
  type LoadType,
  planAddDatasource,
  type WorkflowChoice,
} from '../../project/add-datasource.js';
import { type Finding, readProjectSnapshot, validateProject } from '../../project/index.js';
import { LOAD_CONFIG_EVENTS, LOAD_CONFIG_METRICS, LOAD_CONFIG_STANDARD } from '../../scaffold/index.js';
import { configError } from '../../util/errors.js';
import { redact } from '../../util/redact.js';
import { DEFAULT_PROJECT_DIR } from './init.js';

interface AddSourceFlags {
  tableField?: string;
  apiField?: string;
  eventsLike: boolean;
  fullLoad: boolean;
  workflow: string;
  project?: string;
  json: boolean;
}

const LOAD_CONFIGS: Record<LoadType, string> = {
  standard: LOAD_CONFIG_STANDARD,
  'events-like': LOAD_CONFIG_EVENTS,
  'full-load': LOAD_CONFIG_METRICS,
};

const LOAD_TYPE_NAMES: Record<LoadType, string> = {
  standard: 'Type 1, incremental',
  'events-like': 'Type 2, events-like',
  'full-load': 'Type 3, full load',
};

const WORKFLOWS = ['inc', 'hist', 'both'] as const;

function workflowOf(value: string): WorkflowChoice {
  if ((WORKFLOWS as readonly string[]).includes(value)) return value as WorkflowChoice;
  throw configError(
    `--workflow must be one of ${WORKFLOWS.join(', ')}, got '${value}'; nothing was written`,
    {
      code: 'CLI_FLAG',
      key: '--workflow',
      fix: 'e.g. --workflow inc',
    },
  );
}

const SKIPPED_IN_COPY = /(?:\.duckdb(?:\.wal|\.tmp)?|[/\\]\.git|[/\\]node_modules)$/;

const findingId = (f: Finding) => `${f.code}|${f.file}|${f.key ?? ''}|${f.message}`;

/**
 * The project with the plan applied, validated in a temp copy: the errors it would bring that the
 * project does not have now (only those, so a project's own unrelated findings do not block it).
 */
function newErrors(projectDir: string, plan: AddSourcePlan): Finding[] {
  const env = process.env;
  const before = new Set(
    validateProject(projectDir, { env })
      .findings.filter((f) => f.severity === 'error')
      .map(findingId),
  );
  const staging = mkdtempSync(path.join(os.tmpdir(), 'klaviyo-ingest-add-source-'));
  try {
    const copy = path.join(staging, path.basename(path.resolve(projectDir)));
    // The files validation reads; not a database or a .git folder that may sit in the project folder.
    cpSync(projectDir, copy, { recursive: true, filter: (source) => !SKIPPED_IN_COPY.test(source) });
    for (const change of plan.changes) writeFileSync(path.join(copy, change.file), change.text);
    return validateProject(copy, { env }).findings.filter(
      (f) => f.severity === 'error' && !before.has(findingId(f)),
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Each file is written whole to a temp name beside it and renamed over, so none is ever half written. */
function writeChanges(projectDir: string, plan: AddSourcePlan): void {
  for (const change of plan.changes.filter((c) => c.changed)) {
    const target = path.join(projectDir, change.file);
    const temp = `${target}.add-source-${process.pid}`;
    writeFileSync(temp, change.text, 'utf8');
    renameSync(temp, target);
  }
}

function summary(name: string, plan: AddSourcePlan, projectDir: string): string {
  const lines = plan.entries.map(
    ({ list, file, entry }) =>
      `added ${name} to ${list} in ${file} (table ${entry.table_name}${entry.incremental_field ? `, incremental_field ${entry.incremental_field}, incremental_field_connector ${entry.incremental_field_connector}` : ', full load'})`,
  );
  const config = plan.changes.at(-1);
  if (config) {
    lines.push(
      config.changed
        ? `wrote ${config.file} (${LOAD_TYPE_NAMES[plan.loadType]} load config)`
        : `kept ${config.file} (already the ${LOAD_TYPE_NAMES[plan.loadType]} load config)`,
    );
  }
  const report = validateProject(projectDir, { env: process.env });
  lines.push(
    `${projectDir}: ${report.ok ? 'valid' : 'invalid'} (${report.errors} error${report.errors === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'})`,
  );
  const first = plan.entries[0]?.list.startsWith('hist') ? 'hist' : 'inc';
  lines.push(
    `next: klaviyo-ingest run ${first} --project ${projectDir} --sources ${plan.entries[0]?.entry.table_name} --start <a day> --end <the day after> (a small window first)`,
  );
  return lines.join('\n');
}

export function registerAddSourceCommand(program: Command): void {
  program
    .command('add-source')
    .description(
      'add a Klaviyo data source to the project: the datasource entry and its load config (the templates\' "Adding New Klaviyo Data Sources"), then validate',
    )
    .argument('<name>', 'the Klaviyo stream (data_source), e.g. flows, segments')
    .option('--table-field <column>', 'incremental_field: the table column the window resumes from')
    .option('--api-field <field>', 'incremental_field_connector: the API field the connector filters on')
    .option('--events-like', 'windowed by start_time/end_time without in.incremental_field (Type 2)', false)
    .option('--full-load', 'no window: read everything every run (Type 3)', false)
    .option('--workflow <which>', 'inc | hist | both: which datasource list gets the entry', 'inc')
    .option('--project <dir>', `project folder (default ${DEFAULT_PROJECT_DIR})`)
    .option('--json', 'print what was added as JSON', false)
    .action((name: string, flags: AddSourceFlags) => {
      const projectDir = flags.project ?? DEFAULT_PROJECT_DIR;
      const workflow = workflowOf(flags.workflow);
      const snapshot = readProjectSnapshot(projectDir, { env: process.env });
      const problem = snapshot.problems[0];
      if (problem) {
        throw configError(
          `the project cannot be read (${problem.code}: ${problem.message}); nothing was written`,
          {
            code: 'PROJECT_INVALID',
            ...(problem.file === undefined ? {} : { file: problem.file }),
            ...(problem.line === undefined ? {} : { line: problem.line }),
            fix: `${problem.fix ?? 'fix it'} (klaviyo-ingest validate ${projectDir} lists every problem)`,
          },
        );
      }
      const plan = planAddDatasource(
        snapshot,
        {
          name,
          tableField: flags.tableField,
          apiField: flags.apiField,
          eventsLike: flags.eventsLike,
          fullLoad: flags.fullLoad,
          workflow,
        },
        LOAD_CONFIGS,
      );
      const errors = newErrors(projectDir, plan);
      const first = errors[0];
      if (first) {
        throw configError(
          `the project would not validate after adding ${name}: ${first.message} [${first.code}]; nothing was written`,
          {
            code: first.code,
            file: first.file,
            ...(first.key === undefined ? {} : { key: first.key }),
            ...(first.line === undefined ? {} : { line: first.line }),
            fix: first.fix,
          },
        );
      }
      writeChanges(projectDir, plan);
      if (flags.json) {
        const report = validateProject(projectDir, { env: process.env });
        const out = {
          ok: true,
          loadType: plan.loadType,
          entries: plan.entries,
          written: plan.changes.filter((c) => c.changed).map((c) => c.file),
          validation: report,
        };
        process.stdout.write(`${redact(JSON.stringify(out, null, 2))}\n`);
      } else {
        process.stdout.write(`${redact(summary(name, plan, projectDir))}\n`);
      }
    });
}
