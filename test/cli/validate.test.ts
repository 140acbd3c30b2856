// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Digdag ${...} syntax on purpose
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOAD_CONFIG_METRICS } from '../../src/scaffold/index.js';
import { runCli } from '../support/cli-in-process.js';
import { edit, freshProject } from '../support/project.js';
import { cleanupTempDirs, tempDir } from '../support/temp-dirs.js';

afterAll(cleanupTempDirs);

interface JsonFinding {
  code: string;
  severity: string;
  file: string;
  line?: number;
  key?: string;
  message: string;
  fix: string;
}
interface JsonReport {
  ok: boolean;
  errors: number;
  warnings: number;
  findings: JsonFinding[];
}

async function validateJson(dir: string): Promise<{ code: number; report: JsonReport; stdout: string }> {
  const result = await runCli(['validate', dir, '--json']);
  return { code: result.code, report: JSON.parse(result.stdout) as JsonReport, stdout: result.stdout };
}

const DS = 'config/klaviyo_datasources.yml';
const INC = 'klaviyo_ingest_inc.dig';

interface Case {
  code: string;
  break: (dir: string) => void;
  file: string;
  key?: string;
  message: string;
}

const replace = (rel: string, from: string, to: string) => (dir: string) =>
  edit(dir, rel, (t) => t.replace(from, to));

