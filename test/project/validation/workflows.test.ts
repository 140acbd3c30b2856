// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workflowRules } from '../../../src/project/validation/workflows.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { findingAt, lineOf, ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const INC = 'klaviyo_ingest_inc.dig';
const LOOP = '+load_incremental_data';

describe('workflow rules', () => {
  it('find nothing in the project init writes', () => {
    expect(ruleFindings(workflowRules, freshProject())).toEqual([]);
  });

  it('TIMEZONE: another zone is an error, none at all a warning', () => {
    const tokyo = editedProject(INC, 'timezone: UTC', 'timezone: Asia/Tokyo');
    expect(ruleFindings(workflowRules, tokyo)).toEqual([
      {
        code: 'TIMEZONE',
        severity: 'error',
        file: INC,
        line: 1,
        key: 'timezone',
        message: 'timezone is Asia/Tokyo; the Klaviyo windows are UTC',
        fix: 'Write "timezone: UTC" at the top of the file.',
      },
    ]);
    const none = editedProject(INC, 'timezone: UTC\n', '');
    expect(ruleFindings(workflowRules, none)).toEqual([
      expect.objectContaining({
        code: 'TIMEZONE',
        severity: 'warning',
        file: INC,
        key: 'timezone',
        message: 'timezone is not set (Digdag defaults to UTC; the templates write it)',
      }),
    ]);
  });

  it(`PARALLEL_LIMIT_TOO_HIGH above 3 (the templates' limit), at the limit's line`, () => {
    const dir = editedProject(INC, 'limit: 3', 'limit: 4');
    expect(ruleFindings(workflowRules, dir)).toEqual([
      findingAt(dir, INC, 'limit: 4', {
        code: 'PARALLEL_LIMIT_TOO_HIGH',
        key: `${LOOP}._parallel.limit`,
        message: '_parallel.limit is 4; at most 3 sources may load at once',
        fix: 'Set _parallel.limit to 3 or less.',
      }),
    ]);
    expect(ruleFindings(workflowRules, editedProject(INC, 'limit: 3', 'limit: 1'))).toEqual([]);
  });

  it('PARALLEL_LIMIT_MISSING points at the loop task', () => {
    const dir = editedProject(INC, '  _parallel:\n    limit: 3\n', '');
    expect(ruleFindings(workflowRules, dir)).toEqual([
      findingAt(dir, INC, `${LOOP}:`, {
        code: 'PARALLEL_LIMIT_MISSING',
        key: `${LOOP}._parallel.limit`,
        message: "+load_incremental_data has no _parallel.limit (needed to respect Klaviyo's rate limits)",
        fix: 'Add "_parallel:\\n    limit: 3" to +load_incremental_data.',
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

  it('DATASOURCE_LIST_MISSING: the loop iterates a list nothing defines', () => {
    const dir = freshProject();
    edit(dir, 'klaviyo_ingest_hist.dig', (t) => t.replace('${hist_datasources}', '${old_datasources}'));
    expect(ruleFindings(workflowRules, dir)).toEqual([
      findingAt(dir, 'klaviyo_ingest_hist.dig', 'datasource: ${old_datasources}', {
        code: 'DATASOURCE_LIST_MISSING',
        key: `${LOOP}.for_each>.datasource`,
        message: 'for_each> iterates ${old_datasources}, which no _export or !include defines',
        fix: 'Define old_datasources in config/klaviyo_datasources.yml and !include it in _export.',
      }),
    ]);
  });

  it('LOAD_TASK_MISSING: no td_load> in the loop', () => {
    const dir = editedProject(
      INC,
      '    +load_incremental:\n      td_load>: config/${datasource.config_file}\n      database: ${databases.src}\n      table: ${datasource.table_name}\n',
      '',
    );
    expect(ruleFindings(workflowRules, dir)).toEqual([
      findingAt(dir, INC, '  _do:', {
        code: 'LOAD_TASK_MISSING',
        key: `${LOOP}._do`,
        message: '+load_incremental_data has no td_load> task',
        fix: 'Add "+load_incremental:\\n  td_load>: config/${datasource.config_file}" to _do.',
      }),
    ]);
  });

  it('LOGGING_MISSING: no success logging task in the loop', () => {
    const dir = freshProject();
    edit(dir, INC, (t) => {
      const from = t.indexOf('    +log_ingestion_success:');
      return t.slice(0, from) + t.slice(t.indexOf('_error:'));
    });
    expect(ruleFindings(workflowRules, dir)).toEqual([
      findingAt(dir, INC, '  _do:', {
        code: 'LOGGING_MISSING',
        key: `${LOOP}._do`,
        message: 'no success logging task (td>: sql/log_ingestion_success.sql)',
        fix: 'Add the +log_ingestion_success task of the template (td>: sql/log_ingestion_success.sql).',
      }),
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
    expect(ruleFindings(workflowRules, dir)).toEqual([finding('klaviyo_ingest_hist.dig'), finding(INC)]);
  });
});
