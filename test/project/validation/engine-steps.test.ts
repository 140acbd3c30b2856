// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
/**
 * Project edits that do not take effect (the engine does the templates' built-in steps itself) are
 * warnings with the file, the line of the edit, and what does take effect; the edits that do take
 * effect (td_load> path, _error's names and message, comments and blanks) bring nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { engineStepRules, firstSqlDifference } from '../../../src/project/validation/engine-steps.js';
import { LOG_SUCCESS_SQL } from '../../../src/scaffold/index.js';
import { DEMO_API_KEY } from '../../../src/simulator/index.js';
import { runCli } from '../../support/cli-in-process.js';
import { edit, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { lineOf, ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const INC = 'klaviyo_ingest_inc.dig';
const HIST = 'klaviyo_ingest_hist.dig';
const SUCCESS_SQL = 'sql/log_ingestion_success.sql';

function findingsAfter(edits: [string, (text: string) => string][]) {
  const dir = freshProject();
  for (const [file, change] of edits) edit(dir, file, change);
  return { dir, found: ruleFindings(engineStepRules, dir) };
}

describe('engine-step rules', () => {
  it('find nothing in the project init writes, nor after edits that take effect or change nothing', () => {
    expect(ruleFindings(engineStepRules, freshProject())).toEqual([]);
    const { found } = findingsAfter([
      [
        SUCCESS_SQL,
        (t) => t.replace('-- One SUCCESS row', '-- Our SUCCESS row').replace('  0 AS', '      0 AS'),
      ],
      [
        INC,
        (t) =>
          t.replace(
            'td_load>: config/${datasource.config_file}',
            'td_load>: config/x_${datasource.config_file}',
          ),
      ],
      [
        INC,
        (t) =>
          t.replace(
            "error_message: 'klaviyo ingestion failed. check klaviyo_ingest'",
            "error_message: 'nightly load failed'",
          ),
      ],
      [HIST, (t) => t.replace('CREATE TABLE IF NOT EXISTS', 'CREATE   TABLE IF NOT EXISTS')],
    ]);
    expect(found).toEqual([]);
  });

  it("SQL_EDIT_NOT_APPLIED: 'DONE' AS status in log_ingestion_success.sql, at its line", () => {
    const { dir, found } = findingsAfter([
      [SUCCESS_SQL, (t) => t.replace("'SUCCESS' AS status", "'DONE' AS status")],
    ]);
    expect(found).toEqual([
      expect.objectContaining({
        code: 'SQL_EDIT_NOT_APPLIED',
        severity: 'warning',
        file: SUCCESS_SQL,
        line: lineOf(dir, SUCCESS_SQL, "'DONE' AS status"),
        message: expect.stringContaining('writes the ingestion_log rows itself'),
        fix: expect.stringContaining('restore the template text'),
      }),
    ]);
    expect(found[0]?.message).toContain("('DONE' AS status,)");
  });

  it('DIG_TASK_EDIT_NOT_APPLIED: the load table, a setup query, a log task param and _error database, each at the edited key', () => {
    const { dir, found } = findingsAfter([
      [INC, (t) => t.replace('      table: ${datasource.table_name}', '      table: klaviyo_other')],
      [INC, (t) => t.replace("'${datasource.default_start_time}'", "'2020-01-01T00:00:00.000000'")],
      [HIST, (t) => t.replace("source_name: '${datasource.table_name}'", "source_name: 'hist'")],
      [
        HIST,
        (t) =>
          t.replace(
            "    database: ${databases.src}\n    source_name: 'klaviyo'",
            "    database: audit\n    source_name: 'klaviyo'",
          ),
      ],
    ]);
    const at = (file: string, text: string) => ({ file, line: lineOf(dir, file, text) });
    const byPlace = (a: { file: string; line?: number }, b: { file: string; line?: number }) =>
      a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1;
    expect(
      found.map((f) => ({ code: f.code, file: f.file, line: f.line, key: f.key })).sort(byPlace),
    ).toEqual(
      [
        {
          code: 'DIG_TASK_EDIT_NOT_APPLIED',
          // A multi-line value is reported at its key.
          file: INC,
          line: lineOf(dir, INC, 'query: |', 2),
          key: '+load_incremental_data._do.+setup_table_and_time._do.+get_last_incremental_time.query',
        },
        {
          code: 'DIG_TASK_EDIT_NOT_APPLIED',
          ...at(INC, 'table: klaviyo_other'),
          key: '+load_incremental_data._do.+load_incremental.table',
        },
        {
          code: 'DIG_TASK_EDIT_NOT_APPLIED',
          ...at(HIST, "source_name: 'hist'"),
          key: '+load_incremental_data._do.+log_ingestion_start.source_name',
        },
        {
          code: 'DIG_TASK_EDIT_NOT_APPLIED',
          ...at(HIST, 'database: audit'),
          key: '_error.+log_ingestion_error.database',
        },
      ].sort(byPlace),
    );
    expect(found.every((f) => f.severity === 'warning')).toBe(true);
    expect(found.find((f) => f.key?.endsWith('.table'))?.message).toContain(
      'always table ${datasource.table_name} in ${databases.src}',
    );
    expect(found[0]?.fix).toContain('the td_load> config path');
  });

  it('DIG_TASK_NOT_RUN and DIG_KEY_NOT_APPLIED: added tasks, schedule:', () => {
    const { dir, found } = findingsAfter([
      [
        INC,
        (t) =>
          t.replace(
            '    +log_ingestion_success:',
            '    +refresh_views:\n      td>: sql/views.sql\n\n    +log_ingestion_success:',
          ),
      ],
      [
        INC,
        (t) =>
          t.replace(
            '\n_error:',
            '\nschedule:\n  daily>: 07:00:00\n\n+notify:\n  sh>: ./notify.sh\n\n_error:',
          ),
      ],
    ]);
    expect(found.map((f) => [f.code, f.line, f.key]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      ['DIG_TASK_NOT_RUN', lineOf(dir, INC, '+refresh_views:'), '+load_incremental_data._do.+refresh_views'],
      ['DIG_KEY_NOT_APPLIED', lineOf(dir, INC, 'schedule:'), 'schedule'],
      ['DIG_TASK_NOT_RUN', lineOf(dir, INC, '+notify:'), '+notify'],
    ]);
    expect(found.find((f) => f.code === 'DIG_KEY_NOT_APPLIED')?.fix).toContain('--every/--cron');
  });

  it('firstSqlDifference: the first differing line of the file, comments and blanks aside', () => {
    expect(firstSqlDifference(LOG_SUCCESS_SQL, LOG_SUCCESS_SQL)).toBeNull();
    expect(firstSqlDifference(`${LOG_SUCCESS_SQL}\n-- trailing note\n`, LOG_SUCCESS_SQL)).toBeNull();
    expect(firstSqlDifference(`${LOG_SUCCESS_SQL}SELECT 1;\n`, LOG_SUCCESS_SQL)).toBe(
      LOG_SUCCESS_SQL.split('\n').length,
    );
  });

  it('run prints the warnings before it starts', async () => {
    const dir = freshProject();
    edit(dir, SUCCESS_SQL, (t) => t.replace("'SUCCESS' AS status", "'DONE' AS status"));
    const result = await runCli(
      [
        'run',
        'inc',
        '--project',
        dir,
        '--dry-run',
        '--destination',
        `duckdb:${dir}/none.duckdb`,
        '--sources',
        'lists',
      ],
      { KLAVIYO_API_KEY: DEMO_API_KEY },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`warning: SQL_EDIT_NOT_APPLIED ${SUCCESS_SQL}:`);
  });
});