const cases: Case[] = [
  {
    code: 'TIME_FORMAT',
    break: replace(
      DS,
      'default_start_time: "2025-09-01T00:00:00.000000"',
      'default_start_time: "2025-09-01T00:00:00Z"',
    ),
    file: DS,
    key: 'inc_datasources[0].default_start_time',
    message: 'default_start_time "2025-09-01T00:00:00Z" has a zone suffix ("Invalid timestamp format")',
  },
  {
    code: 'TIME_FORMAT',
    break: replace(
      'config/hist_date_ranges.yml',
      'end_time: "2023-10-01T00:00:00.000000"',
      'end_time: "2023-10-01 00:00:00.000000"',
    ),
    file: 'config/hist_date_ranges.yml',
    key: 'date_ranges[0].end_time',
    message: 'end_time "2023-10-01 00:00:00.000000" lacks the \'T\' separator ("Invalid timestamp format")',
  },
  {
    code: 'TIME_FORMAT',
    break: replace(
      'config/hist_date_ranges.yml',
      'start_time: "2023-09-01T00:00:00.000000"',
      'start_time: "2023-09-01T00:00:00.000"',
    ),
    file: 'config/hist_date_ranges.yml',
    key: 'date_ranges[0].start_time',
    message: 'start_time "2023-09-01T00:00:00.000" does not have 6 decimals ("Invalid timestamp format")',
  },
  {
    code: 'DATE_RANGE_ORDER',
    break: replace(
      'config/hist_date_ranges.yml',
      'end_time: "2023-10-01T00:00:00.000000"',
      'end_time: "2023-08-01T00:00:00.000000"',
    ),
    file: 'config/hist_date_ranges.yml',
    key: 'date_ranges[0]',
    message: 'start_time 2023-09-01T00:00:00.000000 is not before end_time 2023-08-01T00:00:00.000000',
  },
  {
    code: 'LOAD_TYPE',
    break: replace('config/klaviyo_events_load.yml', '  type: klaviyo\n', '  type: klaviyoo\n'),
    file: 'config/klaviyo_events_load.yml',
    key: 'in.type',
    message: 'in.type is "klaviyoo"; klaviyo-ingest runs in.type: klaviyo loads only',
  },
  {
    code: 'LOAD_TYPE',
    break: replace('config/klaviyo_profiles_load.yml', '  type: klaviyo\n', ''),
    file: 'config/klaviyo_profiles_load.yml',
    key: 'in.type',
    message: 'load config sets no in.type; klaviyo-ingest runs in.type: klaviyo loads only',
  },
  {
    code: 'LOAD_USES_TABLE_FIELD',
    break: replace(
      'config/klaviyo_profiles_load.yml',
      '${datasource.incremental_field_connector}',
      '${datasource.incremental_field}',
    ),
    file: 'config/klaviyo_profiles_load.yml',
    key: 'in.incremental_field',
    message: 'load config passes ${datasource.incremental_field} (the table column) as in.incremental_field',
  },
  {
    code: 'UNKNOWN_INCREMENTAL_FIELD',
    break: replace(
      DS,
      'incremental_field_connector: updated\n    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: append\n\n  - name: lists',
      'incremental_field_connector: updated_at\n    default_start_time: "2025-09-01T00:00:00.000000"\n    workflow_name: klaviyo_ingest.dig\n    mode: append\n\n  - name: lists',
    ),
    file: DS,
    key: 'inc_datasources[2].incremental_field_connector',
    message:
      'Unknown incremental field "updated_at" for data source campaigns: the connector takes updated, created, scheduled',
  },
  {
    code: 'CAMPAIGNS_TABLE_FIELD',
    break: replace(DS, 'incremental_field: updated_at\n', 'incremental_field: updated\n'),
    file: DS,
    key: 'inc_datasources[2].incremental_field',
    message:
      'campaigns table field must be "updated_at" (with _at) for connector field "updated", not "updated"',
  },
  {
    code: 'TABLE_FIELD_MISMATCH',
    break: replace(DS, 'incremental_field: datetime\n', 'incremental_field: event_time\n'),
    file: DS,
    key: 'hist_datasources[0].incremental_field',
    message:
      'table field "event_time" does not match the column "datetime" that connector field "datetime" fills',
  },
  {
    code: 'EVENTS_SKIP_RELATED',
    break: replace('config/klaviyo_events_load.yml', '  skip_related_objects: true\n', ''),
    file: 'config/klaviyo_events_load.yml',
    key: 'in.skip_related_objects',
    message: 'events load config must set in.skip_related_objects: true',
  },
  {
    code: 'EVENTS_INCREMENTAL_FIELD',
    break: replace(
      'config/klaviyo_events_load.yml',
      '  end_time: ${td.last_results.end_time}\n',
      '  end_time: ${td.last_results.end_time}\n  incremental_field: ${datasource.incremental_field_connector}\n',
    ),
    file: 'config/klaviyo_events_load.yml',
    key: 'in.incremental_field',
    message:
      'events load config must not pass in.incremental_field (events are windowed by start_time/end_time)',
  },
  {
    code: 'METRICS_INCREMENTAL',
    break: replace(
      'config/klaviyo_metric_data_load.yml',
      '  td_authentication_id: 360030\n',
      '  td_authentication_id: 360030\n  incremental: true\n',
    ),
    file: 'config/klaviyo_metric_data_load.yml',
    key: 'in.incremental',
    message: 'metrics is a full load: the load config must not set in.incremental',
  },
  {
    code: 'METRICS_INCREMENTAL',
    break: replace(
      DS,
      'incremental_field:\n    incremental_field_connector:\n',
      'incremental_field: updated\n    incremental_field_connector: updated\n',
    ),
    file: DS,
    key: 'inc_datasources[5].incremental_field',
    message: 'metrics is a full load: datasource klaviyo_metric_data must leave incremental_field empty',
  },
  {
    code: 'LOAD_NOT_INCREMENTAL',
    break: (dir) => writeFileSync(path.join(dir, 'config/klaviyo_lists_load.yml'), LOAD_CONFIG_METRICS),
    file: 'config/klaviyo_lists_load.yml',
    key: 'in.incremental_field',
    message:
      'datasource klaviyo_lists is incremental but config/klaviyo_lists_load.yml passes no in.incremental_field',
  },
  {
    code: 'INCREMENTAL_FIELD_PAIR',
    break: replace(
      DS,
      'incremental_field: created\n    incremental_field_connector: created\n',
      'incremental_field: created\n    incremental_field_connector:\n',
    ),
    file: DS,
    key: 'hist_datasources[1].incremental_field_connector',
    message: 'datasource templates sets incremental_field but not incremental_field_connector',
  },
  {
    code: 'PARALLEL_LIMIT_MISSING',
    break: replace(INC, '  _parallel:\n    limit: 3\n', ''),
    file: INC,
    key: '+load_incremental_data._parallel.limit',
    message: "+load_incremental_data has no _parallel.limit (needed to respect Klaviyo's rate limits)",
  },
  {
    code: 'PARALLEL_LIMIT_TOO_HIGH',
    break: replace(INC, 'limit: 3', 'limit: 10'),
    file: INC,
    key: '+load_incremental_data._parallel.limit',
    message: '_parallel.limit is 10; at most 3 sources may load at once',
  },
  {
    code: 'TIMEZONE',
    break: replace(INC, 'timezone: UTC', 'timezone: Asia/Tokyo'),
    file: INC,
    key: 'timezone',
    message: 'timezone is Asia/Tokyo; the Klaviyo windows are UTC',
  },
  {
    code: 'LOGGING_MISSING',
    break: replace(
      INC,
      "    +log_ingestion_success:\n      td>: sql/log_ingestion_success.sql\n      database: ${databases.src}\n      source_name: '${datasource.table_name}'\n      workflow_name: '${datasource.workflow_name}'\n      table_name: ${datasource.table_name}\n",
      '',
    ),
    file: INC,
    key: '+load_incremental_data._do',
    message: 'no success logging task (td>: sql/log_ingestion_success.sql)',
  },
  {
    code: 'LOAD_TASK_MISSING',
    break: replace(
      INC,
      '    +load_incremental:\n      td_load>: config/${datasource.config_file}\n      database: ${databases.src}\n      table: ${datasource.table_name}\n',
      '',
    ),
    file: INC,
    key: '+load_incremental_data._do',
    message: '+load_incremental_data has no td_load> task',
  },
  {
    code: 'BAD_LOOKBACK',
    break: replace(DS, 'table_name: klaviyo_events\n', 'table_name: klaviyo_events\n    lookback: a week\n'),
    file: DS,
    key: 'inc_datasources[0].lookback',
    message: 'lookback "a week" of datasource events is not a duration',
  },
  {
    code: 'LOGGING_SQL_MISSING',
    break: (dir) => rmSync(path.join(dir, 'sql/log_ingestion_error.sql')),
    file: INC,
    key: '_error.+log_ingestion_error.td>',
    message: '+log_ingestion_error runs sql/log_ingestion_error.sql, which does not exist',
  },
  {
    code: 'UNKNOWN_DATA_SOURCE',
    break: replace(DS, '  - name: metrics', '  - name: metric'),
    file: DS,
    key: 'inc_datasources[5].name',
    message: 'data_source "metric" (datasource klaviyo_metric_data) is not a Klaviyo data source',
  },
  {
    code: 'CONFIG_FILE_MISSING',
    break: (dir) => rmSync(path.join(dir, 'config/klaviyo_lists_load.yml')),
    file: DS,
    key: 'inc_datasources[3].config_file',
    message:
      'config_file klaviyo_lists_load.yml of datasource lists: config/klaviyo_lists_load.yml does not exist',
  },
  {
    code: 'UNSAFE_TABLE_NAME',
    break: replace(DS, 'table_name: klaviyo_events\n', 'table_name: "klaviyo_events; DROP TABLE x"\n'),
    file: DS,
    key: 'inc_datasources[0].table_name',
    message: 'table_name "klaviyo_events; DROP TABLE x" is not a safe identifier',
  },
  {
    code: 'UNSAFE_IDENTIFIER',
    break: replace('config/database.yml', 'src: klaviyo_src', 'src: "klaviyo src"'),
    file: 'config/database.yml',
    key: 'databases.src',
    message: 'database name "klaviyo src" is not a safe identifier',
  },
  {
    code: 'UNKNOWN_OUT_MODE',
    break: replace(DS, 'mode: append', 'mode: upsert'),
    file: DS,
    key: 'hist_datasources[0].mode',
    message: 'mode "upsert" of datasource events is not one of append, replace, merge, snapshot',
  },
  {
    code: 'API_KEY_IN_PROJECT',
    break: (dir) => edit(dir, 'config/database.yml', (t) => `${t}# pk_abcdefghijklmnopqrstuvwx123\n`),
    file: 'config/database.yml',
    message: 'config/database.yml contains a Klaviyo API key (value hidden)',
  },
  {
    code: 'CREDENTIALS_NOT_IGNORED',
    break: (dir) => {
      rmSync(path.join(dir, '.gitignore'));
      writeFileSync(
        path.join(dir, 'credentials_ingestion.json'),
        '{"klaviyo_api_token": "not-a-real-key-0001"}',
        { mode: 0o600 },
      );
    },
    file: 'credentials_ingestion.json',
    message: 'credentials_ingestion.json is not ignored by a .gitignore in the project or its parent folder',
  },
  {
    code: 'DATASOURCE_LIST_MISSING',
    break: replace('klaviyo_ingest_hist.dig', '${hist_datasources}', '${old_datasources}'),
    file: 'klaviyo_ingest_hist.dig',
    key: '+load_incremental_data.for_each>.datasource',
    message: 'for_each> iterates ${old_datasources}, which no _export or !include defines',
  },
];

