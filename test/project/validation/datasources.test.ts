import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasourceRules } from '../../../src/project/validation/datasources.js';
import { freshProject } from '../../support/project.js';
import { cleanupTempDirs } from '../../support/temp-dirs.js';
import { findingAt, type RuleCase, ruleFindings, testRuleCases } from '../../support/validation.js';

afterAll(cleanupTempDirs);

const DS = 'config/klaviyo_datasources.yml';
const INC_EVENTS = 'table_name: klaviyo_events\n';
const TABLE_NAME_FIX =
  'Use letters, digits and underscores only, starting with a letter or underscore, at most 63 characters (e.g. klaviyo_events).';
const EVENTS_FIELD =
  'table_name: klaviyo_events\n    config_file: klaviyo_events_load.yml\n    incremental_field:';
const TEMPLATES_FIELDS = 'incremental_field: created\n    incremental_field_connector: created\n';
const PAIR_FIX =
  'Set both (table column and API field) for an incremental source, or leave both empty for a full load.';
const NAME_63 = `t${'x'.repeat(62)}`;
const NAME_64 = `t${'x'.repeat(63)}`;

/** Each case: a fresh project, these edits, exactly these findings. */
const CASES: RuleCase[] = [
  { name: 'find nothing in the project init writes', edits: [], findings: [] },
  {
    name: 'UNSAFE_TABLE_NAME: a table name that is not a plain identifier',
    edits: [{ file: DS, from: INC_EVENTS, to: 'table_name: "klaviyo_events; DROP TABLE x"\n' }],
    findings: [
      {
        file: DS,
        at: 'table_name: "klaviyo_events; DROP',
        code: 'UNSAFE_TABLE_NAME',
        key: 'inc_datasources[0].table_name',
        message: 'table_name "klaviyo_events; DROP TABLE x" is not a safe identifier',
        fix: TABLE_NAME_FIX,
      },
    ],
  },
  {
    name: 'a table name of 63 characters is safe',
    edits: [{ file: DS, from: INC_EVENTS, to: `table_name: ${NAME_63}\n` }],
    findings: [],
  },
  {
    name: 'UNSAFE_TABLE_NAME: a table name of 64 characters',
    edits: [{ file: DS, from: INC_EVENTS, to: `table_name: ${NAME_64}\n` }],
    findings: [
      {
        file: DS,
        at: `table_name: ${NAME_64}`,
        code: 'UNSAFE_TABLE_NAME',
        key: 'inc_datasources[0].table_name',
        message: `table_name "${NAME_64}" is not a safe identifier`,
        fix: TABLE_NAME_FIX,
      },
    ],
  },
  {
    name: 'UNSAFE_IDENTIFIER: an incremental_field that is not a plain column name',
    edits: [{ file: DS, from: `${EVENTS_FIELD} datetime\n`, to: `${EVENTS_FIELD} "date time"\n` }],
    findings: [
      {
        file: DS,
        at: 'incremental_field: "date time"',
        code: 'UNSAFE_IDENTIFIER',
        key: 'inc_datasources[0].incremental_field',
        message: 'incremental_field "date time" is not a safe column name',
        fix: 'Use the table column name: letters, digits and underscores only (e.g. updated_at).',
      },
    ],
  },
  {
    name: 'UNSAFE_IDENTIFIER: a database name in config/database.yml',
    edits: [{ file: 'config/database.yml', from: 'src: klaviyo_src', to: 'src: "klaviyo src"' }],
    findings: [
      {
        file: 'config/database.yml',
        at: 'src: "klaviyo src"',
        code: 'UNSAFE_IDENTIFIER',
        key: 'databases.src',
        message: 'database name "klaviyo src" is not a safe identifier',
        fix: 'Use letters, digits and underscores only, starting with a letter or underscore (e.g. klaviyo_src).',
      },
    ],
  },
  {
    name: 'UNKNOWN_OUT_MODE: a mode other than append, replace, merge or snapshot',
    edits: [{ file: DS, from: 'mode: append', to: 'mode: upsert' }],
    findings: [
      {
        file: DS,
        at: 'mode: upsert',
        code: 'UNKNOWN_OUT_MODE',
        key: 'hist_datasources[0].mode',
        message: 'mode "upsert" of datasource events is not one of append, replace, merge, snapshot',
        fix: 'Use mode: append (the templates), replace, merge, or snapshot (a full read that marks rows deleted upstream).',
      },
    ],
  },
  {
    name: 'mode: merge is an out mode',
    edits: [{ file: DS, from: 'mode: append', to: 'mode: merge' }],
    findings: [],
  },
  {
    name: 'mode: replace is an out mode',
    edits: [{ file: DS, from: 'mode: append', to: 'mode: replace' }],
    findings: [],
  },
  {
    name: 'BAD_LOOKBACK: a lookback that is not a duration',
    edits: [{ file: DS, from: INC_EVENTS, to: `${INC_EVENTS}    lookback: a week\n` }],
    findings: [
      {
        file: DS,
        at: 'lookback: a week',
        code: 'BAD_LOOKBACK',
        key: 'inc_datasources[0].lookback',
        message: 'lookback "a week" of datasource events is not a duration',
        fix: 'Write a whole number and a unit: 90s, 30m, 12h or 7d.',
      },
    ],
  },
  {
    name: 'a lookback of 12h is a duration',
    edits: [{ file: DS, from: INC_EVENTS, to: `${INC_EVENTS}    lookback: 12h\n` }],
    findings: [],
  },
  {
    name: 'INCREMENTAL_FIELD_PAIR: a table field without the connector field points at the empty one',
    edits: [
      {
        file: DS,
        from: TEMPLATES_FIELDS,
        to: 'incremental_field: created\n    incremental_field_connector:\n',
      },
    ],
    findings: [
      {
        file: DS,
        at: 'incremental_field_connector:\n',
        code: 'INCREMENTAL_FIELD_PAIR',
        key: 'hist_datasources[1].incremental_field_connector',
        message: 'datasource templates sets incremental_field but not incremental_field_connector',
        fix: PAIR_FIX,
      },
    ],
  },
  {
    name: 'INCREMENTAL_FIELD_PAIR: a connector field without the table field points at incremental_field',
    edits: [
      {
        file: DS,
        from: TEMPLATES_FIELDS,
        to: 'incremental_field:\n    incremental_field_connector: created\n',
      },
    ],
    findings: [
      {
        file: DS,
        at: 'incremental_field:\n',
        code: 'INCREMENTAL_FIELD_PAIR',
        key: 'hist_datasources[1].incremental_field',
        message: 'datasource templates sets incremental_field_connector but not incremental_field',
        fix: PAIR_FIX,
      },
    ],
  },
];

describe('datasource rules', () => {
  testRuleCases(datasourceRules, CASES);

  it('CONFIG_FILE_MISSING: every datasource naming the missing load config, hist and inc', () => {
    const dir = freshProject();
    rmSync(path.join(dir, 'config/klaviyo_lists_load.yml'));
    const missing = (nth: number, key: string) =>
      findingAt(
        dir,
        DS,
        { text: 'config_file: klaviyo_lists_load.yml', nth },
        {
          code: 'CONFIG_FILE_MISSING',
          key,
          message:
            'config_file klaviyo_lists_load.yml of datasource lists: config/klaviyo_lists_load.yml does not exist',
          fix: 'Create config/klaviyo_lists_load.yml (klaviyo-ingest init writes the Type 1/2/3 load configs), or fix config_file.',
        },
      );
    expect(ruleFindings(datasourceRules, dir)).toEqual([
      missing(1, 'hist_datasources[3].config_file'),
      missing(2, 'inc_datasources[3].config_file'),
    ]);
  });
});
