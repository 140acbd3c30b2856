import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOOKBACK_FORMAT } from '../../../src/project/lookback.js';
import { datasourceRules } from '../../../src/project/validation/datasources.js';
import { edit, editedProject, freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { findingAt, lineOf, ruleFindings } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const INC_EVENTS = 'table_name: klaviyo_events\n';

describe('datasource rules', () => {
  it('find nothing in the project init writes', () => {
    expect(ruleFindings(datasourceRules, freshProject())).toEqual([]);
  });

  it('UNSAFE_TABLE_NAME: a table name that is not a plain identifier', () => {
    const dir = editedProject(DS, INC_EVENTS, 'table_name: "klaviyo_events; DROP TABLE x"\n');
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, DS, 'table_name: "klaviyo_events; DROP', {
        code: 'UNSAFE_TABLE_NAME',
        key: 'inc_datasources[0].table_name',
        message: 'table_name "klaviyo_events; DROP TABLE x" is not a safe identifier',
        fix: 'Use letters, digits and underscores only, starting with a letter or underscore, at most 63 characters (e.g. klaviyo_events).',
      }),
    ]);
  });

  it('a table name of 63 characters is safe, one of 64 is not', () => {
    const ok = editedProject(DS, INC_EVENTS, `table_name: t${'x'.repeat(62)}\n`);
    expect(ruleFindings(datasourceRules, ok)).toEqual([]);
    const long = editedProject(DS, INC_EVENTS, `table_name: t${'x'.repeat(63)}\n`);
    expect(ruleFindings(datasourceRules, long).map((f) => [f.code, f.key])).toEqual([
      ['UNSAFE_TABLE_NAME', 'inc_datasources[0].table_name'],
    ]);
  });

  it('UNSAFE_IDENTIFIER: an incremental_field that is not a plain column name', () => {
    const dir = editedProject(
      DS,
      'table_name: klaviyo_events\n    config_file: klaviyo_events_load.yml\n    incremental_field: datetime\n',
      'table_name: klaviyo_events\n    config_file: klaviyo_events_load.yml\n    incremental_field: "date time"\n',
    );
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, DS, 'incremental_field: "date time"', {
        code: 'UNSAFE_IDENTIFIER',
        key: 'inc_datasources[0].incremental_field',
        message: 'incremental_field "date time" is not a safe column name',
        fix: 'Use the table column name: letters, digits and underscores only (e.g. updated_at).',
      }),
    ]);
  });

  it('UNSAFE_IDENTIFIER: a database name in config/database.yml', () => {
    const dir = freshProject();
    edit(dir, 'config/database.yml', (t) => t.replace('src: klaviyo_src', 'src: "klaviyo src"'));
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, 'config/database.yml', 'src: "klaviyo src"', {
        code: 'UNSAFE_IDENTIFIER',
        key: 'databases.src',
        message: 'database name "klaviyo src" is not a safe identifier',
        fix: 'Use letters, digits and underscores only, starting with a letter or underscore (e.g. klaviyo_src).',
      }),
    ]);
  });

  it('CONFIG_FILE_MISSING: every datasource naming the missing load config, hist and inc', () => {
    const dir = freshProject();
    rmSync(path.join(dir, 'config/klaviyo_lists_load.yml'));
    const message =
      'config_file klaviyo_lists_load.yml of datasource lists: config/klaviyo_lists_load.yml does not exist';
    const fix =
      'Create config/klaviyo_lists_load.yml (klaviyo-ingest init writes the Type 1/2/3 load configs), or fix config_file.';
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(
        dir,
        DS,
        { text: 'config_file: klaviyo_lists_load.yml', nth: 1 },
        {
          code: 'CONFIG_FILE_MISSING',
          key: 'hist_datasources[3].config_file',
          message,
          fix,
        },
      ),
      findingAt(
        dir,
        DS,
        { text: 'config_file: klaviyo_lists_load.yml', nth: 2 },
        {
          code: 'CONFIG_FILE_MISSING',
          key: 'inc_datasources[3].config_file',
          message,
          fix,
        },
      ),
    ]);
  });

  it('UNKNOWN_OUT_MODE: a mode other than append, replace or merge', () => {
    const dir = editedProject(DS, 'mode: append', 'mode: upsert');
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, DS, 'mode: upsert', {
        code: 'UNKNOWN_OUT_MODE',
        key: 'hist_datasources[0].mode',
        message: 'mode "upsert" of datasource events is not one of append, replace, merge',
        fix: 'Use mode: append (the templates), replace, or merge.',
      }),
    ]);
    expect(ruleFindings(datasourceRules, editedProject(DS, 'mode: append', 'mode: merge'))).toEqual([]);
    expect(ruleFindings(datasourceRules, editedProject(DS, 'mode: append', 'mode: replace'))).toEqual([]);
  });

  it('BAD_LOOKBACK: a lookback that is not a duration; 12h is one', () => {
    const dir = editedProject(DS, INC_EVENTS, `${INC_EVENTS}    lookback: a week\n`);
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, DS, 'lookback: a week', {
        code: 'BAD_LOOKBACK',
        key: 'inc_datasources[0].lookback',
        message: 'lookback "a week" of datasource events is not a duration',
        fix: `Write ${LOOKBACK_FORMAT}.`,
      }),
    ]);
    expect(
      ruleFindings(datasourceRules, editedProject(DS, INC_EVENTS, `${INC_EVENTS}    lookback: 12h\n`)),
    ).toEqual([]);
  });

  it('INCREMENTAL_FIELD_PAIR: a table field without the connector field points at the empty one', () => {
    const dir = editedProject(
      DS,
      'incremental_field: created\n    incremental_field_connector: created\n',
      'incremental_field: created\n    incremental_field_connector:\n',
    );
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      findingAt(dir, DS, 'incremental_field_connector:\n', {
        code: 'INCREMENTAL_FIELD_PAIR',
        key: 'hist_datasources[1].incremental_field_connector',
        message: 'datasource templates sets incremental_field but not incremental_field_connector',
        fix: 'Set both (table column and API field) for an incremental source, or leave both empty for a full load.',
      }),
    ]);
  });

  it('INCREMENTAL_FIELD_PAIR: a connector field without the table field points at incremental_field', () => {
    const dir = editedProject(
      DS,
      'incremental_field: created\n    incremental_field_connector: created\n',
      'incremental_field:\n    incremental_field_connector: created\n',
    );
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      expect.objectContaining({
        code: 'INCREMENTAL_FIELD_PAIR',
        line: lineOf(dir, DS, 'incremental_field:\n'),
        key: 'hist_datasources[1].incremental_field',
        message: 'datasource templates sets incremental_field_connector but not incremental_field',
      }),
    ]);
  });
});