describe('klaviyo-ingest validate', () => {
  it('finds the project written by init clean (exit 0, no findings)', async () => {
    const dir = freshProject();
    const human = await runCli(['validate', dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`${dir}: valid (0 errors, 0 warnings)\n`);
    const { code, report } = await validateJson(dir);
    expect(code).toBe(0);
    expect(report).toEqual({ ok: true, errors: 0, warnings: 0, findings: [] });
  });

  it('accepts a git-ignored, private credentials file', async () => {
    const dir = freshProject();
    writeFileSync(
      path.join(dir, 'credentials_ingestion.json'),
      '{"klaviyo_api_token": "pk_abcdefghijklmnopqrstuvwx123"}',
      {
        mode: 0o600,
      },
    );
    chmodSync(path.join(dir, 'credentials_ingestion.json'), 0o600);
    const { code, report } = await validateJson(dir);
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
  });

  it.each(cases.map((c) => [c.code, c] as const))('reports %s', async (_code, c) => {
    const dir = freshProject();
    c.break(dir);
    const { code, report, stdout } = await validateJson(dir);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    const found = report.findings.find(
      (f) => f.code === c.code && f.message === c.message && f.file === c.file && (!c.key || f.key === c.key),
    );
    expect(found, `findings: ${stdout}`).toBeDefined();
    expect(found!.severity).toBe('error');
    expect(found!.file).toBe(c.file);
    if (c.key) expect(found!.key).toBe(c.key);
    expect(found!.fix.length).toBeGreaterThan(10);
    expect(stdout).not.toContain('pk_abcdefghijklmnopqrstuvwx123');
  });

  it('names the file, line, key and fix of an in.type other than klaviyo', async () => {
    const dir = freshProject();
    edit(dir, 'config/klaviyo_events_load.yml', (t) => t.replace('  type: klaviyo\n', '  type: klaviyoo\n'));
    const { code, report } = await validateJson(dir);
    expect(code).toBe(1);
    // The events config serves inc and hist datasources alike: one finding, not one per datasource.
    expect(report.findings).toEqual([
      {
        code: 'LOAD_TYPE',
        severity: 'error',
        file: 'config/klaviyo_events_load.yml',
        line: 2,
        key: 'in.type',
        message: 'in.type is "klaviyoo"; klaviyo-ingest runs in.type: klaviyo loads only',
        fix: 'Set in.type: klaviyo in config/klaviyo_events_load.yml.',
      },
    ]);
  });

  it('names file and line for a YAML syntax error (exit 1)', async () => {
    const dir = freshProject();
    edit(dir, DS, (t) =>
      t.replace(
        '  - name: lists\n    table_name: klaviyo_lists_hist',
        '  - name: lists\n   table_name: [klaviyo_lists_hist',
      ),
    );
    const { code, report } = await validateJson(dir);
    expect(code).toBe(1);
    const syntax = report.findings.find((f) => f.code === 'YAML_SYNTAX');
    expect(syntax?.file).toBe(DS);
    expect(syntax?.line).toBe(30);
  });

  it('reports a missing included file', async () => {
    const dir = freshProject();
    rmSync(path.join(dir, 'config/database.yml'));
    const { code, report } = await validateJson(dir);
    expect(code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        code: 'FILE_MISSING',
        file: 'config/database.yml',
        message: 'file not found',
      }),
    );
  });

  it('finds a klaviyo_api_token value from the credentials file written elsewhere, without printing it', async () => {
    const dir = freshProject();
    const secret = 'my-very-secret-token-42';
    writeFileSync(
      path.join(dir, 'credentials_ingestion.json'),
      JSON.stringify({ klaviyo_api_token: secret }),
      { mode: 0o600 },
    );
    edit(dir, INC, (t) => `# token ${secret}\n${t}`);
    const human = await runCli(['validate', dir]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      `error API_KEY_IN_PROJECT ${INC}:1 — ${INC} contains a Klaviyo API key (value hidden)`,
    );
    expect(human.stdout + human.stderr).not.toContain(secret);
  });

  it('warns (exit 0) when the credentials file is readable by others', async () => {
    const dir = freshProject();
    const file = path.join(dir, 'credentials_ingestion.json');
    writeFileSync(file, '{"klaviyo_api_token": "not-a-real-key-0002"}');
    chmodSync(file, 0o644);
    const { code, report } = await validateJson(dir);
    expect(code).toBe(0);
    expect(report.warnings).toBe(1);
    expect(report.findings[0]).toMatchObject({ code: 'CREDENTIALS_PERMISSIONS', severity: 'warning' });
  });

  it('prints one human line per finding and a summary', async () => {
    const dir = freshProject();
    edit(dir, INC, (t) => t.replace('limit: 3', 'limit: 10'));
    const result = await runCli(['validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `error PARALLEL_LIMIT_TOO_HIGH ${INC}:10 +load_incremental_data._parallel.limit — _parallel.limit is 10; ` +
        'at most 3 sources may load at once (fix: Set _parallel.limit to 3 or less.)\n' +
        `${dir}: invalid (1 error, 0 warnings)\n`,
    );
  });

  it('exits 2 when the folder is not a project', async () => {
    const empty = tempDir();
    const result = await runCli(['validate', empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('holds no .dig workflow files');
    const missing = await runCli(['validate', path.join(empty, 'nope'), '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      ok: false,
      findings: [{ code: 'PROJECT_NOT_FOUND' }],
    });
  });
});
