// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workflowRules } from '../../../src/project/validation/workflows.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { lineOf, type RuleCase, ruleFindings, testRuleCases } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const INC = 'klaviyo_ingest_inc.dig';
const HIST = 'klaviyo_ingest_hist.dig';
const LOOP = '+load_incremental_data';

const TZ_FIX = 'Write "timezone: UTC" at the top of the file.';
const TOO_HIGH_FIX = 'Set _parallel.limit to 3 or less.';
const SUCCESS_TASK =
  "    +log_ingestion_success:\n      td>: sql/log_ingestion_success.sql\n      database: ${databases.src}\n      source_name: '${datasource.table_name}'\n      workflow_name: '${datasource.workflow_name}'\n      table_name: ${datasource.table_name}\n\n";

/** Each case: a fresh project, these edits, exactly these findings. */
const CASES: RuleCase[] = [
  { name: 'find nothing in the project init writes', edits: [], findings: [] },
  {
    name: 'TIMEZONE: another zone is an error, at its line',
    edits: [{ file: INC, from: 'timezone: UTC', to: 'timezone: Asia/Tokyo' }],
    findings: [
      {
        file: INC,
        at: 'timezone: Asia/Tokyo',
        code: 'TIMEZONE',
        key: 'timezone',
        message: 'timezone is Asia/Tokyo; the Klaviyo windows are UTC',
        fix: TZ_FIX,
      },
    ],
  },
  {
    name: "PARALLEL_LIMIT_TOO_HIGH above 3 (the templates' limit), at the limit's line",
    edits: [{ file: INC, from: 'limit: 3', to: 'limit: 4' }],
    findings: [
      {
        file: INC,
        at: 'limit: 4',
        code: 'PARALLEL_LIMIT_TOO_HIGH',
        key: `${LOOP}._parallel.limit`,
        message: '_parallel.limit is 4; at most 3 sources may load at once',
        fix: TOO_HIGH_FIX,
      },
    ],
  },
  {
    name: 'a _parallel.limit of 1 is fine',
    edits: [{ file: INC, from: 'limit: 3', to: 'limit: 1' }],
    findings: [],
  },
  {
    name: 'PARALLEL_LIMIT_MISSING points at the loop task',
    edits: [{ file: INC, from: '  _parallel:\n    limit: 3\n', to: '' }],
    findings: [
      {
        file: INC,
        at: `${LOOP}:`,
        code: 'PARALLEL_LIMIT_MISSING',
        key: `${LOOP}._parallel.limit`,
        message: "+load_incremental_data has no _parallel.limit (needed to respect Klaviyo's rate limits)",
        fix: 'Add "_parallel:\\n    limit: 3" to +load_incremental_data.',
      },
    ],
  },
  {
    name: 'DATASOURCE_LIST_MISSING: the loop iterates a list nothing defines',
    edits: [{ file: HIST, from: '${hist_datasources}', to: '${old_datasources}' }],
    findings: [
      {
        file: HIST,
        at: 'datasource: ${old_datasources}',
        code: 'DATASOURCE_LIST_MISSING',
        key: `${LOOP}.for_each>.datasource`,
        message: 'for_each> iterates ${old_datasources}, which no _export or !include defines',
        fix: 'Define old_datasources in config/klaviyo_datasources.yml and !include it in _export.',
      },
    ],
  },
  {
    name: 'LOAD_TASK_MISSING: no td_load> in the loop',
    edits: [
      {
        file: INC,
        from: '    +load_incremental:\n      td_load>: config/${datasource.config_file}\n      database: ${databases.src}\n      table: ${datasource.table_name}\n',
        to: '',
      },
    ],
    findings: [
      {
        file: INC,
        at: '  _do:',
        code: 'LOAD_TASK_MISSING',
        key: `${LOOP}._do`,
        message: '+load_incremental_data has no td_load> task',
        fix: 'Add "+load_incremental:\\n  td_load>: config/${datasource.config_file}" to _do.',
      },
    ],
  },
  {
    name: 'LOGGING_MISSING: no success logging task in the loop',
    edits: [{ file: INC, from: SUCCESS_TASK, to: '' }],
    findings: [
      {
        file: INC,
        at: '  _do:',
        code: 'LOGGING_MISSING',
        key: `${LOOP}._do`,
        message: 'no success logging task (td>: sql/log_ingestion_success.sql)',
        fix: 'Add the +log_ingestion_success task of the template (td>: sql/log_ingestion_success.sql).',
      },
    ],
  },
];

describe('workflow rules', () => {
  testRuleCases(workflowRules, CASES);

  it('TIMEZONE: none at all is a warning', () => {
    const none = editedProject(INC, 'timezone: UTC\n', '');
    expect(ruleFindings(workflowRules, none)).toEqual([
      expect.objectContaining({
        code: 'TIMEZONE',
        severity: 'warning',
        file: INC,
        key: 'timezone',
        message: 'timezone is not set (Digdag defaults to UTC; the templates write it)',
        fix: TZ_FIX,
      }),
    ]);
  });

  it('FOR_EACH_MISSING: a workflow without the loop still needs its error logging', () => {
    const dir = freshProject();
    edit(dir, INC, (t) => t.slice(0, t.indexOf(`${LOOP}:`)) + t.slice(t.indexOf('_error:')));
    expect(ruleFindings(workflowRules, dir)).toEqual([
      {
        code: 'FOR_EACH_MISSING',
        severity: 'error',
        file: INC,
        message: 'no for_each> task iterating the datasources',
        fix: 'Add the +load_incremental_data task of the template (for_each>: datasource: ${inc_datasources}).',
      },
    ]);
  });

  it('LOGGING_SQL_MISSING: a logging task runs a file that is not there (both workflows)', () => {
    const dir = freshProject();
    rmSync(path.join(dir, 'sql/log_ingestion_error.sql'));
    const finding = (file: string) => ({
      code: 'LOGGING_SQL_MISSING',
      severity: 'error',
      file,
      line: lineOf(dir, file, 'td>: sql/log_ingestion_error.sql'),
      key: '_error.+log_ingestion_error.td>',
      message: '+log_ingestion_error runs sql/log_ingestion_error.sql, which does not exist',
      fix: 'Create sql/log_ingestion_error.sql (klaviyo-ingest init writes it).',
    });
    expect(ruleFindings(workflowRules, dir)).toEqual([finding(HIST), finding(INC)]);
  });
});
